"""The recalls queue's events -> recalls and follow-ups (ADR 1404).

Idempotent and order-proof by construction: each handler reads the record the event is about
(the appointment, the budget, the patient's plan) in its current state and writes what that
state implies, so a repeated or late event writes nothing new. A completion sets a recall only
when it is newer than the one that set it.

* ``treatment.completed``: recalls of the active rules listing its code (due = completion day
  in the clinic's zone + interval); the unscheduled-treatment follow-up.
* ``treatment.planned``, ``treatment.cancelled``: the unscheduled-treatment follow-up.
* ``ortho.case_finished``: recalls of the rules marked ``ortho_finished``.
* ``appointment.scheduled``, ``.updated``, ``.reinstated``: a booked appointment from now on;
  due recalls become booked, no-show and unscheduled follow-ups end.
* ``appointment.cancelled``, ``.no_show``, ``.completed``: recalls booked on it are due again
  (or move to another booked appointment); a no-show opens its follow-up; the unscheduled
  follow-up is checked.
* ``budget.*``: the budget's follow-up while it is ``sent``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.ids import now
from chalicelib.patients import service as patients
from chalicelib.recalls import common, followups, service

BOOKING = ("appointment.scheduled", "appointment.updated", "appointment.reinstated")
UNBOOKING = ("appointment.cancelled", "appointment.no_show", "appointment.completed")


def handle(detail_type: str, detail: dict[str, Any]) -> str:
    cid = detail.get("clinic_id")
    if not cid:
        return "ignored"
    pid = detail.get("patient_id")
    if detail_type == "treatment.completed" and pid:
        return _completed(cid, pid, detail, lambda r: detail.get("code") in (r.codes or []))
    if detail_type in ("treatment.planned", "treatment.cancelled") and pid:
        return followups.on_plan(cid, pid, common.zone(cid))
    if detail_type == "ortho.case_finished" and pid:
        return _completed(cid, pid, detail, lambda r: bool(r.ortho_finished))
    if detail_type.startswith("budget.") and detail.get("budget_id"):
        out = followups.on_budget(cid, detail["budget_id"], common.zone(cid))
        if detail_type == "budget.accepted" and pid:
            followups.on_plan(cid, pid, common.zone(cid))
        return out
    aid = detail.get("appointment_id")
    if detail_type in BOOKING and aid:
        return _booking(cid, aid)
    if detail_type in UNBOOKING and aid:
        return _unbooking(cid, aid, detail_type)
    return "ignored"


def _completed(cid: str, pid: str, detail: dict[str, Any], matches: Any) -> str:
    if pid not in patients.load_many(cid, [pid]):
        return "ignored"  # not a patient of the event's clinic
    tz = common.zone(cid)
    at = detail.get("occurred_at")
    done = common.local_day(
        cid, datetime.fromisoformat(at.replace("Z", "+00:00")) if at else now(), tz
    )
    days = common.reminder_days(common.settings_of(cid))
    outcomes = [
        service.completed(
            cid,
            pid,
            r,
            done,
            "ortho" if detail.get("case_id") and not detail.get("code") else "treatment",
            detail.get("plan_item_id") or detail.get("case_id"),
            days,
        )
        for r in common.rules(cid)
        if r.active and matches(r)
    ]
    if "code" in detail:
        followups.on_plan(cid, pid, tz)
    return "set" if "set" in outcomes else ("unchanged" if outcomes else "no_rule")


def _booking(cid: str, aid: str) -> str:
    a = common.load_appointment(cid, aid)
    if a is None or not common.is_future_booking(a):
        return "ignored"  # cancelled meanwhile, or in the past: nothing is booked by it
    days = common.reminder_days(common.settings_of(cid))
    n = service.booked(cid, a.patient_id, aid, days)
    followups.on_booked(cid, a.patient_id)
    return "booked" if n else "unchanged"


def _unbooking(cid: str, aid: str, detail_type: str) -> str:
    a = common.load_appointment(cid, aid)
    if a is None or a.status not in ("cancelled", "no_show", "completed"):
        return "ignored"  # reinstated meanwhile: the booking stands
    days = common.reminder_days(common.settings_of(cid))
    n = service.unbooked(cid, a.patient_id, aid, days)
    tz = common.zone(cid)
    if a.status == "no_show":
        followups.on_no_show(cid, aid, tz)
    followups.on_plan(cid, a.patient_id, tz)
    return "reopened" if n else "unchanged"
