"""Payments and refunds against issued invoices, and a patient's outstanding balance.

``paid_cents`` on the invoice is payments minus refunds, moved with a conditional update (on
the invoice's version) in the same transaction that writes the payment item, so two tills
cannot both take the last euro. Status: issued -> partially_paid -> paid (and back on refunds).
Only ``status``/``paid_cents``/``version`` change on an issued invoice: its legal content is
never rewritten.

Each payment and refund also sits on GSI3 under the local day (clinic zone) it was paid on, so
the day's takings for the front desk's cash-up are one Query (ADR 0508). A refund may name the
payment it gives back (``refund_of``): it is then capped at what is left of that payment.
Receipts (PDF, and emailed to the patient) are built from the payment and its invoice.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError

from chalicelib.billing import common, invoices, money, schemas
from chalicelib.billing.models import Invoice, Payment
from chalicelib.core import audit, events, mail
from chalicelib.core.api import Principal
from chalicelib.core.csvcells import text_cell
from chalicelib.core.db import clinic_pk, transaction
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.patients import service as patients


def payment_out(p: Payment) -> schemas.PaymentOut:
    return schemas.PaymentOut(
        payment_id=p.payment_id,
        invoice_id=p.invoice_id,
        patient_id=p.patient_id,
        kind=p.kind,
        method=p.method,
        amount=money.fmt(int(p.amount_cents)),
        reference=p.reference,
        note=p.note,
        paid_at=p.paid_at,
        created_at=p.created_at,
        num_serie=p.num_serie,
        refund_of=p.refund_of,
    )


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _refundable_of(cid: str, inv: Invoice, payment_id: str) -> tuple[Payment, int]:
    """The payment ``payment_id`` of ``inv`` and what is left of it to refund (one Query)."""
    items = [
        p
        for p in Payment.query(
            clinic_pk(cid),
            Payment.SK.startswith(f"INV#{inv.invoice_id}#PAY#"),
            consistent_read=True,
        )
        if isinstance(p, Payment)
    ]
    paid = next((p for p in items if p.payment_id == payment_id and p.kind == "payment"), None)
    if paid is None:
        raise NotFound(
            tr(
                f"That payment is not one of invoice {inv.num_serie}.",
                f"Ese cobro no es de la factura {inv.num_serie}.",
            ),
            code="PAYMENT_NOT_FOUND",
        )
    given = sum(int(p.amount_cents) for p in items if p.refund_of == payment_id)
    return paid, int(paid.amount_cents) - given


def _apply(
    principal: Principal,
    invoice_id: str,
    kind: str,
    amount: money.Decimal,
    method: str,
    reference: str | None,
    note: str | None,
    paid_at: datetime | None = None,
    refund_of: str | None = None,
) -> schemas.PaymentResult:
    cid = principal.clinic_id
    tz = ZoneInfo(common.clinic(cid).time_zone)
    for _ in range(5):
        inv = invoices.load(cid, invoice_id, consistent=True)
        if inv.status == "draft":
            raise Conflict(
                tr(
                    "Issue the invoice before recording payments.",
                    "Emite la factura antes de registrar cobros.",
                ),
                code="INVOICE_STATE",
            )
        due, paid = invoices.due_cents(inv), int(inv.paid_cents)
        amount_c = money.cents(amount)
        if kind == "payment":
            if inv.cancelled:
                raise Conflict(
                    tr(
                        f"Invoice {inv.num_serie} is cancelled: it takes no payments (money paid "
                        "on it can be refunded).",
                        f"La factura {inv.num_serie} está anulada: no admite cobros (lo ya "
                        "cobrado se puede devolver).",
                    ),
                    code="INVOICE_CANCELLED",
                )
            if due <= 0:
                raise Conflict(
                    tr(
                        "This invoice has nothing to collect (it cancels or reduces another one).",
                        "Esta factura no tiene nada que cobrar (anula o reduce otra).",
                    ),
                    code="NOTHING_TO_COLLECT",
                )
            outstanding = due - paid
            if amount_c > outstanding:
                raise BadRequest(
                    tr(
                        f"The amount {money.fmt_eur(amount_c)} is above the outstanding balance "
                        f"of {money.fmt_eur(outstanding)} of invoice {inv.num_serie}.",
                        f"El importe {money.fmt_eur(amount_c)} supera lo pendiente de cobro "
                        f"({money.fmt_eur(outstanding)}) de la factura {inv.num_serie}.",
                    ),
                    code="AMOUNT_ABOVE_OUTSTANDING",
                    data={"outstanding": money.fmt(outstanding), "amount": money.fmt(amount_c)},
                )
            new_paid = paid + amount_c
        else:
            if refund_of is not None:
                _, left = _refundable_of(cid, inv, refund_of)
                if amount_c > left:
                    raise BadRequest(
                        tr(
                            f"The refund {money.fmt_eur(amount_c)} is above what is left of that "
                            f"payment ({money.fmt_eur(left)}).",
                            f"La devolución {money.fmt_eur(amount_c)} supera lo que queda de ese "
                            f"cobro ({money.fmt_eur(left)}).",
                        ),
                        code="REFUND_ABOVE_PAYMENT",
                        data={"refundable": money.fmt(left), "amount": money.fmt(amount_c)},
                    )
            if amount_c > paid:
                raise BadRequest(
                    tr(
                        f"The refund {money.fmt_eur(amount_c)} is above what was paid "
                        f"({money.fmt_eur(paid)}).",
                        f"La devolución {money.fmt_eur(amount_c)} supera lo cobrado "
                        f"({money.fmt_eur(paid)}).",
                    ),
                    code="REFUND_ABOVE_PAID",
                    data={"paid": money.fmt(paid), "amount": money.fmt(amount_c)},
                )
            new_paid = paid - amount_c
        was, old = inv.status, int(inv.version)
        status = invoices.payment_status(due, new_paid)
        at = now()
        pid = new_id()
        when = paid_at or at
        if when.tzinfo is None:  # a wall-clock time: the clinic's
            when = when.replace(tzinfo=tz)
        p = Payment(
            *Payment.key(cid, invoice_id, pid),
            GSI1PK=f"{clinic_pk(cid)}#PAY",
            GSI1SK=pid,
            GSI2PK=f"{clinic_pk(cid)}#PAT#{inv.patient_id}#PAY",
            GSI2SK=pid,
            GSI3PK=Payment.day_pk(cid, when.astimezone(tz).date().isoformat()),
            GSI3SK=f"{_utc_text(when)}#{pid}",
            payment_id=pid,
            invoice_id=invoice_id,
            patient_id=inv.patient_id,
            kind=kind,
            method=method,
            amount_cents=amount_c,
            reference=reference,
            note=note,
            paid_at=when,
            recorded_by=principal.user_id,
            created_at=at,
            num_serie=inv.num_serie,
            refund_of=refund_of,
        )
        try:
            with transaction() as tx:
                tx.update(
                    inv,
                    actions=[
                        Invoice.paid_cents.set(new_paid),
                        Invoice.status.set(status),
                        Invoice.version.set(old + 1),
                        Invoice.updated_at.set(at),
                    ],
                    condition=(Invoice.version == old) & (Invoice.paid_cents == paid),
                )
                tx.save(p, condition=Payment.SK.does_not_exist())
                tx.save(
                    audit.entry(
                        cid,
                        principal.actor,
                        f"billing.{kind}.recorded",
                        "invoice",
                        invoice_id,
                        before={"status": was, "paid": money.fmt(paid)},
                        after={"status": status, "paid": money.fmt(new_paid), "method": method},
                    )
                )
            break
        except TransactWriteError:
            continue
    else:
        raise Conflict(
            tr(
                "The invoice changed meanwhile; reload and try again.",
                "La factura ha cambiado mientras tanto; recárgala y vuelve a intentarlo.",
            ),
            code="INVOICE_CONFLICT",
        )
    inv.paid_cents, inv.status, inv.version, inv.updated_at = new_paid, status, old + 1, at
    events.publish(
        "payment.recorded",
        cid,
        principal.actor,
        payment_id=pid,
        invoice_id=invoice_id,
        patient_id=inv.patient_id,
        kind=kind,
        method=method,
        amount=money.fmt(amount_c),
        outstanding=money.fmt(due - new_paid),
    )
    if kind == "payment" and status == "paid" and was != "paid":
        events.publish(
            "invoice.paid",
            cid,
            principal.actor,
            invoice_id=invoice_id,
            patient_id=inv.patient_id,
            num_serie=inv.num_serie,
            total=money.fmt(int(inv.total_cents)),
        )
    return schemas.PaymentResult(payment=payment_out(p), invoice=invoices.invoice_out(inv))


def record(principal: Principal, invoice_id: str, data: schemas.PaymentIn) -> schemas.PaymentResult:
    return _apply(
        principal,
        invoice_id,
        "payment",
        data.amount,
        data.method,
        data.reference,
        data.note,
        data.paid_at,
    )


def refund(principal: Principal, invoice_id: str, data: schemas.RefundIn) -> schemas.PaymentResult:
    return _apply(
        principal,
        invoice_id,
        "refund",
        data.amount,
        data.method,
        data.reference,
        data.note,
        refund_of=data.payment_id,
    )


def list_for_invoice(principal: Principal, invoice_id: str) -> list[schemas.PaymentOut]:
    cid = principal.clinic_id
    invoices.load(cid, invoice_id)
    items = Payment.query(clinic_pk(cid), Payment.SK.startswith(f"INV#{invoice_id}#PAY#"))
    return [payment_out(p) for p in items if isinstance(p, Payment)]


def balance(principal: Principal, patient_id: str) -> schemas.BalanceOut:
    """What the patient owes: what the issued invoices ask (``invoices.due_cents``: cancelled
    invoices ask nothing, a reduction by differences asks a negative amount) minus what was
    paid net of refunds. Negative when the clinic owes the patient a refund."""
    cid = principal.clinic_id
    common.patient(cid, patient_id)
    invoiced = paid = 0
    open_items = []
    for inv in Invoice.gsi2.query(Invoice.patient_pk(cid, patient_id)):
        if not isinstance(inv, Invoice) or inv.status == "draft":
            continue
        invoiced += invoices.due_cents(inv)
        paid += int(inv.paid_cents)
        out = invoices.outstanding_cents(inv)
        if out != 0:
            open_items.append(
                {
                    "invoice_id": inv.invoice_id,
                    "num_serie": inv.num_serie,
                    "issue_date": inv.issue_date,
                    "total": money.fmt(int(inv.total_cents)),
                    "outstanding": money.fmt(out),
                }
            )
    return schemas.BalanceOut(
        patient_id=patient_id,
        invoiced=money.fmt(invoiced),
        paid=money.fmt(paid),
        outstanding=money.fmt(invoiced - paid),
        open_invoices=open_items,
    )


# --- the day's takings (cash-up) -----------------------------------------------------------

METHODS = ("cash", "card", "transfer", "financing")


def _day_items(cid: str, day: date) -> list[Payment]:
    """The day's payments and refunds in time order: one Query on the day's GSI3 key (paged by
    DynamoDB only past 1 MB, thousands of payments)."""
    return [
        p
        for p in Payment.gsi3.query(Payment.day_pk(cid, day.isoformat()))
        if isinstance(p, Payment)
    ]


def takings(principal: Principal, q: schemas.TakingsQuery) -> schemas.TakingsOut:
    """What the desk took on a local day, by method, refunds subtracted, with each payment's
    patient and invoice: one Query for the day and one BatchGet for the patients' names."""
    cid = principal.clinic_id
    clinic = common.clinic(cid)
    day = q.day or common.local_today(clinic.time_zone)
    items = _day_items(cid, day)
    people = patients.load_many(cid, [p.patient_id for p in items])
    by: dict[str, list[int]] = {m: [0, 0, 0] for m in METHODS}
    for p in items:
        row = by.setdefault(p.method, [0, 0, 0])
        row[0 if p.kind == "payment" else 1] += int(p.amount_cents)
        row[2] += 1
    taken = sum(r[0] for r in by.values())
    given = sum(r[1] for r in by.values())
    return schemas.TakingsOut(
        day=day,
        time_zone=clinic.time_zone,
        methods=[
            schemas.MethodTotal(
                method=m,
                payments=money.fmt(r[0]),
                refunds=money.fmt(r[1]),
                net=money.fmt(r[0] - r[1]),
                count=r[2],
            )
            for m, r in by.items()
        ],
        payments=money.fmt(taken),
        refunds=money.fmt(given),
        net=money.fmt(taken - given),
        items=[
            schemas.TakingOut(
                **payment_out(p).model_dump(),
                patient_name=common.patient_name(people[p.patient_id])
                if p.patient_id in people
                else "—",
            )
            for p in items
        ],
    )


