"""Every VERI*FACTU route: 401 without a valid token, 403 for a role without its permission,
no reach into another clinic, and a clear 409 for a clinic outside Spain (which issues its
invoices without records)."""

from __future__ import annotations

import base64
import re

import pytest

from tests.integration.verifactu.conftest import P12_PASSWORD, issue_one, upload_cert

READ, ADMIN = "verifactu.read", "verifactu.admin"
BOOKS = "verifactu.books.export"

#: (method, path, permission, a valid body)
ROUTES = [
    ("GET", "/verifactu/chain/verify", READ, None),
    ("GET", "/verifactu/records", READ, None),
    ("GET", "/verifactu/records/{record_id}", READ, None),
    ("POST", "/verifactu/records/{record_id}/subsanacion", ADMIN, {"reason": "Corrección"}),
    ("GET", "/verifactu/invoices/{invoice_id}", READ, None),
    ("POST", "/verifactu/invoices/{invoice_id}/annul", ADMIN, {"reason": "Emitida por error"}),
    ("POST", "/verifactu/certificate", ADMIN, "certificate"),
    ("GET", "/verifactu/certificate", ADMIN, None),
    ("GET", "/verifactu/settings", ADMIN, None),
    ("GET", "/verifactu/status", READ, None),
    ("PUT", "/verifactu/settings", ADMIN, {"environment": "test"}),
    ("POST", "/verifactu/submission/release", ADMIN, None),
    ("GET", "/verifactu/reconciliation/records", READ, None),
    ("GET", "/verifactu/reconciliation/days", READ, None),
    ("GET", "/verifactu/book/issued", BOOKS, None),
    ("GET", "/verifactu/book/records", BOOKS, None),
]
IDS = {"record_id": "B12345674-0000000001", "invoice_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}
#: A valid query for the routes that need one (so the clinic check is reached).
QUERY = {
    p: "?from=2026-01-01&to=2026-03-31"
    for p in ("/verifactu/book/issued", "/verifactu/book/records")
}


def _path(path: str, ids: dict[str, str] = IDS) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path) + QUERY.get(path, "")


def _body(body, pki):
    if body == "certificate":
        p12 = pki.client_p12(P12_PASSWORD)
        return {"pkcs12_base64": base64.b64encode(p12).decode(), "password": P12_PASSWORD}
    return body


def test_the_table_lists_every_verifactu_route():
    from chalicelib.verifactu.routes import router

    assert {(s.method, s.path, s.permission) for s in router.specs} == {
        (m, p, perm) for m, p, perm, _ in ROUTES
    }


@pytest.mark.parametrize(("method", "path", "permission", "body"), ROUTES)
def test_401_without_a_token_or_with_a_bad_one(api, method, path, permission, body, pki):
    r = api.request(method, _path(path), _body(body, pki))
    assert r.status == 401 and r.json()["code"] == "UNAUTHENTICATED"
    r = api.request(method, _path(path), _body(body, pki), token="not-a-jwt")
    assert r.status == 401


@pytest.mark.parametrize(("method", "path", "permission", "body"), ROUTES)
def test_403_for_a_role_without_the_permission(
    api, billing, hygienist, receptionist, method, path, permission, body, pki
):
    # the hygienist has no VERI*FACTU permission; the receptionist may read and export the book
    # but not administer
    who = receptionist if permission == ADMIN else hygienist
    r = api.request(method, _path(path), _body(body, pki), token=who["token"])
    assert r.status == 403, r.body
    assert r.json()["data"]["permission"] == permission


def test_the_receptionist_reads_records(api, billing, receptionist):
    inv = issue_one(billing)
    r = api.get(f"/verifactu/invoices/{inv['invoice_id']}", token=receptionist["token"])
    assert r.status == 200 and r.json()["data"]["num_serie"] == inv["num_serie"]


def test_the_receptionist_sees_the_ledgers_state_in_her_language_not_the_certificate(
    api, billing, receptionist, clinic
):
    from chalicelib.core.ids import now
    from chalicelib.verifactu import submission

    inv = issue_one(billing)
    submission._hold(clinic.clinic_id, "B12345674", now(), "held for the test")
    es = api.get(
        "/verifactu/status", token=receptionist["token"], headers={"Accept-Language": "es"}
    )
    assert es.status == 200, es.body
    data = es.json()["data"]
    assert set(data) == {"environment", "chains", "blocked_series", "alerts"}
    assert data["chains"][0]["nif"] == "B12345674" and data["chains"][0]["records"] == 1
    alerts = {a["code"]: a for a in data["alerts"]}
    assert alerts["CERTIFICATE_MISSING"]["message"].startswith("Sube el certificado")
    held = alerts["SUBMISSION_FAILED"]
    assert held["params"] == {"nif": "B12345674", "error": "held for the test"}
    assert held["message"].startswith("El envío de los registros de B12345674 se ha detenido")
    en = api.get("/verifactu/status", token=receptionist["token"]).json()["data"]
    assert {a["code"]: a["message"] for a in en["alerts"]}["CERTIFICATE_MISSING"].startswith(
        "Upload the clinic's AEAT certificate"
    )
    assert inv["num_serie"]


