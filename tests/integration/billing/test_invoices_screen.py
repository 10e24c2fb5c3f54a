"""Issue 13, invoices: R5 for a rectified simplified invoice, the annulled PDF, VERI*FACTU
hooks loaded by the issue itself with a constant number of DynamoDB calls, the list's
filters, and emailing the PDF to the patient."""

from __future__ import annotations

import email
import io

import pytest
from pypdf import PdfReader

from chalicelib.billing import invoices
from tests.integration.conftest import admin_principal, mails_to
from tests.integration.ddb_calls import dynamodb_calls


def _pdf_text(billing, invoice_id: str) -> str:
    r = billing.api.get(
        f"/billing/invoices/{invoice_id}/pdf",
        token=billing.token,
        headers={"Accept": "application/pdf"},
    )
    assert r.status == 200
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.body)).pages)


def _simplified(billing) -> dict:
    """An F2: a patient without a tax id, under 400 €."""
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    inv = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    assert inv["tipo_factura"] == "F2"
    return inv


def test_rectifying_a_simplified_invoice_is_r5_in_the_record_the_model_and_the_pdf(billing):
    f2 = _simplified(billing)
    draft = billing.post(
        f"/billing/invoices/{f2['invoice_id']}/rectify",
        {"reason": "Precio equivocado", "code": "R1", "mode": "I"},
        201,
    )
    assert draft["rectification_code"] == "R5"  # R1 asked: it does not apply to an F2
    done = billing.issue(draft["invoice_id"])
    assert done["tipo_factura"] == "R5" and done["rectification_code"] == "R5"
    vf = billing.get(f"/verifactu/invoices/{done['invoice_id']}")
    rec = billing.get(f"/verifactu/records/{vf['records'][-1]['record_id']}")
    assert rec["record"]["TipoFactura"] == "R5"
    text = _pdf_text(billing, done["invoice_id"])
    assert "por diferencias (R5)" in text and "(R1)" not in text
    # a full invoice keeps the code asked
    pid = billing.patient_with_nif()
    f1 = billing.issue(
        billing.invoice(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])["invoice_id"]
    )
    r = billing.post(
        f"/billing/invoices/{f1['invoice_id']}/rectify",
        {"reason": "Error en el importe", "code": "R1", "mode": "I"},
        201,
    )
    assert r["rectification_code"] == "R1"
    assert billing.issue(r["invoice_id"])["tipo_factura"] == "R1"


def test_an_annulled_invoice_pdf_says_anulada_and_has_no_qr(billing):
    inv = _simplified(billing)
    assert "QR tributario:" in _pdf_text(billing, inv["invoice_id"])
    billing.post(f"/verifactu/invoices/{inv['invoice_id']}/annul", {"reason": "Emitida por error"})
    text = _pdf_text(billing, inv["invoice_id"])
    assert "ANULADA" in text and "no tiene validez" in text
    assert "QR tributario:" not in text


def test_the_issue_loads_the_verifactu_hooks_itself_and_makes_three_calls(
    billing, clinic, monkeypatch
):
    """A fresh API instance imports a module on its first route call (ADR 0017): an issue
    served before any /verifactu route used to write no VERI*FACTU record. Simulated by
    emptying what the VERI*FACTU module registers."""
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient_with_nif()
    billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])  # chain exists
    draft = billing.invoice(pid, [{"treatment_id": limp}])
    monkeypatch.setattr(invoices, "ISSUE_HOOKS", [])
    monkeypatch.setattr(invoices, "ISSUE_READS", [])
    monkeypatch.setattr(invoices, "QR_URL_PROVIDER", None)
    with dynamodb_calls() as calls:
        out = invoices.issue(admin_principal(clinic), draft["invoice_id"])
    assert out.status == "issued"
    # one issue: two strongly consistent batches of reads and one transaction, nothing else
    assert calls.ops == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"], calls.ops
    vf = billing.get(f"/verifactu/invoices/{draft['invoice_id']}")
    assert vf["records"] and vf["records"][0]["kind"] == "alta" and vf["qr_url"]


