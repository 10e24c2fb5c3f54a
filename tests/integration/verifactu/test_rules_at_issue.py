"""The AEAT's rules are checked when an invoice is issued: the three invoices the AEAT rejected
(issue 14) are refused with a message a receptionist can act on, and nothing is chained, numbered
or half-written; fixing the cause lets the same draft be issued."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.integration.verifactu.conftest import statuses


def _draft(b, patient_id: str, **extra) -> str:
    line = {"treatment_id": b.treatment("LIM", "60.00")}
    return b.invoice(patient_id, [line], **extra)["invoice_id"]


def _refused(b, invoice_id: str, lang: str = "en") -> dict:
    r = b.api.post(
        f"/billing/invoices/{invoice_id}/issue", token=b.token, headers={"Accept-Language": lang}
    )
    assert r.status == 422, r.body
    body = r.json()
    assert body["code"] == "VERIFACTU_RULE"
    return body


def _nothing_written(b, invoice_id: str) -> None:
    inv = b.get(f"/billing/invoices/{invoice_id}")
    assert inv["status"] == "draft" and not inv.get("num_serie")
    assert statuses(b) == {}
    assert b.get("/verifactu/chain/verify")["intact"] is True


def test_other_document_without_country_is_refused_until_the_patient_is_corrected(billing):
    pid = billing.patient(national_id={"type": "other", "number": "AB-1234"})
    invoice_id = _draft(billing, pid)
    body = _refused(billing, invoice_id)
    assert [e["rule"] for e in body["errors"]] == ["3.1.3.13.c"]
    assert "1111" in body["errors"][0]["aeat_codes"]
    assert "country" in body["message"]
    _nothing_written(billing, invoice_id)
    # A Spanish address: a document of type "other" issued in Spain is refused as such (1126)
    r = billing.api.patch(
        f"/patients/{pid}",
        {"address": {"line1": "Calle Luna 2", "city": "Madrid", "postal_code": "28004"}},
        token=billing.token,
    )
    assert r.status == 200, r.body
    es = _refused(billing, invoice_id, "es")
    assert [e["rule"] for e in es["errors"]] == ["3.1.3.13.e"]
    assert "1126" in es["errors"][0]["aeat_codes"]
    assert "DNI o NIE" in es["message"] and es["message"].startswith("La AEAT rechazaría")
    _nothing_written(billing, invoice_id)
    # The receptionist records the patient's passport instead: the same draft issues.
    r = billing.api.patch(
        f"/patients/{pid}",
        {"national_id": {"type": "passport", "number": "PAB123456"}},
        token=billing.token,
    )
    assert r.status == 200, r.body
    issued = billing.issue(invoice_id)
    assert issued["status"] == "issued"
    record = billing.get("/verifactu/records")["items"][0]
    detail = billing.get(f"/verifactu/records/{record['record_id']}")["record"]
    assert detail["Destinatarios"][0]["IDOtro"] == {
        "CodigoPais": "ES",
        "IDType": "03",
        "ID": "PAB123456",
    }


@pytest.mark.parametrize(
    ("operation_date", "rule", "code"),
    [
        (date.today() + timedelta(days=180), "3.1.3.7.c", "1125"),
        (date(2001, 6, 1), "3.1.3.7.a", "1134"),
    ],
)
def test_operation_dates_the_aeat_rejects_are_refused(billing, operation_date, rule, code):
    pid = billing.patient_with_nif()
    invoice_id = _draft(billing, pid, operation_date=operation_date.isoformat())
    body = _refused(billing, invoice_id)
    assert rule in [e["rule"] for e in body["errors"]]
    assert any(code in e["aeat_codes"] for e in body["errors"])
    assert operation_date.strftime("%d/%m/%Y") in body["message"]
    assert body["errors"][0]["field"] == "FechaOperacion"
    _nothing_written(billing, invoice_id)
    # Correcting the operation date issues the invoice, numbered first in its series.
    r = billing.api.patch(
        f"/billing/invoices/{invoice_id}",
        {"operation_date": None},
        token=billing.token,
    )
    assert r.status == 200, r.body
    issued = billing.issue(invoice_id)
    assert issued["num_serie"].endswith("0001")
    assert billing.get("/verifactu/chain/verify")["intact"] is True


def test_a_rejected_rule_does_not_hold_other_invoices(billing):
    bad = _draft(billing, billing.patient_with_nif(), operation_date=date(2001, 6, 1).isoformat())
    _refused(billing, bad)
    good = _draft(billing, billing.patient_with_nif())
    assert billing.issue(good)["status"] == "issued"
    assert len(statuses(billing)) == 1


def test_the_rules_do_not_apply_to_another_clinic(billing, other_billing):
    """Clinic B cannot issue (nor learn anything about) clinic A's refused draft."""
    pid = billing.patient(national_id={"type": "other", "number": "AB-1234"})
    invoice_id = _draft(billing, pid)
    r = other_billing.api.post(f"/billing/invoices/{invoice_id}/issue", token=other_billing.token)
    assert r.status == 404
    _nothing_written(billing, invoice_id)