def test_another_clinic_never_reaches_this_clinics_records(
    api, billing, other_clinic, other_billing, pki, clinic
):
    from chalicelib.core.ids import now
    from chalicelib.verifactu import submission

    inv = issue_one(billing)
    rid = billing.get("/verifactu/records")["items"][0]["record_id"]
    upload_cert(billing, pki.client_p12(P12_PASSWORD))
    submission._hold(clinic.clinic_id, "B12345674", now(), "held for the test")
    ids = {"record_id": rid, "invoice_id": inv["invoice_id"]}
    token = other_clinic.admin_token

    v = other_billing.get("/verifactu/chain/verify")
    assert v == {"intact": True, "chains": []}
    assert other_billing.get("/verifactu/records")["items"] == []
    for method, path, _, body in ROUTES:
        if "{" not in path:
            continue
        r = api.request(method, _path(path, ids), body, token=token)
        assert r.status == 404, (method, path, r.body)
    assert api.get("/verifactu/certificate", token=token).status == 404
    theirs = other_billing.get("/verifactu/settings")
    assert theirs["certificate"] is None and theirs["chains"] == []
    status = other_billing.get("/verifactu/status")
    assert status["chains"] == [] and status["blocked_series"] == {}
    assert "SUBMISSION_FAILED" not in {a["code"] for a in status["alerts"]}

    # what the other clinic's admin does to its own settings leaves ours alone
    other_billing.post("/verifactu/submission/release")
    assert (
        api.patch(
            "/clinics/current", {"legal_name": "Otra, S.L.", "tax_id": "A58818501"}, token=token
        ).status
        == 200
    )
    upload_cert(other_billing, pki.client_p12(P12_PASSWORD, nif="A58818501"))
    r = api.put(
        "/verifactu/settings",
        {"environment": "production", "confirmation": "A58818501"},
        token=token,
    )
    assert r.status == 200 and r.json()["data"]["environment"] == "production"
    ours = billing.get("/verifactu/settings")
    assert ours["environment"] == "test" and ours["chains"][0]["held"] is True
    assert ours["certificate"]["nif"] == "B12345674"
    record = billing.get(f"/verifactu/invoices/{inv['invoice_id']}")
    assert record["annulled"] is False and record["records"][0]["superseded_by"] is None


def test_a_clinic_outside_spain_issues_invoices_without_records_and_routes_say_why(api, pki):
    from chalicelib.verifactu.models import ChainHead, RecordItem
    from tests.integration.billing.conftest import Billing
    from tests.integration.conftest import signup

    pt = signup(api, "Clínica Lisboa", country="PT", time_zone="Europe/Lisbon")
    r = api.patch(
        "/clinics/current",
        {"legal_name": "Clinica Lisboa Lda", "tax_id": "PT500000000"},
        token=pt.admin_token,
    )
    assert r.status == 200, r.body
    b = Billing(api, pt.admin_token)
    issued = issue_one(b, iva=False, nif=False)
    assert issued["status"] == "issued" and issued["num_serie"]
    # nothing of the module was written: no record, no chain
    pk = f"C#{pt.clinic_id}"
    assert list(RecordItem.query(pk, RecordItem.SK.startswith("VFREC#"))) == []
    assert list(ChainHead.query(pk, ChainHead.SK.startswith("VFHEAD#"))) == []
    ids = {"record_id": "PT5000000-0000000001", "invoice_id": issued["invoice_id"]}
    for method, path, _, body in ROUTES:
        r = api.request(method, _path(path, ids), _body(body, pki), token=pt.admin_token)
        assert r.status == 409, (method, path, r.body)
        assert r.json()["code"] == "VERIFACTU_NOT_ES"
        assert "only to clinics in Spain" in r.json()["message"]
    # the invoice is untouched by the refused annulment
    inv = b.get(f"/billing/invoices/{issued['invoice_id']}")
    assert inv["status"] == "issued"


@pytest.mark.parametrize(
    "path", ["/verifactu/reconciliation/records", "/verifactu/reconciliation/days"]
)
def test_reconciliation_lists_refuse_bad_paging(api, billing, other_billing, path):
    for query, status in (("?limit=0", 422), ("?limit=500", 422), ("?cursor=garbage", 400)):
        r = api.get(path + query, token=billing.token)
        assert r.status == status, (query, r.body)
        assert r.json()["code"] in ("VALIDATION_FAILED", "BAD_REQUEST")
    # another clinic's cursor is not a way into this clinic's list
    from chalicelib.core.db import clinic_pk, encode_cursor

    other = clinic_pk(other_billing.get("/clinics/current")["clinic_id"])
    theirs = encode_cursor(
        {
            k: {"S": v}
            for k, v in {"PK": other, "SK": "VFREC#x", "GSI1PK": f"{other}#VFRCDIFF"}.items()
        }
    )
    assert api.get(f"{path}?cursor={theirs}", token=billing.token).status == 400


def test_verify_refuses_a_bad_archive_flag(billing, api):
    r = api.get("/verifactu/chain/verify?archive=perhaps", token=billing.token)
    assert r.status == 422, r.body
