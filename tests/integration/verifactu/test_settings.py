"""Environment per clinic: test until the clinic admin explicitly enables production (typing
the clinic's NIF, with a certificate uploaded), and production for good after that."""

from __future__ import annotations

from tests.integration.verifactu.conftest import (
    P12_PASSWORD,
    issue_one,
    later,
    run_job,
    upload_cert,
)

TEST_QR = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?"
PRODUCTION_QR = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?"


def _put(b, body):
    return b.api.put("/verifactu/settings", body, token=b.token)


def test_production_stays_locked_until_the_admin_enables_it(billing, pki, stub, clinic):
    from chalicelib.verifactu.models import Submission

    s = billing.get("/verifactu/settings")
    assert s["environment"] == "test" and s["production_locked"] is True
    assert s["production_enabled_at"] is None
    assert s["sistema_informatico"]["NumeroInstalacion"] == clinic.clinic_id
    before = issue_one(billing)
    assert billing.get(f"/verifactu/invoices/{before['invoice_id']}")["qr_url"].startswith(TEST_QR)

    r = _put(billing, {"environment": "production"})
    assert r.status == 422 and r.json()["code"] == "CONFIRMATION_REQUIRED"
    assert "B12345674" in r.json()["message"]
    r = _put(billing, {"environment": "production", "confirmation": "B00000000"})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "confirmation"
    r = _put(billing, {"environment": "production", "confirmation": "B12345674"})
    assert r.status == 409 and r.json()["code"] == "CERTIFICATE_MISSING"
    r = _put(billing, {"environment": "staging"})
    assert r.status == 422
    assert billing.get("/verifactu/settings")["environment"] == "test"

    upload_cert(billing, pki.client_p12(P12_PASSWORD))
    r = _put(billing, {"environment": "production", "confirmation": " b12345674 "})
    assert r.status == 200, r.body
    s = r.json()["data"]
    assert s["environment"] == "production" and s["production_locked"] is False
    assert s["production_enabled_at"]
    audit = billing.get("/audit?entity_type=verifactu_settings")["items"]
    assert audit[0]["action"] == "verifactu.production.enabled"

    # for good: records sent to production cannot go back to the test environment
    r = _put(billing, {"environment": "test"})
    assert r.status == 409 and r.json()["code"] == "VERIFACTU_PRODUCTION_FINAL"
    assert _put(billing, {"environment": "production"}).status == 200  # already so: no-op

    after = issue_one(billing)
    rec = billing.get(f"/verifactu/invoices/{after['invoice_id']}")
    assert rec["records"][0]["environment"] == "production"
    assert rec["qr_url"].startswith(PRODUCTION_QR)
    # the earlier invoice keeps the QR of the environment its record was generated for
    old = billing.get(f"/verifactu/invoices/{before['invoice_id']}")
    assert old["qr_url"].startswith(TEST_QR)

    # each record goes to the service of its own environment, one environment per submission
    run_job(later(0))
    run_job(later(61))
    assert [[c[1] for c in r["claves"]] for r in stub.requests] == [
        [before["num_serie"]],
        [after["num_serie"]],
    ]
    subs = sorted(
        Submission.query(f"C#{clinic.clinic_id}", Submission.SK.startswith("VFSUB#")),
        key=lambda x: x.sent_at,
    )
    assert [(x.environment, x.record_count, x.outcome) for x in subs] == [
        ("test", 1, "answered"),
        ("production", 1, "answered"),
    ]


def test_production_needs_the_clinics_nif(api, other_clinic, pki):
    from tests.integration.billing.conftest import Billing

    b = Billing(api, other_clinic.admin_token)
    upload_cert(b, pki.client_p12(P12_PASSWORD))
    r = _put(b, {"environment": "production", "confirmation": "B12345674"})
    assert r.status == 409 and r.json()["code"] == "ISSUER_INCOMPLETE"
    assert b.get("/verifactu/settings")["environment"] == "test"
