"""What each source record contributes to the figures now (ADR 1301): pure functions of the
record's current state and the clinic's time zone, shared by the consumer and the rebuild.

| record | dated figures (local day) | lists | state |
|---|---|---|---|
| plan item (completed) | production, treatments_completed (by who completed it) | production | |
| invoice (issued, not annulled) | invoiced, invoices_issued (issue day) | invoiced | outstanding (issue day) |
| payment / refund | collected (net, by method), refunded (paid day) | collected | |
| appointment | appointments, attended, no_shows, cancellations, late_cancellations, booked and attended minutes (start day; by professional and cabinet) | the same | |
| patient | new_patients (created day) | new_patients | |
| budget | budgets_presented(+_value) (sent day), budgets_accepted(+_value) (decided day) | the same | pending (sent day) |
"""  # noqa: E501

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.agenda.models import Appointment
from chalicelib.billing import money
from chalicelib.billing.models import Budget, Invoice, Payment, Treatment
from chalicelib.charting.models import PlanItem
from chalicelib.patients.models import Patient
from chalicelib.reports.store import Contribution, dims

LATE_CANCELLATION = timedelta(hours=24)
CANCELLED, NO_SHOW, COMPLETED = "cancelled", "no_show", "completed"


def local_day(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).date().isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _row(day: str, kind: str, record_id: str, **fields: Any) -> dict[str, Any]:
    return {"date": day, "kind": kind, "record_id": record_id, **fields}


# --- appointments ----------------------------------------------------------------------------


def cancelled_at(a: Appointment) -> datetime | None:
    for h in reversed(a.status_history or []):
        if h.get("status") == CANCELLED and h.get("at"):
            return _parse(str(h["at"]))
    return None


def is_late_cancellation(a: Appointment) -> bool:
    at = cancelled_at(a)
    return at is not None and _parse(a.start_utc) - at < LATE_CANCELLATION


def appointment(a: Appointment, tz: ZoneInfo) -> Contribution:
    c = Contribution()
    day = local_day(_parse(a.start), tz)
    d = dims(a.professional_id, a.cabinet_id)
    minutes = int(a.duration_min)
    row = _row(
        day,
        "appointment",
        a.appointment_id,
        patient_id=a.patient_id,
        label=a.reason,
        minutes=minutes,
        professional_id=a.professional_id,
        cabinet_id=a.cabinet_id,
    )
    if a.status == CANCELLED:
        c.dated(day, "cancellations", 1, d)
        c.row("cancellations", d, row)
        if is_late_cancellation(a):
            c.dated(day, "late_cancellations", 1, d)
            c.row("late_cancellations", d, row)
        return c
    c.dated(day, "appointments", 1, d)
    c.row("appointments", d, row)
    if a.status == NO_SHOW:
        c.dated(day, "no_shows", 1, d)
        c.row("no_shows", d, row)
        return c
    c.dated(day, "booked_minutes", minutes, d)
    if a.status == COMPLETED:
        c.dated(day, "attended", 1, d)
        c.dated(day, "attended_minutes", minutes, d)
        c.row("attended", d, row)
    return c


# --- treatments completed --------------------------------------------------------------------


def line_cents(budget: Budget | None, line_id: str | None) -> int | None:
    for ln in (budget.lines if budget else None) or []:
        if ln.get("line_id") == line_id:
            return money.cents(Decimal(str(ln.get("total") or "0")))
    return None


def treatment(
    it: PlanItem, tz: ZoneInfo, budget: Budget | None, catalog: Treatment | None
) -> Contribution:
    """A completed plan item: its budget line's price when it came from a budget, else the
    catalog price (read when the figure is computed)."""
    c = Contribution()
    if it.status != "completed" or it.completed_at is None:
        return c
    day = local_day(it.completed_at, tz)
    value = line_cents(budget, it.budget_line_id) if it.budget_line_id else None
    if value is None:
        value = int(catalog.price_cents) if catalog is not None else 0
    d = dims(it.completed_by)
    c.dated(day, "production", value, d)
    c.dated(day, "treatments_completed", 1, d)
    c.row(
        "production",
        d,
        _row(
            day,
            "treatment",
            it.item_id,
            patient_id=it.patient_id,
            label=it.name_es,
            amount_cents=value,
            professional_id=it.completed_by,
        ),
    )
    return c


