"""Refunds of one payment, receipts (PDF and email), and the day's takings by method (ADR 0508):
one Query for the day whatever the clinic's history, refunds subtracted, clinic zone."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.billing import payments
from chalicelib.billing.schemas import TakingsQuery
from tests.integration.conftest import admin_principal, mails_to
from tests.integration.ddb_calls import dynamodb_calls

PDF = {"Accept": "application/pdf"}
TZ = ZoneInfo("Europe/Madrid")


def _issued(billing, price="100.00", **patient):
    pid = billing.patient(**patient) if patient else billing.patient_with_nif()
    t = billing.treatment("REC", price)
    return pid, billing.issue(billing.invoice(pid, [{"treatment_id": t}])["invoice_id"])


def _pay(billing, iid, amount, method="cash", **extra):
    body = {"amount": amount, "method": method, **extra}
    return billing.post(f"/billing/invoices/{iid}/payments", body, 201)


def test_a_refund_of_one_payment_is_capped_at_what_is_left_of_it(billing, api):
    _, inv = _issued(billing)
    iid = inv["invoice_id"]
    cash = _pay(billing, iid, "30")["payment"]
    card = _pay(billing, iid, "50", "card")["payment"]
    assert cash["num_serie"] == inv["num_serie"]
    rf = billing.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "20", "method": "cash", "payment_id": cash["payment_id"], "note": "Error"},
        201,
    )
    assert rf["payment"]["refund_of"] == cash["payment_id"] and rf["payment"]["note"] == "Error"
    assert rf["invoice"]["paid"] == "60.00"
    # 10 € left of the cash payment: 10.01 is refused though 60 € were paid on the invoice
    r = api.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "10.01", "method": "cash", "payment_id": cash["payment_id"]},
        token=billing.token,
    )
    body = r.json()
    assert r.status == 400 and body["code"] == "REFUND_ABOVE_PAYMENT"
    assert body["data"]["refundable"] == "10.00" and "10,00 €" in body["message"]
    billing.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "10", "method": "cash", "payment_id": cash["payment_id"]},
        201,
    )
    # a refund cannot name a refund, nor another invoice's payment
    r = api.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "1", "method": "cash", "payment_id": rf["payment"]["payment_id"]},
        token=billing.token,
    )
    assert r.status == 404 and r.json()["code"] == "PAYMENT_NOT_FOUND"
    _, other = _issued(billing)
    r = api.post(
        f"/billing/invoices/{other['invoice_id']}/refunds",
        {"amount": "1", "method": "card", "payment_id": card["payment_id"]},
        token=billing.token,
    )
    assert r.status == 404
    assert billing.get(f"/billing/invoices/{iid}")["paid"] == "50.00"


def test_receipt_pdf_of_a_payment_and_of_a_refund(billing, api):
    _, inv = _issued(billing, "120.00")
    iid = inv["invoice_id"]
    p = _pay(billing, iid, "45.50", "card", reference="TPV 0042")["payment"]
    r = api.get(
        f"/billing/payments/{p['payment_id']}/receipt/pdf", token=billing.token, headers=PDF
    )
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.body.startswith(b"%PDF") and b"recibo-" in r.headers["Content-Disposition"].encode()
    import io  # noqa: PLC0415

    from pypdf import PdfReader  # noqa: PLC0415

    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(r.body)).pages)
    assert "RECIBO DE PAGO" in text and inv["num_serie"] in text and "45,50 €" in text
    assert "Tarjeta" in text and "TPV 0042" in text and "74,50 €" in text  # what is left
    rf = billing.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "5", "method": "card", "payment_id": p["payment_id"], "note": "Cobro doble"},
        201,
    )["payment"]
    r = api.get(
        f"/billing/payments/{rf['payment_id']}/receipt/pdf", token=billing.token, headers=PDF
    )
    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(r.body)).pages)
    assert "JUSTIFICANTE DE DEVOLUCIÓN" in text and "Cobro doble" in text and "5,00 €" in text
    assert (
        api.get(
            "/billing/payments/01JZZZZZZZZZZZZZZZZZZZZZZZ/receipt/pdf", token=billing.token
        ).status
        == 404
    )


def test_receipt_email_goes_to_the_patient_with_the_pdf(billing, api, clinic):
    pid, inv = _issued(billing, "80.00", email="paciente.recibo@example.com")
    p = _pay(billing, inv["invoice_id"], "80", "transfer")["payment"]
    d = billing.post(f"/billing/payments/{p['payment_id']}/receipt/email")
    assert d["sent_to"] == "paciente.recibo@example.com"
    raw = mails_to("paciente.recibo@example.com")[-1].raw_data
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert "80,00 €" in str(msg["Subject"])
    parts = [x for x in msg.walk() if x.get_content_type() == "application/pdf"]
    assert len(parts) == 1 and parts[0].get_payload(decode=True).startswith(b"%PDF")
    assert parts[0].get_filename() == f"recibo-{p['payment_id']}.pdf"
    # a proper message (RFC 5322 Date, a Message-ID) from the clinic, with a branded HTML body
    assert msg["Date"] and msg["Message-ID"] and "Clínica" in str(msg["From"])
    html = next(x for x in msg.walk() if x.get_content_type() == "text/html")
    assert "80,00 €" in html.get_content()
    # no address: a message the desk can act on, nothing sent
    pid2, inv2 = _issued(billing, "80.00", email=None)
    p2 = _pay(billing, inv2["invoice_id"], "10")["payment"]
    r = api.post(f"/billing/payments/{p2['payment_id']}/receipt/email", token=billing.token)
    assert r.status == 409 and r.json()["code"] == "NO_EMAIL"
    assert "correo" in r.json()["message"] or "email" in r.json()["message"]


def test_receipt_routes_follow_permissions(billing, api, hygienist, receptionist):
    _, inv = _issued(billing)
    p = _pay(billing, inv["invoice_id"], "10")["payment"]
    path = f"/billing/payments/{p['payment_id']}/receipt"
    # the hygienist reads no invoices: no receipt, no email, no takings
    for method, url in (
        ("GET", path + "/pdf"),
        ("POST", path + "/email"),
        ("GET", "/billing/takings"),
        ("GET", "/billing/takings/export"),
    ):
        r = api.request(method, url, token=hygienist["token"])
        assert r.status == 403, (method, url)
    # the receptionist holds both
    assert api.get(path + "/pdf", token=receptionist["token"], headers=PDF).status == 200
    assert api.get("/billing/takings", token=receptionist["token"]).status == 200


def test_takings_by_method_with_refunds_subtracted(billing, api):
    pid, inv = _issued(billing, "300.00")
    iid = inv["invoice_id"]
    before = billing.get("/billing/takings")
    base = {m["method"]: m for m in before["methods"]}
    _pay(billing, iid, "100", "cash")
    card = _pay(billing, iid, "120.50", "card")["payment"]
    _pay(billing, iid, "30", "financing")
    billing.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "20.50", "method": "card", "payment_id": card["payment_id"], "note": "x"},
        201,
    )
    # paid yesterday (clinic zone): not today's
    yesterday = datetime.now(UTC).astimezone(TZ) - timedelta(days=1)
    _pay(billing, iid, "7", "cash", paid_at=yesterday.isoformat())
    day = billing.get("/billing/takings")
    assert day["day"] == datetime.now(UTC).astimezone(TZ).date().isoformat()
    assert day["time_zone"] == "Europe/Madrid"
    got = {m["method"]: m for m in day["methods"]}
    assert [m["method"] for m in day["methods"]][:4] == ["cash", "card", "transfer", "financing"]

    def moved(method, field):
        from decimal import Decimal  # noqa: PLC0415

        return str(Decimal(got[method][field]) - Decimal(base[method][field]))

    assert moved("cash", "net") == "100.00" and moved("card", "payments") == "120.50"
    assert moved("card", "refunds") == "20.50" and moved("card", "net") == "100.00"
    assert moved("financing", "net") == "30.00" and moved("transfer", "net") == "0.00"
    mine = [x for x in day["items"] if x["invoice_id"] == iid]
    assert [x["kind"] for x in mine] == ["payment", "payment", "payment", "refund"]
    assert all(x["num_serie"] == inv["num_serie"] and x["patient_name"] for x in mine)
    assert "García" in mine[0]["patient_name"]
    old = billing.get(f"/billing/takings?day={yesterday.date().isoformat()}")
    assert [x["amount"] for x in old["items"] if x["invoice_id"] == iid] == ["7.00"]
    r = api.get("/billing/takings?day=2026-13-01", token=billing.token)
    assert r.status == 422 and "day" in r.body.decode()
    # CSV: BOM, semicolons, decimal commas, refunds negative
    r = api.get("/billing/takings/export", token=billing.token, headers={"Accept-Language": "es"})
    text = r.body.decode("utf-8")
    assert r.status == 200 and text.startswith("\ufeffHora;Tipo;Forma de pago;Importe")
    assert ";Devolución;Tarjeta;-20,50;" in text and ";Cobro;Efectivo;100,00;" in text
    assert "caja-" in r.headers["Content-Disposition"]


def test_takings_csv_neutralises_formulas(billing, api):
    _, inv = _issued(billing)
    _pay(billing, inv["invoice_id"], "1", reference='=HYPERLINK("x")')
    text = api.get(
        "/billing/takings/export", token=billing.token, headers={"Accept-Language": "en"}
    ).body.decode("utf-8")
    assert "'=HYPERLINK" in text and text.startswith("\ufeffTime,Kind,Method,Amount")


def test_takings_read_the_same_whatever_the_history(billing, clinic):
    """One Query for the day (plus the clinic and one BatchGet of names), not a read of the
    clinic's payments: the same calls with 1 or 25 payments on other days."""
    _, inv = _issued(billing, "1000.00")
    _pay(billing, inv["invoice_id"], "1")
    principal = admin_principal(clinic)
    q = TakingsQuery()

    def measure():
        with dynamodb_calls() as calls:
            out = payments.takings(principal, q)
        return calls.count, calls.read_items, len(out.items)

    first = measure()
    for i in range(25):
        day = datetime.now(UTC) - timedelta(days=2 + i)
        _pay(billing, inv["invoice_id"], "1", paid_at=day.isoformat())
    assert measure() == first
    assert first[0] <= 3


