"""What the recall and follow-up files share: the clinic's day, month arithmetic, the
patient's next booked appointment, the rules (with the defaults a clinic starts with) and the
follow-up settings. ADR 1404."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.identity.models import Clinic
from chalicelib.recalls.models import FollowUpSettings, RecallRule, RecallRulesInit

BOOKED_STATUSES = ("scheduled", "confirmed", "checked_in", "in_progress")
DEFAULT_REMINDER_DAYS = (0, 21)
SYSTEM = {"type": "system", "id": "recalls"}

# The rules a clinic starts with (it edits or switches them off in Settings).
DEFAULT_RULES = (
    {
        "name_es": "Revisión y limpieza",
        "name_en": "Check-up and cleaning",
        "codes": ["REV", "LIMP"],
        "ortho_finished": False,
        "interval_months": 6,
    },
    {
        "name_es": "Revisión de retención de ortodoncia",
        "name_en": "Orthodontic retention check",
        "codes": [],
        "ortho_finished": True,
        "interval_months": 12,
    },
)


def zone(clinic_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(Clinic.get(*Clinic.key(clinic_id)).time_zone)
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se encuentra la clínica.")) from exc


def local_day(clinic_id: str, at: datetime | None = None, tz: ZoneInfo | None = None) -> date:
    """The clinic's date at ``at`` (now by default), in its own time zone."""
    return (at or now()).astimezone(tz or zone(clinic_id)).date()


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months, the last day of the month when it is shorter (31 Aug + 6 =
    28/29 Feb)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def next_booked(clinic_id: str, patient_id: str, after: datetime | None = None) -> str | None:
    """The id of the patient's next booked appointment from ``after`` (now), or None: one
    Query on the agenda's patient index, a few items at most."""
    pivot = (after or now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    it = Item.gsi2.query(
        patient_index(clinic_id, patient_id),
        Item.GSI2SK >= pivot,  # noqa: SIM300
        limit=10,
    )
    for a in it:
        if isinstance(a, Appointment) and a.status in BOOKED_STATUSES:
            return a.appointment_id
    return None


def load_appointment(clinic_id: str, appointment_id: str) -> Appointment | None:
    try:
        return Appointment.get(*Appointment.key(clinic_id, appointment_id), consistent_read=True)
    except DoesNotExist:
        return None


def is_future_booking(a: Appointment) -> bool:
    return a.status in BOOKED_STATUSES and a.start_utc > now().strftime("%Y-%m-%dT%H:%M:%SZ")


# --- rules -------------------------------------------------------------------------------------


def rules(clinic_id: str) -> list[RecallRule]:
    """The clinic's rules (one Query), the defaults written on first use."""
    found = [
        r
        for r in RecallRule.query(clinic_pk(clinic_id), RecallRule.SK.startswith("RRULE#"))
        if isinstance(r, RecallRule)
    ]
    if found:
        return found
    try:
        RecallRulesInit.get(*RecallRulesInit.key(clinic_id), consistent_read=True)
        return []  # the clinic has its rules (none left is its choice)
    except DoesNotExist:
        pass
    at = now()
    made = [
        RecallRule(
            *RecallRule.key(clinic_id, rid := new_id()),
            rule_id=rid,
            created_at=at,
            updated_at=at,
            version=1,
            **r,
        )
        for r in DEFAULT_RULES
    ]
    try:
        with transaction() as tx:
            tx.save(
                RecallRulesInit(*RecallRulesInit.key(clinic_id), at=at),
                condition=RecallRulesInit.SK.does_not_exist(),
            )
            for r in made:
                tx.save(r)
    except TransactWriteError:
        return [
            r
            for r in RecallRule.query(
                clinic_pk(clinic_id), RecallRule.SK.startswith("RRULE#"), consistent_read=True
            )
            if isinstance(r, RecallRule)
        ]
    return made


def rule_name(r: RecallRule | None, lang: str) -> str | None:
    if r is None:
        return None
    return (r.name_en or r.name_es) if lang == "en" else r.name_es


# --- settings ----------------------------------------------------------------------------------


def settings_of(clinic_id: str) -> FollowUpSettings:
    try:
        return FollowUpSettings.get(*FollowUpSettings.key(clinic_id))
    except DoesNotExist:
        return FollowUpSettings(
            *FollowUpSettings.key(clinic_id), recall_reminder_days=list(DEFAULT_REMINDER_DAYS)
        )


def reminder_days(s: FollowUpSettings) -> list[int]:
    if not s.recall_reminders:
        return []
    return [int(d) for d in (s.recall_reminder_days or DEFAULT_REMINDER_DAYS)]


def delay_days(s: FollowUpSettings, kind: str) -> int:
    return int(getattr(s, f"{kind}_days"))


def auto_on(s: FollowUpSettings, kind: str) -> bool:
    return bool(getattr(s, f"auto_{kind}"))


def plus_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()
