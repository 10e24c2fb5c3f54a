"""What a record contributes: the local day of a UTC instant, the 24-hour late-cancellation
line, rectifying invoices by substitution, annulled invoices, refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chalicelib.agenda.models import Appointment
from chalicelib.billing.models import Invoice, Payment
from chalicelib.reports import sources
from chalicelib.reports.store import _diff

MADRID = ZoneInfo("Europe/Madrid")


def _appt(status: str, cancelled_at: str | None = None) -> Appointment:
    hist = [{"status": "cancelled", "at": cancelled_at}] if cancelled_at else []
    return Appointment(
        appointment_id="A1",
        patient_id="P",
        professional_id="U1",
        cabinet_id="C1",
        start="2025-12-03T00:30:00+01:00",
        start_utc="2025-12-02T23:30:00Z",
        duration_min=30,
        reason="Revisión",
        status=status,
        status_history=hist,
    )


def test_the_day_is_the_clinics_not_utcs():
    assert sources.local_day(datetime(2025, 12, 2, 23, 30, tzinfo=UTC), MADRID) == "2025-12-03"
    assert sources.local_day(datetime(2025, 7, 1, 22, 30, tzinfo=UTC), MADRID) == "2025-07-02"
    c = sources.appointment(_appt("scheduled"), MADRID)
    assert set(c.aggregates) == {"RPT#D#2025-12-03", "RPT#M#2025-12"}


def test_late_cancellation_is_under_24_hours_before_the_start():
    late = sources.appointment(_appt("cancelled", "2025-12-02T00:31:00+01:00"), MADRID)
    early = sources.appointment(_appt("cancelled", "2025-12-02T00:30:00+01:00"), MADRID)
    assert late.aggregates["RPT#D#2025-12-03"]["late_cancellations"] == 1
    assert "late_cancellations" not in early.aggregates["RPT#D#2025-12-03"]
    assert "appointments" not in late.aggregates["RPT#D#2025-12-03"]


def test_invoices_rectified_by_substitution_and_annulled():
    sub = Invoice(
        invoice_id="R1",
        total_cents=8000,
        kind="rectifying",
        rectification_mode="S",
        rectified_amount={"base": "100.00", "cuota": "0.00"},
    )
    assert sources.invoiced_cents(sub) == -2000
    annulled = Invoice(invoice_id="I1", status="issued", issue_date="2025-12-02", cancelled=True)
    assert sources.invoice(annulled).aggregates == {}
    rectified = Invoice(
        invoice_id="I2",
        status="issued",
        issue_date="2025-12-02",
        total_cents=5000,
        cancelled=True,
        rectified_by=["R2"],
        paid_cents=0,
    )
    assert sources.invoice(rectified).aggregates["RPT#D#2025-12-02"]["invoiced"] == 5000


def test_a_refund_subtracts_from_its_method():
    p = Payment(
        payment_id="X",
        invoice_id="I",
        patient_id="P",
        kind="refund",
        method="card",
        amount_cents=1000,
        paid_at=datetime(2025, 12, 2, 23, 30, tzinfo=UTC),
    )
    day = sources.payment(p, MADRID).aggregates["RPT#D#2025-12-03"]
    assert day == {"collected": -1000, "collected|m:card": -1000, "refunded": 1000}


def test_the_difference_moves_a_rescheduled_appointment():
    old = {"RPT#D#2025-12-02": {"appointments": 1}, "RPT#M#2025-12": {"appointments": 1}}
    new = {"RPT#D#2025-12-03": {"appointments": 1}, "RPT#M#2025-12": {"appointments": 1}}
    assert _diff(old, new) == {
        "RPT#D#2025-12-02": {"appointments": -1},
        "RPT#D#2025-12-03": {"appointments": 1},
    }
    assert _diff(new, new) == {}