def test_the_list_filters_by_state_series_date_and_number(billing):
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    issued = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    draft = billing.invoice(pid, [{"treatment_id": limp}])
    rect = billing.post(
        f"/billing/invoices/{issued['invoice_id']}/rectify",
        {"reason": "Anulación", "mode": "I"},
        201,
    )
    billing.issue(rect["invoice_id"])  # cancels `issued` in full

    def ids(query: str) -> set[str]:
        return {i["invoice_id"] for i in billing.get(f"/billing/invoices?{query}")["items"]}

    assert ids("status=draft") == {draft["invoice_id"]}
    assert issued["invoice_id"] in ids("status=cancelled")
    assert issued["invoice_id"] not in ids("status=issued")
    assert ids("series=R") == {rect["invoice_id"]}
    assert ids(f"number={issued['num_serie'].lower()}") == {issued["invoice_id"]}
    assert ids(f"number={issued['num_serie'][-6:]}") == {issued["invoice_id"], rect["invoice_id"]}
    day = issued["issue_date"]
    assert draft["invoice_id"] not in ids(f"date_from={day}&date_to={day}")
    assert issued["invoice_id"] in ids(f"date_from={day}&date_to={day}")
    assert ids("date_from=2020-01-01&date_to=2020-01-31") == set()
    r = billing.api.get("/billing/invoices?status=lost", token=billing.token)
    assert r.status in (400, 422)


def test_email_sends_the_pdf_to_the_patient_and_is_audited(billing):
    inv = _simplified(billing)
    patient = billing.get(f"/patients/{inv['patient_id']}")
    out = billing.post(f"/billing/invoices/{inv['invoice_id']}/email", {})
    assert out["sent_to"] == patient["email"]
    msg = email.message_from_bytes(mails_to(patient["email"])[-1].raw_data.encode())
    assert inv["num_serie"] in msg["Subject"]
    parts = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1 and parts[0].get_payload(decode=True).startswith(b"%PDF")
    audit = billing.get(f"/audit?entity_type=invoice&entity_id={inv['invoice_id']}")
    assert any(e["action"] == "billing.invoice.emailed" for e in audit["items"])


def test_email_refuses_a_patient_without_email_a_draft_and_too_many(billing):
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient(email=None)
    draft = billing.invoice(pid, [{"treatment_id": limp}])
    r = billing.api.post(f"/billing/invoices/{draft['invoice_id']}/email", {}, token=billing.token)
    assert r.status == 409 and r.json()["code"] == "INVOICE_STATE"
    inv = billing.issue(draft["invoice_id"])
    r = billing.api.post(f"/billing/invoices/{inv['invoice_id']}/email", {}, token=billing.token)
    assert r.status == 422
    err = r.json()
    assert err["code"] == "PATIENT_NO_EMAIL" and "no email" in err["message"].lower()
    # ... an address typed at the desk works
    out = billing.post(f"/billing/invoices/{inv['invoice_id']}/email", {"to": "x@example.com"})
    assert out["sent_to"] == "x@example.com"
    r = billing.api.post(
        f"/billing/invoices/{inv['invoice_id']}/email", {"to": "not-an-email"}, token=billing.token
    )
    assert r.status in (400, 422)
    for _ in range(invoices.EMAILS_PER_INVOICE_PER_HOUR - 1):
        billing.post(f"/billing/invoices/{inv['invoice_id']}/email", {"to": "x@example.com"})
    r = billing.api.post(
        f"/billing/invoices/{inv['invoice_id']}/email", {"to": "x@example.com"}, token=billing.token
    )
    assert r.status == 429


def test_email_is_tenant_isolated_and_needs_the_permission(billing, other_billing, api, clinic):
    from tests.integration.conftest import add_member

    inv = _simplified(billing)
    r = api.post(f"/billing/invoices/{inv['invoice_id']}/email", {}, token=other_billing.token)
    assert r.status == 404
    dentist = add_member(api, clinic, "dentist", "Diana Dentista")  # invoices.read only
    r = api.post(f"/billing/invoices/{inv['invoice_id']}/email", {}, token=dentist["token"])
    assert r.status == 403


@pytest.mark.parametrize("code", ["R2", "R3", "R4"])
def test_r5_whatever_code_is_asked(billing, code):
    f2 = _simplified(billing)
    d = billing.post(
        f"/billing/invoices/{f2['invoice_id']}/rectify",
        {"reason": "Corrección", "code": code, "mode": "I"},
        201,
    )
    assert d["rectification_code"] == "R5"