CSV_HEAD = {
    "es": ["Hora", "Tipo", "Forma de pago", "Importe", "Paciente", "Factura", "Referencia", "Nota"],
    "en": ["Time", "Kind", "Method", "Amount", "Patient", "Invoice", "Reference", "Note"],
}
WORDS = {
    "es": {
        "payment": "Cobro",
        "refund": "Devolución",
        "cash": "Efectivo",
        "card": "Tarjeta",
        "transfer": "Transferencia",
        "financing": "Financiación",
        "total": "Total",
    },
    "en": {
        "payment": "Payment",
        "refund": "Refund",
        "cash": "Cash",
        "card": "Card",
        "transfer": "Transfer",
        "financing": "Financing",
        "total": "Total",
    },
}


def takings_csv(principal: Principal, q: schemas.TakingsQuery, lang: str) -> tuple[str, str]:
    """The day's takings as CSV for a spreadsheet: UTF-8 with a BOM, ``;`` between cells and
    decimal commas in Spanish, text cells neutralised (``csvcells``). Returns (name, text)."""
    lang = "es" if lang != "en" else "en"
    out = takings(principal, q)
    w = WORDS[lang]
    tz = ZoneInfo(out.time_zone)
    buf = io.StringIO()
    sep = ";" if lang == "es" else ","
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")

    def amount(text: str, negative: bool = False) -> str:
        v = ("-" if negative and text != "0.00" else "") + text
        return v.replace(".", ",") if lang == "es" else v

    writer.writerow(CSV_HEAD[lang])
    for p in out.items:
        writer.writerow(
            [
                p.paid_at.astimezone(tz).strftime("%H:%M"),
                w[p.kind],
                w.get(p.method, p.method),
                amount(p.amount, p.kind == "refund"),
                text_cell(p.patient_name),
                text_cell(p.num_serie or ""),
                text_cell(p.reference or ""),
                text_cell(p.note or ""),
            ]
        )
    writer.writerow([])
    for m in out.methods:
        if m.count:
            writer.writerow(["", w["total"], w.get(m.method, m.method), amount(m.net)])
    writer.writerow(["", w["total"], "", amount(out.net)])
    prefix = "caja" if lang == "es" else "takings"
    return f"{prefix}-{out.day.isoformat()}.csv", "\ufeff" + buf.getvalue()