# --- invoices and payments -------------------------------------------------------------------


def is_annulled(inv: Invoice) -> bool:
    """Annulled (issued by mistake): cancelled, and not because a rectifying invoice replaced
    or cancelled it (as billing.pdf.is_annulled)."""
    return inv.status != "draft" and bool(inv.cancelled) and not inv.rectified_by


def invoiced_cents(inv: Invoice) -> int:
    """What the invoice adds to its issue day: its total (negative for a rectifying invoice by
    differences); a rectifying invoice by substitution adds its total less the original's
    (whose own total stays on its day), so the sum over days is what the customer owes."""
    total = int(inv.total_cents or 0)
    if inv.kind == "rectifying" and inv.rectification_mode == "S" and inv.rectified_amount:
        r = inv.rectified_amount
        total -= money.cents(Decimal(r.get("base", "0"))) + money.cents(
            Decimal(r.get("cuota", "0"))
        )
    return total


def invoice(inv: Invoice) -> Contribution:
    from chalicelib.billing.invoices import outstanding_cents

    c = Contribution()
    if inv.status == "draft" or not inv.issue_date or is_annulled(inv):
        return c
    day = inv.issue_date
    value = invoiced_cents(inv)
    c.dated(day, "invoiced", value)
    c.dated(day, "invoices_issued", 1)
    row = _row(day, "invoice", inv.invoice_id, patient_id=inv.patient_id, label=inv.num_serie or "")
    c.row("invoiced", (), {**row, "amount_cents": value})
    out = outstanding_cents(inv)
    if out > 0:
        c.state(day, "outstanding", out)
        c.state(day, "outstanding_invoices", 1)
        c.row("outstanding", (), {**row, "amount_cents": out})
    return c


def payment(p: Payment, tz: ZoneInfo) -> Contribution:
    c = Contribution()
    day = local_day(p.paid_at, tz)
    amount = int(p.amount_cents or 0)
    signed = -amount if p.kind == "refund" else amount
    c.dated(day, "collected", signed)
    c.dated(day, "collected|m:" + p.method, signed)
    if p.kind == "refund":
        c.dated(day, "refunded", amount)
    c.row(
        "collected",
        (),
        _row(
            day,
            "payment",
            p.payment_id,
            patient_id=p.patient_id,
            label=p.num_serie or "",
            amount_cents=signed,
            method=p.method,
        ),
    )
    return c


# --- patients and budgets --------------------------------------------------------------------


def patient(p: Patient, tz: ZoneInfo) -> Contribution:
    c = Contribution()
    day = local_day(p.created_at, tz)
    c.dated(day, "new_patients", 1)
    c.row("new_patients", (), _row(day, "patient", p.patient_id, patient_id=p.patient_id))
    return c


def accepted_cents(b: Budget) -> int:
    ids = set(b.accepted_line_ids or [])
    return sum(
        money.cents(Decimal(str(ln.get("total") or "0")))
        for ln in b.lines or []
        if ln.get("line_id") in ids
    )


def budget(b: Budget, tz: ZoneInfo) -> Contribution:
    c = Contribution()
    if b.sent_at is None:
        return c
    total = money.cents(Decimal(str((b.totals or {}).get("total") or "0")))
    sent = local_day(b.sent_at, tz)
    row = _row(sent, "budget", b.budget_id, patient_id=b.patient_id, label=b.number)
    c.dated(sent, "budgets_presented", 1)
    c.dated(sent, "budgets_presented_value", total)
    c.row("budgets_presented", (), {**row, "amount_cents": total})
    if b.status == "accepted" and b.decided_at is not None:
        day, value = local_day(b.decided_at, tz), accepted_cents(b)
        c.dated(day, "budgets_accepted", 1)
        c.dated(day, "budgets_accepted_value", value)
        c.row("budgets_accepted", (), {**row, "date": day, "amount_cents": value})
    if b.status == "sent":
        c.state(sent, "pending_budgets", 1)
        c.state(sent, "pending_budgets_value", total)
        c.row("pending_budgets", (), {**row, "amount_cents": total})
    return c


def age_days(day: str, today: date) -> int:
    return (today - date.fromisoformat(day)).days
