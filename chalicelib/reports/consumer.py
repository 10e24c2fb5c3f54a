"""The ``reports`` queue (functions/reports_consumer.py): each domain event that moves a figure
brings the contribution of the record it is about up to date (ADR 1301).

Events carry ids, not values: the record's current state is read through its owning module's
keys, built from the event's ``clinic_id`` (an id of another clinic finds nothing and writes
nothing there), and :func:`chalicelib.reports.store.apply` writes the difference from what the
record contributed before. A duplicated or late event finds nothing to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from chalicelib.agenda.models import Appointment
from chalicelib.billing.models import Budget, Invoice, Payment, Treatment
from chalicelib.charting.models import PlanItem
from chalicelib.core.db import M
from chalicelib.identity.models import Clinic
from chalicelib.patients.models import Patient
from chalicelib.reports import sources
from chalicelib.reports.store import Contribution, apply

#: patient.* other than created, and budget.created / invoice.created (drafts), move no figure.
UTC_ZONE = ZoneInfo("UTC")
BUDGET_EVENTS = (
    "budget.sent",
    "budget.accepted",
    "budget.rejected",
    "budget.cancelled",
    "budget.expired",
    "budget.superseded",
)


def _get(model: type[M], key: tuple[str, str]) -> M | None:
    try:
        return model.get(*key, consistent_read=True)
    except DoesNotExist:
        return None


def time_zone(cid: str) -> ZoneInfo:
    c = _get(Clinic, Clinic.key(cid))
    return ZoneInfo(c.time_zone if c else "Europe/Madrid")


# --- one record's current contribution ------------------------------------------------------


def appointment_now(cid: str, tz: ZoneInfo, appointment_id: str) -> Contribution:
    a = _get(Appointment, Appointment.key(cid, appointment_id))
    return sources.appointment(a, tz) if a else Contribution()


def treatment_now(cid: str, tz: ZoneInfo, patient_id: str, item_id: str) -> Contribution:
    it = _get(PlanItem, PlanItem.key(cid, patient_id, item_id))
    if it is None:
        return Contribution()
    budget = _get(Budget, Budget.key(cid, it.budget_id)) if it.budget_id else None
    catalog = _get(Treatment, Treatment.key(cid, it.treatment_id))
    return sources.treatment(it, tz, budget, catalog)


def invoice_now(cid: str, invoice_id: str) -> Contribution:
    inv = _get(Invoice, Invoice.key(cid, invoice_id))
    return sources.invoice(inv) if inv else Contribution()


def payment_now(cid: str, tz: ZoneInfo, invoice_id: str, payment_id: str) -> Contribution:
    p = _get(Payment, Payment.key(cid, invoice_id, payment_id))
    return sources.payment(p, tz) if p else Contribution()


def patient_now(cid: str, tz: ZoneInfo, patient_id: str) -> Contribution:
    p = _get(Patient, Patient.key(cid, patient_id))
    return sources.patient(p, tz) if p else Contribution()


def budget_now(cid: str, tz: ZoneInfo, budget_id: str) -> Contribution:
    b = _get(Budget, Budget.key(cid, budget_id))
    return sources.budget(b, tz) if b else Contribution()


# --- events -> records -----------------------------------------------------------------------


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def records_of(
    detail_type: str, d: dict[str, Any], cid: str, tz: ZoneInfo
) -> list[tuple[str, str, Callable[[], Contribution]]]:
    """The records an event is about: (kind, id, how to compute its contribution now)."""
    out: list[tuple[str, str, Callable[[], Contribution]]] = []
    get = d.get
    if detail_type.startswith("appointment.") and get("appointment_id"):
        aid = str(get("appointment_id"))
        out.append(("appointment", aid, lambda: appointment_now(cid, tz, aid)))
    elif detail_type == "treatment.completed" and get("plan_item_id") and get("patient_id"):
        pid, iid = str(get("patient_id")), str(get("plan_item_id"))
        out.append(("treatment", iid, lambda: treatment_now(cid, tz, pid, iid)))
    elif detail_type in ("invoice.issued", "invoice.paid", "invoice.annulled"):
        # A rectifying invoice moves what its originals ask (issued), and annulling it gives
        # it back (``restored``): their outstanding balances change too.
        for iid in [*_ids(get("invoice_id")), *_ids(get("rectifies")), *_ids(get("restored"))]:
            out.append(("invoice", iid, lambda iid=iid: invoice_now(cid, iid)))
    elif detail_type == "payment.recorded" and get("payment_id") and get("invoice_id"):
        iid, pay = str(get("invoice_id")), str(get("payment_id"))
        out.append(("payment", pay, lambda: payment_now(cid, tz, iid, pay)))
        out.append(("invoice", iid, lambda: invoice_now(cid, iid)))
    elif detail_type == "patient.created" and get("patient_id"):
        pid = str(get("patient_id"))
        out.append(("patient", pid, lambda: patient_now(cid, tz, pid)))
    elif detail_type in BUDGET_EVENTS and get("budget_id"):
        bid = str(get("budget_id"))
        out.append(("budget", bid, lambda: budget_now(cid, tz, bid)))
    return out


def on_event(detail_type: str, detail: dict[str, Any]) -> str:
    """The outcome for the log: ignored, unchanged or written."""
    cid = detail.get("clinic_id")
    if not isinstance(cid, str) or not cid:
        return "ignored"
    # The records first (no read): most events of the queue's prefixes move no figure.
    if not records_of(detail_type, detail, cid, UTC_ZONE):
        return "ignored"
    tz = time_zone(cid)
    outcomes = [
        apply(cid, kind, rid, compute)
        for kind, rid, compute in records_of(detail_type, detail, cid, tz)
    ]
    return "written" if "written" in outcomes else "unchanged"
