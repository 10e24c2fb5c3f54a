"""Agenda rules: cabinets, professionals, opening hours, holidays and appointments.

Time: each clinic has an IANA zone. A start sent without an offset is wall-clock time in that
zone (a time that does not exist because of a DST jump is refused); a start with an offset is
converted to it. Appointments keep the local start (with its offset) for display and the UTC
start/end for index keys and slot locks (docs/adr/0303-agenda-time-zones.md).

Overlaps: an appointment holds one SlotLock per 5-minute slot for its cabinet and for its
professional, written with ``attribute_not_exists`` in the same transaction as the appointment;
cancelling or marking a no-show releases them (docs/adr/0302-appointment-slot-locks.md). The
patient cannot be in two chairs at once either: each booking of a patient is checked against
that patient's appointments and written with a version condition on the patient's
PatientBookings guard, in the same transaction (ADR 0302, "The patient").

The past: a start before the current 5-minute slot is refused unless the request says
``override`` (with the override permission), like a booking outside opening hours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.agenda import schemas
from chalicelib.agenda.models import (
    Appointment,
    Cabinet,
    Holiday,
    OpeningHours,
    PatientBookings,
    SlotLock,
    cabinet_index,
    clinic_index,
    patient_index,
    professional_index,
)
from chalicelib.agenda.schemas import MAX_DURATION_MIN, SLOT_MIN, WEEKDAYS
from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.db import Item, clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from chalicelib.core.i18n import render, tr
from chalicelib.core.ids import new_id, now
from chalicelib.identity.models import Clinic, Membership
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient
from chalicelib.patients.schemas import Alert

OVERRIDE = "agenda.appointments.override"
MAX_TX_ITEMS = 100
BODY_ITEMS = 4  # most a booking's own writes take in its transaction besides the slot locks
# How long a write stays in a patient's PatientBookings journal: far longer than the patient
# index (GSI2) takes to show it, so the journal and the index together miss nothing.
JOURNAL_KEEP = timedelta(hours=1)
_MORNING = {"start": "09:00", "end": "14:00"}
_EVENING = {"start": "16:00", "end": "20:00"}
DEFAULT_HOURS: dict[str, list[dict[str, str]]] = {
    d: ([dict(_MORNING), dict(_EVENING)] if d in WEEKDAYS[:5] else []) for d in WEEKDAYS
}
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "scheduled": ("confirmed", "checked_in", "cancelled", "no_show"),
    "confirmed": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("in_progress", "cancelled"),
    "in_progress": ("completed",),
    "completed": (),
    # Undo, or the patient called back: a cancelled or missed appointment is booked again at
    # its time, if its cabinet, professional and patient are still free then.
    "cancelled": ("scheduled",),
    "no_show": ("scheduled",),
}
RELEASING = ("cancelled", "no_show")
RESCHEDULABLE = ("scheduled", "confirmed")
STATUS_EVENTS = {
    "confirmed": "appointment.confirmed",
    "checked_in": "appointment.checked_in",
    "in_progress": "appointment.started",
    "completed": "appointment.completed",
    "cancelled": "appointment.cancelled",
    "no_show": "appointment.no_show",
    "scheduled": "appointment.reinstated",
}


def _field_error(field: str, message: str, summary: str | None = None) -> Unprocessable:
    return Unprocessable(summary or message, errors=[{"field": field, "message": message}])


# --- time ----------------------------------------------------------------------------------


def clinic_zone(clinic_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(Clinic.get(*Clinic.key(clinic_id)).time_zone)
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se encuentra la clínica.")) from exc


def localise(start: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in the clinic's zone: naive = wall-clock time there."""
    if start.tzinfo is not None:
        return start.astimezone(tz)
    local = start.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != start:
        raise _field_error(
            "start",
            tr(
                "does not exist in the clinic's time zone (DST change)",
                "no existe en la zona horaria de la clínica (cambio de hora)",
            ),
        )
    return local


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def day_bounds_utc(day: date, tz: ZoneInfo, days: int = 1) -> tuple[str, str]:
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=days), time(0), tz)
    return utc_iso(start), utc_iso(end)


# --- cabinets ------------------------------------------------------------------------------


def _cabinet_out(c: Cabinet) -> schemas.CabinetOut:
    return schemas.CabinetOut(
        cabinet_id=c.cabinet_id,
        name=c.name,
        colour=c.colour,
        position=int(c.position or 0),
        active=bool(c.active),
    )


def cabinets(clinic_id: str) -> list[Cabinet]:
    items = Cabinet.query(clinic_pk(clinic_id), Cabinet.SK.startswith("CAB#"))
    return sorted(items, key=lambda c: (int(c.position or 0), c.name.lower()))


def list_cabinets(principal: Principal) -> list[schemas.CabinetOut]:
    return [_cabinet_out(c) for c in cabinets(principal.clinic_id)]


def load_cabinet(clinic_id: str, cabinet_id: str) -> Cabinet:
    try:
        return Cabinet.get(*Cabinet.key(clinic_id, cabinet_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No cabinet with that id in this clinic.",
                "No hay ningún gabinete con ese id en esta clínica.",
            ),
            code="CABINET_NOT_FOUND",
        ) from exc


def create_cabinet(principal: Principal, data: schemas.CabinetIn) -> schemas.CabinetOut:
    cid, cab_id = principal.clinic_id, new_id()
    c = Cabinet(
        *Cabinet.key(cid, cab_id),
        cabinet_id=cab_id,
        name=data.name,
        colour=data.colour,
        position=data.position,
        active=True,
        created_at=now(),
    )
    c.save(condition=Cabinet.SK.does_not_exist())
    audit.record(
        cid, principal.actor, "cabinet.created", "cabinet", cab_id, after=data.model_dump()
    )
    return _cabinet_out(c)