def test_invoice_and_receipt_emails_refuse_an_address_that_bounced(billing, api, monkeypatch):
    from chalicelib.core import mail

    pid, inv = _issued(billing, "80.00", email="rebota@example.com")
    p = _pay(billing, inv["invoice_id"], "10")["payment"]
    sent = len(mails_to("rebota@example.com"))
    mail.mark_undeliverable("rebota@example.com", "bounce", "General")
    for url in (
        f"/billing/invoices/{inv['invoice_id']}/email",
        f"/billing/payments/{p['payment_id']}/receipt/email",
    ):
        r = api.post(url, {}, token=billing.token)
        assert r.status == 409 and r.json()["code"] == "EMAIL_UNDELIVERABLE", url
    # known good at the check, refused at the send (SES feedback arriving meanwhile): a 409 too
    calls = iter([False, True, False, True])
    monkeypatch.setattr(mail, "is_undeliverable", lambda _to: next(calls))
    for url in (
        f"/billing/invoices/{inv['invoice_id']}/email",
        f"/billing/payments/{p['payment_id']}/receipt/email",
    ):
        r = api.post(url, {}, token=billing.token)
        assert r.status == 409 and r.json()["code"] == "EMAIL_UNDELIVERABLE", url
    assert len(mails_to("rebota@example.com")) == sent  # nothing went out
