"""The patient's acceptance refuses a blank signature and an empty selection; the accepted
PDF (lines, signer, signature, time) is stored and served to staff; the budget's PDF shows
its state; sending emails the link to the patient."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from pypdf import PdfReader

from tests.integration.billing.signatures import BLANK, BLANK_WHITE, DRAWN
from tests.integration.comms.conftest import consent
from tests.integration.conftest import mails_to

PDF = {"Accept": "application/pdf"}


def _sent(billing, api, lang="es", email=None):
    over = {"language": lang}
    if email:
        over["email"] = email
    pid = billing.patient(**over)
    if email:
        consent(api, billing.token, pid)
    lines = [
        {"treatment_id": billing.treatment("LIM", "60.00")},
        {"treatment_id": billing.treatment("BLQ", "300.00", vat="IVA21")},
    ]
    d = billing.budget(pid, lines)
    s = billing.post(f"/billing/budgets/{d['budget_id']}/send", {"valid_days": 7})
    return d, s


def _path(s):
    return s["link"].split("/api/v1", 1)[1]


def _form(api, path, **fields):
    raw = urlencode(fields, doseq=True).encode()
    return api.request(
        "POST", path, raw=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def _pdf_text(body: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def _nothing_written(billing, d, path, api):
    b = billing.get(f"/billing/budgets/{d['budget_id']}")
    assert b["status"] == "sent" and b["acceptance"] is None
    assert api.get(path).status == 200  # the link is still usable


def test_blank_signature_is_refused_in_the_patients_language(billing, api):
    d, s = _sent(billing, api)
    path = _path(s)
    for blank in (BLANK, BLANK_WHITE, "M10 10 L10 10"):
        r = _form(
            api, path, signer_name="Ana Ruiz", signature=blank, line_ids=[d["lines"][0]["line_id"]]
        )
        assert r.status == 422, r.body[:300]
        assert "La firma está en blanco" in r.body.decode()
    _nothing_written(billing, d, path, api)
    d, s = _sent(billing, api, "en")
    r = _form(api, _path(s), signer_name="Ann Roe", signature=BLANK)
    assert r.status == 422 and "The signature is blank" in r.body.decode()
    _nothing_written(billing, d, _path(s), api)


def test_no_line_ticked_accepts_nothing(billing, api):
    d, s = _sent(billing, api)
    path = _path(s)
    r = _form(api, path, signer_name="Ana Ruiz", signature=DRAWN)  # nothing ticked
    assert r.status == 422
    assert "Marque al menos un tratamiento" in r.body.decode()
    _nothing_written(billing, d, path, api)
    r = api.request(
        "POST",
        path,
        raw=b'{"signer_name": "Ana Ruiz", "signature": "M1 1 L40 40", "line_ids": []}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 422 and "Marque al menos un tratamiento" in r.body.decode()
    _nothing_written(billing, d, path, api)
    d, s = _sent(billing, api, "en")
    r = _form(api, _path(s), signer_name="Ann Roe", signature=DRAWN)
    assert r.status == 422 and "Tick at least one treatment" in r.body.decode()


def test_accepted_pdf_is_stored_with_lines_signer_signature_and_time(billing, api, receptionist):
    d, s = _sent(billing, api)
    path = _path(s)
    first = d["lines"][0]["line_id"]
    r = _form(
        api,
        path,
        signer_name="María Pérez",
        relationship="madre",
        signature=DRAWN,
        line_ids=[first],
    )
    assert r.status == 200, r.body[:500]
    bid = d["budget_id"]
    r = api.get(
        f"/billing/budgets/{bid}/accepted-pdf",
        token=billing.token,
        headers={"Accept": "application/pdf"},
    )
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    text = _pdf_text(r.body)
    assert "ACEPTADO el" in text and "María Pérez" in text and "madre" in text
    assert "Aceptados 1 de 2 tratamientos" in text and "No aceptado" in text
    reader = PdfReader(io.BytesIO(r.body))
    assert any(page.images for page in reader.pages)  # the drawn signature
    # it is the stored object
    from chalicelib.core import storage

    cid = api.get("/clinics/current", token=billing.token).json()["data"]["clinic_id"]
    key = f"clinics/{cid}/budgets/{bid}/accepted.pdf"
    assert storage.read(key) == r.body
    # the budget's own PDF shows its state too
    r2 = api.get(f"/billing/budgets/{bid}/pdf", token=billing.token, headers=PDF)
    assert "ACEPTADO el" in _pdf_text(r2.body)
    # a receptionist reads budgets
    r3 = api.get(f"/billing/budgets/{bid}/accepted-pdf", token=receptionist["token"], headers=PDF)
    assert r3.status == 200


def test_accepted_pdf_is_rebuilt_if_the_object_is_missing(billing, api):
    d, s = _sent(billing, api)
    bid = d["budget_id"]
    a = billing.post(f"/billing/budgets/{bid}/accept", {"signer_name": "Lucía García"})
    assert a["status"] == "accepted"
    from chalicelib.core import storage

    cid = api.get("/clinics/current", token=billing.token).json()["data"]["clinic_id"]
    storage.delete(f"clinics/{cid}/budgets/{bid}/accepted.pdf")
    r = api.get(f"/billing/budgets/{bid}/accepted-pdf", token=billing.token, headers=PDF)
    assert r.status == 200 and "Lucía García" in _pdf_text(r.body)
    assert "Aceptado en la clínica" in _pdf_text(r.body)


def test_accepted_pdf_refused_unless_accepted_cross_tenant_and_permission(
    billing, other_billing, api, hygienist
):
    d, s = _sent(billing, api)
    bid = d["budget_id"]
    r = api.get(f"/billing/budgets/{bid}/accepted-pdf", token=billing.token)
    assert r.status == 409 and r.json()["code"] == "BUDGET_NOT_ACCEPTED"
    billing.post(f"/billing/budgets/{bid}/accept", {"signer_name": "Lucía García"})
    assert api.get(f"/billing/budgets/{bid}/accepted-pdf", token=other_billing.token).status == 404
    r = api.get(f"/billing/budgets/{bid}/accepted-pdf", token=hygienist["token"])
    assert r.status == 403


def test_pdf_shows_cancelled_and_expired(billing, api):
    pid = billing.patient()
    d = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    billing.post(f"/billing/budgets/{d['budget_id']}/cancel")
    r = api.get(f"/billing/budgets/{d['budget_id']}/pdf", token=billing.token, headers=PDF)
    assert "CANCELADO" in _pdf_text(r.body)
    d2 = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    assert "CANCELADO" not in _pdf_text(
        api.get(f"/billing/budgets/{d2['budget_id']}/pdf", token=billing.token, headers=PDF).body
    )


def test_send_emails_the_link_and_the_budget_says_where(billing, api):
    addr = "budget-mail-test@example.com"
    d, s = _sent(billing, api, email=addr)
    assert s["emailed_to"] == addr and s["not_emailed"] is None
    mails = mails_to(addr)
    assert mails, "no email sent"
    raw = mails[-1].raw_data
    raw = raw if isinstance(raw, str) else raw.decode()
    assert d["number"] in raw
    b = billing.get(f"/billing/budgets/{d['budget_id']}")
    assert b["sent_to"] == addr and b["emailed_at"]
    events = [h["event"] for h in b["history"]]
    assert events[:2] == ["created", "sent"]


def test_send_without_consent_or_address_says_why(billing, api):
    d, s = _sent(billing, api)  # the helper's patient has an address but no consent
    assert s["emailed_to"] is None and s["not_emailed"] in ("no_consent", "no_email")
    pid = billing.patient(email=None)
    d = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    s = billing.post(f"/billing/budgets/{d['budget_id']}/send", {"email": False})
    assert s["not_emailed"] == "not_requested"


def test_list_names_the_patient_and_the_page_is_labelled(billing, api):
    pid = billing.patient(first_name="Rocío", last_name="Listado")
    d = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    items = billing.get("/billing/budgets")["items"]
    mine = next(b for b in items if b["budget_id"] == d["budget_id"])
    assert mine["patient_name"].startswith("Rocío Listado")
    d, s = _sent(billing, api, "en")
    html = api.get(_path(s)).body.decode()
    assert '<html lang="en">' in html
    assert html.count("aria-label='I accept: ") == 2  # every checkbox has a name
