"""Payments and refunds against issued invoices, and a patient's outstanding balance.

``paid_cents`` on the invoice is payments minus refunds, moved with a conditional update (on
the invoice's version) in the same transaction that writes the payment item, so two tills
cannot both take the last euro. Status: issued -> partially_paid -> paid (and back on refunds).
Only ``status``/``paid_cents``/``version`` change on an issued invoice: its legal content is
never rewritten.
"""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.billing import common, invoices, money, schemas
from chalicelib.billing.models import Invoice, Payment
from chalicelib.core import audit, events
from chalicelib.core.api import Principal
from chalicelib.core.db import clinic_pk, transaction
from chalicelib.core.errors import BadRequest, Conflict
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now


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
    )


def _apply(
    principal: Principal,
    invoice_id: str,
    kind: str,
    amount: money.Decimal,
    method: str,
    reference: str | None,
    note: str | None,
    paid_at: object = None,
) -> schemas.PaymentResult:
    cid = principal.clinic_id
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
        p = Payment(
            *Payment.key(cid, invoice_id, pid),
            GSI1PK=f"{clinic_pk(cid)}#PAY",
            GSI1SK=pid,
            GSI2PK=f"{clinic_pk(cid)}#PAT#{inv.patient_id}#PAY",
            GSI2SK=pid,
            payment_id=pid,
            invoice_id=invoice_id,
            patient_id=inv.patient_id,
            kind=kind,
            method=method,
            amount_cents=amount_c,
            reference=reference,
            note=note,
            paid_at=paid_at or at,
            recorded_by=principal.user_id,
            created_at=at,
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
        principal, invoice_id, "refund", data.amount, data.method, data.reference, data.note
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
