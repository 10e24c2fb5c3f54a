"""Source records written straight into the table at chosen instants (the API stamps "now"),
and their events delivered to the reports consumer as the queue would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.agenda.models import Appointment, Cabinet, clinic_index
from chalicelib.billing.models import Budget, Invoice, Payment, Treatment
from chalicelib.charting.models import PlanItem
from chalicelib.core import scoping
from chalicelib.core.db import clinic_pk
from chalicelib.core.ids import new_id
from chalicelib.patients.models import Patient
from chalicelib.reports import consumer

MADRID = ZoneInfo("Europe/Madrid")


def local(text: str) -> datetime:
    """'2025-12-02 23:30' in Madrid, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


def z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Records:
    def __init__(self, clinic_id: str, professional_id: str) -> None:
        self.cid, self.pro = clinic_id, professional_id
        self.delivered: list[tuple[str, dict[str, Any]]] = []

    def deliver(self, event_type: str, **payload: Any) -> str:
        detail = {"clinic_id": self.cid, "event_id": new_id(), **payload}
        self.delivered.append((event_type, detail))
        with scoping.for_event(detail):
            return consumer.on_event(event_type, detail)

    def cabinet(self, name: str = "Gabinete 1") -> str:
        cab = new_id()
        Cabinet(
            *Cabinet.key(self.cid, cab), cabinet_id=cab, name=name, created_at=datetime.now(UTC)
        ).save()
        return cab

    def patient(self, created: str, first: str = "Lucía", last: str = "Gómez") -> str:
        pid, at = new_id(), local(created)
        Patient(
            *Patient.key(self.cid, pid),
            GSI1PK=Patient.list_pk(self.cid),
            GSI1SK=f"{last.lower()} {first.lower()}#{pid}",
            patient_id=pid,
            first_name=first,
            last_name=last,
            date_of_birth="1980-01-01",
            created_at=at,
            updated_at=at,
        ).save()
        return pid

    def appointment(
        self,
        patient_id: str,
        cabinet_id: str,
        start: str,
        minutes: int,
        status: str = "scheduled",
        cancelled_at: str | None = None,
        appointment_id: str | None = None,
    ) -> str:
        aid = appointment_id or new_id()
        s = local(start)
        end = s.timestamp() + minutes * 60
        history: list[dict[str, Any]] = [{"status": "scheduled", "at": "2025-01-01T00:00:00+00:00"}]
        if cancelled_at:
            history.append({"status": "cancelled", "at": local(cancelled_at).isoformat()})
        elif status != "scheduled":
            history.append({"status": status, "at": s.isoformat()})
        Appointment(
            *Appointment.key(self.cid, aid),
            GSI4PK=clinic_index(self.cid),
            GSI4SK=f"{z(s)}#{aid}",
            appointment_id=aid,
            patient_id=patient_id,
            professional_id=self.pro,
            cabinet_id=cabinet_id,
            start=s.isoformat(),
            start_utc=z(s),
            end_utc=z(datetime.fromtimestamp(end, UTC)),
            time_zone="Europe/Madrid",
            duration_min=minutes,
            reason="Revisión",
            status=status,
            status_history=history,
            created_at=datetime.now(UTC),
            created_by=self.pro,
            updated_at=datetime.now(UTC),
        ).save()
        return aid

    def treatment(self, code: str, price_cents: int) -> str:
        tid = new_id()
        now = datetime.now(UTC)
        Treatment(
            *Treatment.key(self.cid, tid),
            treatment_id=tid,
            code=code,
            name_es=f"Tratamiento {code}",
            price_cents=price_cents,
            scope="mouth",
            vat_code="EXENTO_SANITARIO",
            created_at=now,
            updated_at=now,
        ).save()
        return tid

    def completed(self, patient_id: str, treatment_id: str, at: str, **extra: Any) -> str:
        iid, when = new_id(), local(at)
        PlanItem(
            *PlanItem.key(self.cid, patient_id, iid),
            item_id=iid,
            patient_id=patient_id,
            treatment_id=treatment_id,
            treatment_code="X",
            name_es="Obturación",
            scope="mouth",
            status="completed",
            created_at=when,
            created_by=self.pro,
            completed_at=when,
            completed_by=self.pro,
            **extra,
        ).save()
        return iid

    def invoice(self, patient_id: str, issue_date: str, total_cents: int, **extra: Any) -> str:
        iid = new_id()
        now = datetime.now(UTC)
        Invoice(
            *Invoice.key(self.cid, iid),
            GSI1PK=Invoice.list_pk(self.cid),
            GSI1SK=iid,
            invoice_id=iid,
            patient_id=patient_id,
            status="issued",
            num_serie=f"F-{iid[-6:]}",
            issue_date=issue_date,
            issued_at=now,
            description="Factura",
            total_cents=total_cents,
            created_by=self.pro,
            created_at=now,
            updated_at=now,
            **{"series": "F", **extra},
        ).save()
        return iid

    def payment(
        self,
        invoice_id: str,
        patient_id: str,
        at: str,
        cents: int,
        kind: str = "payment",
        method: str = "card",
    ) -> str:
        pid, when = new_id(), local(at)
        Payment(
            *Payment.key(self.cid, invoice_id, pid),
            GSI1PK=f"{clinic_pk(self.cid)}#PAY",
            GSI1SK=pid,
            GSI3PK=Payment.day_pk(self.cid, when.date().isoformat()),
            GSI3SK=f"{z(when)}#{pid}",
            payment_id=pid,
            invoice_id=invoice_id,
            patient_id=patient_id,
            kind=kind,
            method=method,
            amount_cents=cents,
            paid_at=when,
            recorded_by=self.pro,
            created_at=datetime.now(UTC),
        ).save()
        return pid

    def budget(
        self,
        patient_id: str,
        sent: str,
        lines: list[int],
        status: str = "sent",
        decided: str | None = None,
        accepted: list[int] | None = None,
    ) -> str:
        bid = new_id()
        now = datetime.now(UTC)
        ln = [{"line_id": f"L{i}", "total": f"{c / 100:.2f}"} for i, c in enumerate(lines)]
        Budget(
            *Budget.key(self.cid, bid),
            GSI1PK=Budget.list_pk(self.cid),
            GSI1SK=bid,
            budget_id=bid,
            patient_id=patient_id,
            number=f"PRES-{bid[-4:]}",
            status=status,
            valid_until="2026-12-31",
            time_zone="Europe/Madrid",
            lines=ln,
            totals={"total": f"{sum(lines) / 100:.2f}"},
            accepted_line_ids=[f"L{i}" for i in accepted or []] or None,
            created_by=self.pro,
            created_at=now,
            updated_at=now,
            sent_at=local(sent),
            decided_at=local(decided) if decided else None,
        ).save()
        return bid


def feed(published: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Deliver the events published so far (the ``published`` fixture) to the reports
    consumer, as the ``reports`` queue would; returns the outcomes."""
    out = []
    for event_type, detail in published:
        with scoping.for_event(detail):
            out.append(consumer.on_event(event_type, detail))
    return out