def update_cabinet(
    principal: Principal, cabinet_id: str, data: schemas.CabinetUpdate
) -> schemas.CabinetOut:
    cid = principal.clinic_id
    c = load_cabinet(cid, cabinet_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise _field_error("name", tr("cannot be cleared", "no se puede dejar vacío"))
    if changes:
        before = {k: getattr(c, k) for k in changes}
        c.update(
            actions=[
                getattr(Cabinet, k).set(v) if v is not None else getattr(Cabinet, k).remove()
                for k, v in changes.items()
            ],
            condition=Cabinet.SK.exists(),
        )
        audit.record(
            cid,
            principal.actor,
            "cabinet.updated",
            "cabinet",
            cabinet_id,
            before=before,
            after=changes,
        )
    return _cabinet_out(c)


def cabinet_upcoming(principal: Principal, cabinet_id: str) -> schemas.CabinetUpcomingOut:
    """Deactivating a cabinet keeps its bookings (they stay where they are, and can be moved);
    the settings screen says how many before asking."""
    cid = principal.clinic_id
    load_cabinet(cid, cabinet_id)
    found = Item.gsi1.query(
        cabinet_index(cid, cabinet_id),
        Item.GSI1SK >= utc_iso(now()),  # noqa: SIM300
        limit=schemas.UPCOMING_CAP * 2,  # cancelled ones are read too; one page either way
    )
    live = [a for a in found if isinstance(a, Appointment) and a.status not in RELEASING]
    # More bookings beyond what was read (many cancelled ones among them) also make it "more than".
    more = len(live) > schemas.UPCOMING_CAP or found.last_evaluated_key is not None
    return schemas.CabinetUpcomingOut(
        cabinet_id=cabinet_id,
        count=min(len(live), schemas.UPCOMING_CAP),
        capped=more,
        first=datetime.fromisoformat(live[0].start) if live else None,
    )


# --- professionals -------------------------------------------------------------------------


def professionals(clinic_id: str) -> list[Membership]:
    members = Membership.query(clinic_pk(clinic_id), Membership.SK.startswith("MEMBER#"))
    return sorted(
        (m for m in members if m.is_professional and m.status == "active"),
        key=lambda m: m.name.lower(),
    )


def list_professionals(principal: Principal) -> list[schemas.ProfessionalOut]:
    return [
        schemas.ProfessionalOut(user_id=m.user_id, name=m.name, role=m.role)
        for m in professionals(principal.clinic_id)
    ]


def _professional(clinic_id: str, user_id: str) -> Membership:
    try:
        m = Membership.get(*Membership.key(clinic_id, user_id))
    except DoesNotExist:
        m = None
    if m is None or m.status != "active" or not m.is_professional:
        raise _field_error(
            "professional_id",
            tr(
                "is not an active professional of this clinic",
                "no es un profesional en activo de esta clínica",
            ),
        )
    return m


def _staff_member(clinic_id: str, user_id: str) -> Membership:
    """A view's professional filter: any member of this clinic, active or not (a former
    professional's appointments stay viewable); an id of no member here is a 422."""
    try:
        return Membership.get(*Membership.key(clinic_id, user_id))
    except DoesNotExist as exc:
        raise _field_error(
            "query.professional_id",
            tr("is not a member of this clinic", "no es miembro de esta clínica"),
        ) from exc


def _active_cabinet(clinic_id: str, cabinet_id: str) -> Cabinet:
    try:
        c = Cabinet.get(*Cabinet.key(clinic_id, cabinet_id))
    except DoesNotExist:
        c = None
    if c is None or not c.active:
        raise _field_error(
            "cabinet_id",
            tr(
                "is not an active cabinet of this clinic",
                "no es un gabinete activo de esta clínica",
            ),
        )
    return c


# --- hours and holidays --------------------------------------------------------------------


def _hours(clinic_id: str) -> tuple[dict[str, list[dict[str, str]]], bool]:
    try:
        return OpeningHours.get(*OpeningHours.key(clinic_id)).hours, True
    except DoesNotExist:
        return DEFAULT_HOURS, False


def opening_hours(clinic_id: str) -> dict[str, list[dict[str, str]]]:
    """The clinic's opening hours by weekday (the default ones until it sets its own)."""
    return _hours(clinic_id)[0]


def holidays_between(clinic_id: str, first: date, last: date) -> dict[str, str]:
    """The clinic's holidays from ``first`` to ``last`` (inclusive): {day: name}."""
    return _holidays_between(clinic_id, first, last)


def get_hours(principal: Principal) -> schemas.OpeningHoursOut:
    hours, custom = _hours(principal.clinic_id)
    return schemas.OpeningHoursOut(
        **hours, time_zone=clinic_zone(principal.clinic_id).key, customised=custom
    )


def set_hours(principal: Principal, data: schemas.OpeningHoursIn) -> schemas.OpeningHoursOut:
    cid = principal.clinic_id
    before, _ = _hours(cid)
    hours = data.model_dump()
    OpeningHours(*OpeningHours.key(cid), hours=hours, updated_at=now()).save()
    audit.record(
        cid,
        principal.actor,
        "agenda.hours_updated",
        "clinic",
        cid,
        before={"hours": before},
        after={"hours": hours},
    )
    return schemas.OpeningHoursOut(**hours, time_zone=clinic_zone(cid).key, customised=True)


def _holidays_between(clinic_id: str, first: date, last: date) -> dict[str, str]:
    items = Holiday.query(
        clinic_pk(clinic_id), Holiday.SK.between(f"HOL#{first.isoformat()}", f"HOL#{last}")
    )
    return {h.date: h.name for h in items}


def list_holidays(principal: Principal, q: schemas.HolidayQuery) -> list[schemas.HolidayOut]:
    if q.year:
        first, last = date(q.year, 1, 1), date(q.year, 12, 31)
    else:
        first, last = date(2000, 1, 1), date(2100, 12, 31)
    found = _holidays_between(principal.clinic_id, first, last)
    return [schemas.HolidayOut(date=date.fromisoformat(d), name=n) for d, n in found.items()]


def add_holiday(principal: Principal, data: schemas.HolidayIn) -> schemas.HolidayOut:
    cid, day = principal.clinic_id, data.date.isoformat()
    try:
        Holiday(*Holiday.key(cid, day), date=day, name=data.name).save(
            condition=Holiday.SK.does_not_exist()
        )
    except Exception as exc:  # PutError on the condition
        if "ConditionalCheckFailed" in repr(exc):
            raise Conflict(
                tr("That day is already a closed day.", "Ese día ya está marcado como cerrado."),
                code="HOLIDAY_EXISTS",
            ) from exc
        raise
    audit.record(
        cid, principal.actor, "agenda.holiday_added", "holiday", day, after={"name": data.name}
    )
    return schemas.HolidayOut(date=data.date, name=data.name)


def add_holiday_range(
    principal: Principal, data: schemas.HolidayRangeIn
) -> schemas.HolidayRangeOut:
    """All the days of the range at once, or none (a transaction): days already closed keep
    their own name (a bank holiday inside the summer closure)."""
    cid = principal.clinic_id
    existing = _holidays_between(cid, data.first, data.last)
    n = (data.last - data.first).days + 1
    days = [(data.first + timedelta(days=i)).isoformat() for i in range(n)]
    new = [d for d in days if d not in existing]
    if new:
        try:
            with transaction() as tx:
                for d in new:
                    tx.save(
                        Holiday(*Holiday.key(cid, d), date=d, name=data.name),
                        condition=Holiday.SK.does_not_exist(),
                    )
        except TransactWriteError as exc:  # another desk closed one of them meanwhile
            raise Conflict(
                tr(
                    "Some of those days were closed meanwhile; try again.",
                    "Algunos de esos días se cerraron mientras tanto; inténtalo de nuevo.",
                ),
                code="HOLIDAY_EXISTS",
            ) from exc
        for d in new:
            audit.record(
                cid,
                principal.actor,
                "agenda.holiday_added",
                "holiday",
                d,
                after={"name": data.name},
            )
    return schemas.HolidayRangeOut(
        added=[schemas.HolidayOut(date=date.fromisoformat(d), name=data.name) for d in new],
        already_closed=[
            schemas.HolidayOut(date=date.fromisoformat(d), name=n)
            for d, n in sorted(existing.items())
        ],
    )


def remove_holiday(principal: Principal, day: str) -> None:
    cid = principal.clinic_id
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise NotFound(_NO_CLOSED_DAY) from exc
    try:
        Holiday(*Holiday.key(cid, day)).delete(condition=Holiday.SK.exists())
    except DeleteError as exc:
        raise NotFound(_NO_CLOSED_DAY) from exc
    audit.record(cid, principal.actor, "agenda.holiday_removed", "holiday", day)


_NO_CLOSED_DAY = tr("No closed day on that date.", "No hay ningún día cerrado en esa fecha.")
_WEEKDAYS_ES = {
    "monday": "los lunes",
    "tuesday": "los martes",
    "wednesday": "los miércoles",
    "thursday": "los jueves",
    "friday": "los viernes",
    "saturday": "los sábados",
    "sunday": "los domingos",
}


def hours_problem(clinic_id: str, local_start: datetime, duration_min: int) -> str | None:
    """Why the slot is outside opening hours, or None when it is inside."""
    tz = local_start.tzinfo
    assert isinstance(tz, ZoneInfo)
    local_end = (local_start.astimezone(UTC) + timedelta(minutes=duration_min)).astimezone(tz)
    day = local_start.date()
    holiday = _holidays_between(clinic_id, day, day).get(day.isoformat())
    if holiday:
        return tr(
            f"the clinic is closed on {day.isoformat()} ({holiday})",
            f"la clínica está cerrada el {day.isoformat()} ({holiday})",
        )
    hours, _ = _hours(clinic_id)
    weekday = WEEKDAYS[day.weekday()]
    ranges = hours.get(weekday) or []
    if not ranges:
        return tr(
            f"the clinic is closed on {weekday}s",
            f"la clínica cierra {_WEEKDAYS_ES[weekday]}",
        )
    end_hhmm = local_end.strftime("%H:%M")
    if local_end.date() != day:
        if local_end.date() == day + timedelta(days=1) and end_hhmm == "00:00":
            end_hhmm = "24:00"
        else:
            return tr("the appointment runs past midnight", "la cita pasa de la medianoche")
    start_hhmm = local_start.strftime("%H:%M")
    if any(r["start"] <= start_hhmm and end_hhmm <= r["end"] for r in ranges):
        return None
    shown = ", ".join(f"{r['start']}-{r['end']}" for r in ranges)
    return tr(
        f"outside opening hours ({weekday}: {shown})",
        f"fuera del horario de apertura ({_WEEKDAYS_ES[weekday]}: {shown})",
    )


def _check_hours(principal: Principal, local: datetime, duration: int, override: bool) -> bool:
    """True when the booking is outside hours (and allowed by override)."""
    problem = hours_problem(principal.clinic_id, local, duration)
    if problem is None:
        return False
    if not override:
        raise _field_error(
            "start",
            problem,
            tr(
                f"Cannot book: {problem}. Choose another time, or override if you are allowed to.",
                f"No se puede citar: {render(problem, 'es')}. Elige otra hora, o cita fuera del "
                "horario si tu rol lo permite.",
            ),
        )
    if not principal.can(OVERRIDE):
        raise Forbidden(
            tr(
                f"Booking outside opening hours needs the '{OVERRIDE}' permission.",
                f"Citar fuera del horario necesita el permiso '{OVERRIDE}'.",
            ),
            code="FORBIDDEN",
            data={"permission": OVERRIDE},
        )
    return True


def _check_past(principal: Principal, local: datetime, override: bool) -> bool:
    """True when the start is in the past (and allowed by override). The slot under way is
    not the past: a walk-in at 10:03 is booked at 10:00."""
    if local.astimezone(UTC) + timedelta(minutes=SLOT_MIN) > now():
        return False
    if not override:
        raise _field_error(
            "start",
            tr("is in the past", "ya ha pasado"),
            tr(
                "Cannot book in the past. Choose a later time, or send override to record a "
                "visit after the fact if your role allows it.",
                "No se puede citar en el pasado. Elige una hora posterior, o envía override para "
                "registrar una visita ya hecha si tu rol lo permite.",
            ),
        )
    if not principal.can(OVERRIDE):
        raise Forbidden(
            tr(
                f"Booking in the past needs the '{OVERRIDE}' permission.",
                f"Citar en el pasado necesita el permiso '{OVERRIDE}'.",
            ),
            code="FORBIDDEN",
            data={"permission": OVERRIDE},
        )
    return True


# --- slot locks ----------------------------------------------------------------------------


def lock_keys(
    clinic_id: str, cabinet_id: str, professional_id: str, start_utc: datetime, duration: int
) -> list[tuple[str, str]]:
    pk = clinic_pk(clinic_id)
    keys = []
    for i in range(0, duration, SLOT_MIN):
        slot = utc_iso(start_utc + timedelta(minutes=i))
        keys.append((pk, f"SLOT#CAB#{cabinet_id}#{slot}"))
        keys.append((pk, f"SLOT#PRO#{professional_id}#{slot}"))
    return keys


def _keys_of(a: Appointment) -> list[tuple[str, str]]:
    return lock_keys(
        a.PK.removeprefix("C#"),
        a.cabinet_id,
        a.professional_id,
        parse_utc(a.start_utc),
        int(a.duration_min),
    )


def _holds(a: Appointment, sk: str) -> bool:
    """Whether appointment ``a`` really occupies the slot of lock ``sk`` now."""
    _, kind, resource, slot = sk.split("#", 3)
    if a.status in RELEASING:
        return False
    if (kind == "CAB" and a.cabinet_id != resource) or (
        kind == "PRO" and a.professional_id != resource
    ):
        return False
    return a.start_utc <= slot < a.end_utc


def _find_conflict(
    clinic_id: str, appointment_id: str, keys: list[tuple[str, str]]
) -> tuple[Appointment | None, str | None, bool]:
    """After a failed write: the appointment holding one of ``keys`` (and which resource), or
    (None, None, healed) where healed says stale locks were released and a retry may work."""
    held: dict[str, list[str]] = {}
    for i in range(0, len(keys), 100):
        for lock in SlotLock.batch_get(keys[i : i + 100], consistent_read=True):
            if lock.appointment_id != appointment_id:
                held.setdefault(lock.appointment_id, []).append(lock.SK)
    healed = False
    found: list[tuple[Appointment, str]] = []
    for holder_id, sks in held.items():
        try:
            holder = Appointment.get(*Appointment.key(clinic_id, holder_id), consistent_read=True)
        except DoesNotExist:
            holder = None
        real = [sk for sk in sks if holder is not None and _holds(holder, sk)]
        if holder is not None and real:
            found.append((holder, "cabinet" if "#CAB#" in real[0] else "professional"))
            continue
        for sk in sks:  # left behind by an interrupted write: release
            try:
                SlotLock(clinic_pk(clinic_id), sk).delete(
                    condition=SlotLock.appointment_id == holder_id
                )
                healed = True
            except DeleteError:
                pass
    if found:
        holder, resource = min(found, key=lambda f: f[0].start_utc)
        return holder, resource, healed
    return None, None, healed


def _conflict_error(principal: Principal, holder: Appointment, resource: str) -> Conflict:
    info: dict[str, Any] = {
        "appointment_id": holder.appointment_id,
        "start": holder.start,
        "end": _end_local(holder).isoformat(),
        "cabinet_id": holder.cabinet_id,
        "professional_id": holder.professional_id,
        "status": holder.status,
    }
    if principal.can("patients.read"):
        facts = _patient_facts(principal, [holder.patient_id])
        info["patient_name"] = facts[holder.patient_id].name if holder.patient_id in facts else None
    if resource == "patient":
        message = tr(
            "The patient already has an appointment at that time, in another cabinet or with "
            f"another professional (appointment at {holder.start}).",
            "El paciente ya tiene una cita a esa hora, en otro gabinete o con otro profesional "
            f"(la de las {holder.start}).",
        )
    else:
        what = "cabinet" if resource == "cabinet" else "professional"
        what_es = "El gabinete" if resource == "cabinet" else "El profesional"
        message = tr(
            f"The {what} is already booked at that time (appointment at {holder.start}).",
            f"{what_es} ya tiene una cita a esa hora (la de las {holder.start}).",
        )
    return Conflict(
        message, code="APPOINTMENT_CONFLICT", data={"conflict_with": info, "resource": resource}
    )


# --- the patient ---------------------------------------------------------------------------


def _overlaps(a_start: str, a_end: str, b_start: str, b_end: str) -> bool:
    return a_start < b_end and b_start < a_end  # UTC ISO strings of one format sort as times


@dataclass
class _PatientGuard:
    """A booking's write of its patient's PatientBookings item, and the version it read."""

    item: PatientBookings
    read_version: int | None  # None: the patient had no guard item yet

    def save(self, tx: TransactWrite) -> None:
        condition = (
            PatientBookings.SK.does_not_exist()
            if self.read_version is None
            else PatientBookings.version == self.read_version
        )
        tx.save(self.item, condition=condition)

    def moved(self) -> bool:
        """Whether another booking of the patient was written since it was read."""
        try:
            current = PatientBookings.get(self.item.PK, self.item.SK, consistent_read=True)
        except DoesNotExist:
            return False
        return int(current.version or 0) != self.read_version


def _patient_clash(clinic_id: str, a: Appointment, recent: dict[str, Any]) -> Appointment | None:
    """The earliest live appointment of ``a``'s patient that overlaps ``a``, if any. The patient
    index (GSI2) shows what was written before the last moments; ``recent`` (read consistently)
    shows those moments; each candidate is then read consistently, so a stale index entry (a
    moved or cancelled appointment) never refuses a booking."""
    lo = utc_iso(parse_utc(a.start_utc) - timedelta(minutes=MAX_DURATION_MIN))
    index = patient_index(clinic_id, a.patient_id)
    candidates = {
        x.appointment_id
        for x in _between(Item.gsi2, Item.GSI2SK, index, lo, a.end_utc)
        if x.status not in RELEASING and _overlaps(x.start_utc, x.end_utc, a.start_utc, a.end_utc)
    }
    candidates |= {
        aid
        for aid, (start, end, _written) in recent.items()
        if _overlaps(start, end, a.start_utc, a.end_utc)
    }
    candidates.discard(a.appointment_id)
    found = []
    for aid in sorted(candidates):
        try:
            other = Appointment.get(*Appointment.key(clinic_id, aid), consistent_read=True)
        except DoesNotExist:
            continue
        if (
            other.status not in RELEASING
            and other.patient_id == a.patient_id
            and _overlaps(other.start_utc, other.end_utc, a.start_utc, a.end_utc)
        ):
            found.append(other)
    return min(found, key=lambda o: o.start_utc) if found else None


def _patient_guard(
    principal: Principal, a: Appointment, add: list[tuple[str, str]]
) -> _PatientGuard:
    """Refuse (409) when ``a``'s patient is booked elsewhere at that time; otherwise the guard
    write that makes the check hold until the transaction commits."""
    cid = principal.clinic_id
    key = PatientBookings.key(cid, a.patient_id)
    try:
        guard = PatientBookings.get(*key, consistent_read=True)
        read_version: int | None = int(guard.version or 0)
    except DoesNotExist:
        guard, read_version = PatientBookings(*key, version=0, recent={}), None
    clash = _patient_clash(cid, a, guard.recent or {})
    if clash is not None:
        # A clash of the cabinet or professional is named first, as before this check existed.
        holder, resource, _ = _find_conflict(cid, a.appointment_id, add)
        if holder is not None:
            raise _conflict_error(principal, holder, resource or "cabinet")
        raise _conflict_error(principal, clash, "patient")
    at = now()
    keep_from = utc_iso(at - JOURNAL_KEEP)
    recent = {k: v for k, v in (guard.recent or {}).items() if v[2] >= keep_from}
    recent[a.appointment_id] = [a.start_utc, a.end_utc, utc_iso(at)]
    guard.recent = recent
    guard.version = (read_version or 0) + 1
    return _PatientGuard(guard, read_version)


def _write(
    principal: Principal,
    appointment_id: str,
    body: Callable[[TransactWrite], None],
    add: Iterable[tuple[str, str]] = (),
    release: Iterable[tuple[str, str]] = (),
    stale_message: str = tr(
        "The appointment changed meanwhile; reload and try again.",
        "La cita ha cambiado mientras tanto; recarga e inténtalo de nuevo.",
    ),
    patient: Appointment | None = None,
) -> None:
    """Write ``body`` together with the slot locks to take and to release, atomically when it
    fits in one transaction (always, for bookings up to 4 hours). With ``patient`` (a booking
    or a move of its time), the patient's clash check and guard join the transaction; when
    another booking of the patient wins the race, the check runs again and names it."""
    add, release = list(add), list(release)
    for _attempt in range(3):
        guard = _patient_guard(principal, patient, add) if patient is not None else None
        try:
            fits = BODY_ITEMS + len(add) + len(release) <= MAX_TX_ITEMS
            with transaction() as tx:
                body(tx)
                if guard is not None:
                    guard.save(tx)
                for k in add:
                    tx.save(
                        SlotLock(*k, appointment_id=appointment_id),
                        condition=SlotLock.SK.does_not_exist(),
                    )
                if fits:
                    for k in release:
                        tx.delete(SlotLock(*k), condition=SlotLock.appointment_id == appointment_id)
            if not fits:
                # The new slots are held and the appointment moved; the old slots no longer
                # match it, so a crash here only leaves locks that _find_conflict releases.
                for k in release:
                    with contextlib.suppress(DeleteError):
                        SlotLock(*k).delete(condition=SlotLock.appointment_id == appointment_id)
            return
        except TransactWriteError as exc:
            holder, resource, healed = _find_conflict(principal.clinic_id, appointment_id, add)
            if holder is not None:
                raise _conflict_error(principal, holder, resource or "cabinet") from exc
            if guard is not None and guard.moved():
                continue
            if not healed:
                raise Conflict(stale_message, code="APPOINTMENT_CHANGED") from exc
    raise Conflict(stale_message, code="APPOINTMENT_CHANGED")


# --- appointments: shaping -----------------------------------------------------------------


def _end_local(a: Appointment) -> datetime:
    return parse_utc(a.end_utc).astimezone(ZoneInfo(a.time_zone))


@dataclass(frozen=True)
class PatientFacts:
    """What an appointment shows of its patient: the name and the medical alerts."""

    name: str
    alerts: list[Alert]


def _patient_facts(principal: Principal, patient_ids: Iterable[str]) -> dict[str, PatientFacts]:
    """One batch read for every patient of a view (nothing without patients.read)."""
    if not principal.can("patients.read"):
        return {}
    cid = principal.clinic_id
    found = patients.load_many(cid, patient_ids)
    return {
        pid: PatientFacts(patients.display_name(p), patients.alerts_of(cid, p))
        for pid, p in found.items()
    }


def to_out(a: Appointment, facts: dict[str, PatientFacts]) -> schemas.AppointmentOut:
    patient = facts.get(a.patient_id)
    return schemas.AppointmentOut(
        appointment_id=a.appointment_id,
        patient_id=a.patient_id,
        patient_name=patient.name if patient else None,
        patient_alerts=patient.alerts if patient else [],
        professional_id=a.professional_id,
        professional_name=a.professional_name,
        cabinet_id=a.cabinet_id,
        start=datetime.fromisoformat(a.start),
        end=_end_local(a),
        time_zone=a.time_zone,
        duration_min=int(a.duration_min),
        reason=a.reason,
        treatment=a.treatment,
        colour=a.colour,  # type: ignore[arg-type]
        notes=a.notes,
        status=a.status,  # type: ignore[arg-type]
        allowed_transitions=list(TRANSITIONS[a.status]),  # type: ignore[arg-type]
        status_history=a.status_history or [],
        reschedules=a.reschedules or [],
        outside_hours=bool(a.outside_hours),
        source=a.source or "staff",  # type: ignore[arg-type]
        booking_ref=a.booking_ref,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def _outs(principal: Principal, items: list[Appointment]) -> list[schemas.AppointmentOut]:
    facts = _patient_facts(principal, [a.patient_id for a in items])
    return [to_out(a, facts) for a in items]


def load(clinic_id: str, appointment_id: str) -> Appointment:
    try:
        return Appointment.get(*Appointment.key(clinic_id, appointment_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No appointment with that id in this clinic.",
                "No hay ninguna cita con ese id en esta clínica.",
            ),
            code="APPOINTMENT_NOT_FOUND",
        ) from exc


def get(principal: Principal, appointment_id: str) -> schemas.AppointmentOut:
    return _outs(principal, [load(principal.clinic_id, appointment_id)])[0]


def _place(a: Appointment, clinic_id: str, local: datetime, duration: int) -> None:
    start_utc = local.astimezone(UTC)
    a.start = local.isoformat()
    a.start_utc = utc_iso(start_utc)
    a.end_utc = utc_iso(start_utc + timedelta(minutes=duration))
    assert isinstance(local.tzinfo, ZoneInfo)
    a.time_zone = local.tzinfo.key
    a.duration_min = duration
    sk = f"{a.start_utc}#{a.appointment_id}"
    a.GSI1PK, a.GSI1SK = cabinet_index(clinic_id, a.cabinet_id), sk
    a.GSI2PK, a.GSI2SK = patient_index(clinic_id, a.patient_id), sk
    a.GSI3PK, a.GSI3SK = professional_index(clinic_id, a.professional_id), sk
    a.GSI4PK, a.GSI4SK = clinic_index(clinic_id), sk


def _placement(a: Appointment) -> dict[str, Any]:
    return {
        "start": a.start,
        "duration_min": int(a.duration_min),
        "cabinet_id": a.cabinet_id,
        "professional_id": a.professional_id,
    }


def _event_payload(a: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": a.appointment_id,
        "patient_id": a.patient_id,
        "start": a.start,
        "duration_min": int(a.duration_min),
        "cabinet_id": a.cabinet_id,
        "professional_id": a.professional_id,
        "status": a.status,
        "source": a.source or "staff",
        **({"booking_ref": a.booking_ref} if a.booking_ref else {}),
    }


def _overridden(past: bool, outside: bool) -> dict[str, list[str]]:
    """What the booking's ``override`` let through, for its audit entry (nothing if unused)."""
    used = [name for name, on in (("past", past), ("outside_hours", outside)) if on]
    return {"override": used} if used else {}


def _bookable_patient(clinic_id: str, patient_id: str) -> Patient:
    try:
        p = patients.load(clinic_id, patient_id)
    except NotFound as exc:
        raise _field_error(
            "patient_id", tr("is not a patient of this clinic", "no es paciente de esta clínica")
        ) from exc
    if p.archived:
        raise _field_error(
            "patient_id",
            tr(
                "is archived; unarchive the patient first",
                "está archivado; recupéralo primero",
            ),
        )
    if p.blocked:
        raise patients.blocked_error()
    return p


# --- appointments: writes ------------------------------------------------------------------


def create(
    principal: Principal,
    data: schemas.AppointmentIn,
    *,
    source: str = "staff",
    booking_ref: str | None = None,
) -> schemas.AppointmentOut:
    """Book an appointment. ``source="online"`` is the public booking page, whose principal is
    a system actor (chalicelib.booking) holding no permission, so it can never override the
    hours or the past; ``booking_ref`` is what led to it (e.g. ``recall:<id>``)."""
    cid = principal.clinic_id
    patient = _bookable_patient(cid, data.patient_id)
    pro = _professional(cid, data.professional_id)
    _active_cabinet(cid, data.cabinet_id)
    local = localise(data.start, clinic_zone(cid))
    past = _check_past(principal, local, data.override)
    outside = _check_hours(principal, local, data.duration_min, data.override)
    aid, at = new_id(), now()
    a = Appointment(
        *Appointment.key(cid, aid),
        appointment_id=aid,
        patient_id=patient.patient_id,
        professional_id=pro.user_id,
        professional_name=pro.name,
        cabinet_id=data.cabinet_id,
        reason=data.reason,
        treatment=data.treatment,
        colour=data.colour,
        notes=data.notes,
        status="scheduled",
        status_history=[
            {"status": "scheduled", "at": at.isoformat(), "by": principal.user_id, "reason": None}
        ],
        reschedules=[],
        outside_hours=outside,
        source=None if source == "staff" else source,
        booking_ref=booking_ref,
        created_at=at,
        created_by=principal.user_id,
        updated_at=at,
        version=1,
    )
    _place(a, cid, local, data.duration_min)

    def body(tx: TransactWrite) -> None:
        tx.save(a, condition=Appointment.SK.does_not_exist())
        tx.condition_check(
            Patient,
            *Patient.key(cid, patient.patient_id),
            condition=Patient.archived == False,  # noqa: E712
        )
        entry = audit.entry(
            cid,
            principal.actor,
            "appointment.scheduled",
            "appointment",
            aid,
            after={
                **_placement(a),
                "patient_id": a.patient_id,
                "reason": a.reason,
                **_overridden(past, outside),
                **({"source": source} if source != "staff" else {}),
            },
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())

    _write(
        principal,
        aid,
        body,
        add=_keys_of(a),
        patient=a,
        stale_message=tr(
            "The patient was archived meanwhile; reload and try again.",
            "El paciente se ha archivado mientras tanto; recarga e inténtalo de nuevo.",
        ),
    )
    events.publish("appointment.scheduled", cid, principal.actor, **_event_payload(a))
    return _outs(principal, [a])[0]


def update(
    principal: Principal, appointment_id: str, data: schemas.AppointmentUpdate
) -> schemas.AppointmentOut:
    cid = principal.clinic_id
    a = load(cid, appointment_id)
    sent = data.model_dump(include=data.model_fields_set - {"override", "reschedule_reason"})
    before_place = _placement(a)
    before_plain = {k: getattr(a, k) for k in ("reason", "treatment", "colour", "notes")}
    tz = ZoneInfo(a.time_zone)
    local = (
        localise(sent["start"], tz)
        if "start" in sent
        else datetime.fromisoformat(a.start).astimezone(tz)
    )
    new_place = {
        "start": local.isoformat(),
        "duration_min": sent.get("duration_min", int(a.duration_min)),
        "cabinet_id": sent.get("cabinet_id", a.cabinet_id),
        "professional_id": sent.get("professional_id", a.professional_id),
    }
    moved = [k for k in new_place if new_place[k] != before_place[k]]
    if moved and a.status not in RESCHEDULABLE:
        raise Conflict(
            tr(
                f"A {a.status} appointment cannot be rescheduled; book a new one.",
                f"Una cita en estado {a.status} no se puede reprogramar; crea una nueva.",
            ),
            code="INVALID_STATUS",
            data={"current_status": a.status},
        )
    plain_changes = [
        k
        for k in ("reason", "treatment", "colour", "notes")
        if k in sent and sent[k] != before_plain[k]
    ]
    if not moved and not plain_changes:
        return _outs(principal, [a])[0]
    old_keys = set(_keys_of(a))
    version = int(a.version or 1)
    at = now()
    past = outside = False
    if moved:
        past = _check_past(principal, local, data.override)
        if "professional_id" in moved:
            a.professional_name = _professional(cid, new_place["professional_id"]).name
            a.professional_id = new_place["professional_id"]
        if "cabinet_id" in moved:
            _active_cabinet(cid, new_place["cabinet_id"])
            a.cabinet_id = new_place["cabinet_id"]
        outside = _check_hours(principal, local, new_place["duration_min"], data.override)
        a.outside_hours = outside
        _place(a, cid, local, new_place["duration_min"])
        a.reschedules = [
            *(a.reschedules or []),
            {
                "at": at.isoformat(),
                "by": principal.user_id,
                "reason": data.reschedule_reason,
                "previous": before_place,
                "new": _placement(a),
            },
        ]
    for k in plain_changes:
        setattr(a, k, sent[k])
    a.updated_at = at
    a.version = version + 1
    new_keys = set(_keys_of(a))
    changes = sorted(set(moved) | set(plain_changes))

    def body(tx: TransactWrite) -> None:
        tx.save(a, condition=Appointment.version == version)
        entry = audit.entry(
            cid,
            principal.actor,
            "appointment.updated",
            "appointment",
            appointment_id,
            before={**before_place, **before_plain},
            after={
                **_placement(a),
                **{k: getattr(a, k) for k in before_plain},
                **_overridden(past, outside),
            },
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())

    _write(
        principal,
        appointment_id,
        body,
        add=sorted(new_keys - old_keys),
        release=sorted(old_keys - new_keys),
        # only a new time can clash with the patient's other appointments
        patient=a if {"start", "duration_min"} & set(moved) else None,
    )
    events.publish(
        "appointment.updated",
        cid,
        principal.actor,
        **_event_payload(a),
        changes=changes,
        rescheduled=bool(moved),
    )
    return _outs(principal, [a])[0]


def change_status(
    principal: Principal, appointment_id: str, data: schemas.StatusIn
) -> schemas.AppointmentOut:
    cid = principal.clinic_id
    a = load(cid, appointment_id)
    allowed = TRANSITIONS[a.status]
    if data.status not in allowed:
        raise Conflict(
            tr(
                f"The appointment is {a.status}; it cannot become {data.status}.",
                f"La cita está en estado {a.status}; no puede pasar a {data.status}.",
            ),
            code="INVALID_TRANSITION",
            data={"current_status": a.status, "allowed": list(allowed)},
        )
    previous, version, at = a.status, int(a.version or 1), now()
    release = _keys_of(a) if data.status in RELEASING else []
    # Reinstating takes the slots back, with the booking's own checks (cabinet, professional,
    # the patient in another chair), in the same transaction.
    reinstating = previous in RELEASING
    take = _keys_of(a) if reinstating else []
    a.status = data.status
    a.status_history = [
        *(a.status_history or []),
        {
            "status": data.status,
            "at": at.isoformat(),
            "by": principal.user_id,
            "reason": data.reason,
        },
    ]
    a.updated_at = at
    a.version = version + 1

    def body(tx: TransactWrite) -> None:
        tx.save(a, condition=Appointment.version == version)
        entry = audit.entry(
            cid,
            principal.actor,
            STATUS_EVENTS[data.status],
            "appointment",
            appointment_id,
            before={"status": previous},
            after={"status": data.status},
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())

    _write(
        principal,
        appointment_id,
        body,
        add=take,
        release=release,
        patient=a if reinstating else None,
    )
    events.publish(
        STATUS_EVENTS[data.status],
        cid,
        principal.actor,
        **_event_payload(a),
        previous_status=previous,
    )
    return _outs(principal, [a])[0]


# --- views ---------------------------------------------------------------------------------


def _between(index: Any, attr: Any, pk: str, lo: str, hi: str) -> list[Appointment]:
    return [a for a in index.query(pk, attr.between(lo, hi)) if isinstance(a, Appointment)]


def live_between(clinic_id: str, lo: str, hi: str) -> list[Appointment]:
    """The clinic's live appointments starting from ``lo`` to ``hi`` (UTC ISO): one Query of
    the clinic time index (GSI4, ADR 0305), whatever the number of cabinets; for the online
    booking page's slot search."""
    found = _between(Item.gsi4, Item.GSI4SK, clinic_index(clinic_id), lo, hi)
    return [a for a in found if a.status not in RELEASING]


def _appointments_in(
    principal: Principal, q: schemas.ViewQuery, lo: str, hi: str
) -> list[Appointment]:
    cid = principal.clinic_id
    if q.professional_id:
        _staff_member(cid, q.professional_id)
        found = _between(Item.gsi3, Item.GSI3SK, professional_index(cid, q.professional_id), lo, hi)
    elif q.cabinet_id:
        load_cabinet(cid, q.cabinet_id)
        found = _between(Item.gsi1, Item.GSI1SK, cabinet_index(cid, q.cabinet_id), lo, hi)
    else:  # every cabinet: one Query, however many cabinets (ADR 0305)
        found = _between(Item.gsi4, Item.GSI4SK, clinic_index(cid), lo, hi)
    if not q.include_cancelled:
        found = [a for a in found if a.status not in RELEASING]
    return sorted(found, key=lambda a: (a.start_utc, a.appointment_id))


def _days(
    principal: Principal, q: schemas.ViewQuery, first: date, n: int
) -> tuple[ZoneInfo, list[schemas.DayOut]]:
    cid = principal.clinic_id
    tz = clinic_zone(cid)
    lo, hi = day_bounds_utc(first, tz, n)
    appts = _outs(principal, _appointments_in(principal, q, lo, hi))
    hours, _ = _hours(cid)
    last = first + timedelta(days=n - 1)
    holidays = _holidays_between(cid, first, last)
    out = []
    for i in range(n):
        day = first + timedelta(days=i)
        weekday = WEEKDAYS[day.weekday()]
        holiday = holidays.get(day.isoformat())
        ranges = [] if holiday else hours.get(weekday, [])
        out.append(
            schemas.DayOut(
                date=day,
                weekday=weekday,
                time_zone=tz.key,
                closed=not ranges,
                holiday=holiday,
                hours=ranges,
                appointments=[a for a in appts if a.start.date() == day],
            )
        )
    return tz, out


def day_view(principal: Principal, q: schemas.DayQuery) -> schemas.DayOut:
    return _days(principal, q, q.date, 1)[1][0]


def week_view(principal: Principal, q: schemas.WeekQuery) -> schemas.WeekOut:
    tz, days = _days(principal, q, q.start, 7)
    return schemas.WeekOut(
        start=q.start, end=q.start + timedelta(days=6), time_zone=tz.key, days=days
    )


def patient_appointments(
    principal: Principal, patient_id: str, q: schemas.PatientAppointmentsQuery
) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = patient_index(cid, patient_id)
    pivot = utc_iso(now())
    cond = Item.GSI2SK >= pivot if q.when == "upcoming" else Item.GSI2SK < pivot  # noqa: SIM300
    result = Item.gsi2.query(
        pk,
        cond,
        scan_index_forward=q.when == "upcoming",
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk)),
    )
    items = [a for a in result if isinstance(a, Appointment)]
    return Page(_outs(principal, items), encode_cursor(result.last_evaluated_key))