# --- receipts ------------------------------------------------------------------------------


def load_payment(cid: str, payment_id: str) -> Payment:
    """The clinic's payment or refund by id (one Query on its GSI1 key), or 404."""
    key = Payment.GSI1SK == payment_id  # noqa: SIM300 - a key condition, not a comparison
    for p in Payment.gsi1.query(f"{clinic_pk(cid)}#PAY", key, limit=1):
        if isinstance(p, Payment):
            return p
    raise NotFound(
        tr("There is no such payment.", "No existe ese cobro."), code="PAYMENT_NOT_FOUND"
    )


def _receipt(cid: str, payment_id: str) -> tuple[Payment, Invoice, object, bytes]:
    from chalicelib.billing import pdf  # noqa: PLC0415 - lazy: reportlab stays out of cold start

    p = load_payment(cid, payment_id)
    inv = invoices.load(cid, p.invoice_id)
    clinic = common.clinic(cid)
    patient = common.patient(cid, p.patient_id)
    # Paid on the invoice up to and including this one (ids sort by time).
    upto = 0
    for x in Payment.query(clinic_pk(cid), Payment.SK.startswith(f"INV#{inv.invoice_id}#PAY#")):
        if isinstance(x, Payment) and x.payment_id <= p.payment_id:
            upto += int(x.amount_cents) * (1 if x.kind == "payment" else -1)
    lang = patient.language if patient.language in ("es", "en") else "es"
    data = pdf.receipt_pdf(
        p,
        inv,
        clinic,
        common.patient_name(patient),
        paid_to_date=upto,
        due=invoices.due_cents(inv),
        lang=lang,
    )
    return p, inv, patient, data


def receipt_pdf(principal: Principal, payment_id: str) -> tuple[str, bytes]:
    p, _, _, data = _receipt(principal.clinic_id, payment_id)
    word = "recibo" if p.kind == "payment" else "devolucion"
    return f"{word}-{p.payment_id}.pdf", data


def email_receipt(principal: Principal, payment_id: str) -> schemas.ReceiptEmailOut:
    """Email the receipt PDF to the patient's address on record (409 without one)."""

    cid = principal.clinic_id
    p, inv, patient, data = _receipt(cid, payment_id)
    to = getattr(patient, "email", None)
    if not to:
        raise Conflict(
            tr(
                "This patient has no email address: add one in their record, or print the receipt.",
                "Este paciente no tiene correo electrónico: añádelo en su ficha o imprime el "
                "recibo.",
            ),
            code="NO_EMAIL",
        )
    undeliverable = Conflict(
        tr(
            "Mail to this patient's address bounced: correct it in their record.",
            "El correo a la dirección de este paciente fue devuelto: corrígela en su ficha.",
        ),
        code="EMAIL_UNDELIVERABLE",
    )
    if mail.is_undeliverable(to):
        raise undeliverable
    clinic = common.clinic(cid)
    es = getattr(patient, "language", "es") != "en"
    amount = money.fmt_eur(int(p.amount_cents), "es" if es else "en")
    if p.kind == "payment":
        subject = (
            f"{clinic.name}: recibo de su pago de {amount}"
            if es
            else f"{clinic.name}: receipt for your payment of {amount}"
        )
        body = (
            f"Le adjuntamos el recibo de su pago de {amount} de la factura {inv.num_serie}."
            if es
            else f"Attached is the receipt for your payment of {amount} on invoice {inv.num_serie}."
        )
    else:
        subject = (
            f"{clinic.name}: justificante de la devolución de {amount}"
            if es
            else f"{clinic.name}: proof of your refund of {amount}"
        )
        body = (
            f"Le adjuntamos el justificante de la devolución de {amount} de la factura "
            f"{inv.num_serie}."
            if es
            else f"Attached is the proof of your refund of {amount} on invoice {inv.num_serie}."
        )
    word = "recibo" if p.kind == "payment" else "devolucion"
    common.email_pdf(
        clinic,
        to=to,
        lang="es" if es else "en",
        subject=subject,
        intro=body,
        attachment=(f"{word}-{p.payment_id}.pdf", data),
        undeliverable=undeliverable,
    )
    audit.entry(
        cid,
        principal.actor,
        "billing.receipt.emailed",
        "invoice",
        inv.invoice_id,
        after={"payment_id": p.payment_id, "kind": p.kind},
    ).save()
    return schemas.ReceiptEmailOut(sent_to=to)
