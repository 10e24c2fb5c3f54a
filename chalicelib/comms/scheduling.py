"""Time-bucketed work: reminders and each clinic's end-of-day email (docs/adr/0702).

Anything due at a time is a ``Due`` item in the clinic's partition, indexed on GSI1 by the UTC
hour it falls in (``GSI1PK = DUE#2026-03-10T08``) and sorted by kind and due time
(``GSI1SK = REM#2026-03-10T08:25:00Z#<clinic>#<appointment>#<lead>``). A job queries only the
hours between its cursor and now, each for the items of its kind due by now, so its cost grows
with what is due, never with the number of clinics or appointments. A due item is claimed by
deleting it with a condition (only one run wins), and the end-of-day email additionally by a
per-day ``EodSent`` item, so a clinic is never mailed twice for the same day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.agenda.models import Appointment
from chalicelib.comms import service
from chalicelib.comms.models import Due, JobCursor
from chalicelib.core import scoping
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.identity.models import Clinic

BUCKET = timedelta(hours=1)
MAX_CATCH_UP = timedelta(hours=24)
MAX_ATTEMPTS = 12  # an hour of retries at the reminders' 5-minute cadence
EOD_LOCAL_TIME = time(16, 0)
REMINDABLE = ("scheduled", "confirmed")
_HOUR = "%Y-%m-%dT%H"


def bucket(dt: datetime) -> str:
    """The UTC hour holding ``dt``: ``2026-03-10T08``."""
    return dt.astimezone(UTC).strftime(_HOUR)


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def buckets_between(after: str | None, until: datetime) -> list[str]:
    """The buckets after ``after`` (exclusive) up to the one holding ``until`` (inclusive),
    reaching back at most ``MAX_CATCH_UP``."""
    last = datetime.strptime(bucket(until), _HOUR).replace(tzinfo=UTC)
    first = last - MAX_CATCH_UP
    if after:
        prev = datetime.strptime(after[:13], _HOUR).replace(tzinfo=UTC)  # older: minutes too
        first = max(first, prev + BUCKET)
    out = []
    t = first
    while t <= last:
        out.append(t.strftime(_HOUR))
        t += BUCKET
    return out


def index_keys(kind: str, due: datetime, ref: str) -> dict[str, str]:
    """GSI1 keys of a due item: its hour, then kind and due time (``ref`` makes it unique)."""
    return {"GSI1PK": f"DUE#{bucket(due)}", "GSI1SK": f"{kind}#{stamp(due)}#{ref}"}


def run_due(job: str, kind: str, at: datetime, handle: Callable[[Due, datetime], str]) -> dict:
    """Hand each due item of ``kind`` in the buckets since the job's last run to ``handle``
    (once claimed), then advance the job's cursor past the finished buckets.

    A failing item goes back into the current bucket, which the next run reads again, at most
    ``MAX_ATTEMPTS`` times; it never stops the other items. The cursor moves only after every
    item was handled, so a run that dies half-way leaves the unclaimed items to the next run.
    """
    try:
        cursor = JobCursor.get(*JobCursor.key(job), consistent_read=True)
        after = cursor.last_bucket
    except DoesNotExist:
        cursor, after = JobCursor(*JobCursor.key(job)), None
    todo = buckets_between(after, at)
    outcomes: Counter[str] = Counter()
    for b in todo:
        due = Item.GSI1SK.between(f"{kind}#", f"{kind}#{stamp(at)}~")
        for item in list(Item.gsi1.query(f"DUE#{b}", due)):
            if not isinstance(item, Due) or item.due_at > at:
                continue
            # The item's clinic's credentials for all of it: the claim, the work and the retry
            # (ADR 0012: the job's own role reaches the global path only).
            with scoping.for_partition(item.PK):
                if not take(item):
                    continue
                try:
                    outcomes[handle(item, at)] += 1
                except Exception as exc:  # noqa: BLE001 - one failing item must not stop the rest
                    logger.warning(
                        "due item failed", extra={"kind": kind, "error": type(exc).__name__}
                    )
                    outcomes["retry" if _retry_later(item, at) else "failed"] += 1
    # The current hour still holds items due later in it: read it again next run.
    done = [b for b in todo if b < bucket(at)]
    if done:
        cursor.last_bucket = done[-1]
        cursor.save()
    return dict(outcomes)


def take(item: Due) -> bool:
    """Claim a due item by deleting it; False when another run already took it (or it was
    re-planned for another time meanwhile)."""
    try:
        item.delete(condition=Due.SK.exists() & (Due.due_at == item.due_at))
        return True
    except DeleteError as exc:
        if service.is_claimed_error(exc):
            return False
        raise


def _retry_later(item: Due, at: datetime) -> bool:
    attempts = int(item.attempts or 0) + 1
    if attempts >= MAX_ATTEMPTS:
        logger.error("due item given up", extra={"kind": item.kind, "attempts": attempts})
        if item.kind == "EOD":
            ensure_eod(item.clinic_id, at)  # tomorrow's summary still goes out
        return False
    item.attempts = attempts
    item.GSI1PK = f"DUE#{bucket(at)}"  # the hour the next run reads again
    try:
        item.save(condition=Due.SK.does_not_exist())
    except PutError as exc:
        if not service.is_claimed_error(exc):
            raise
        # Re-planned meanwhile (a reschedule): the new item stands.
    return True


# --- reminders -------------------------------------------------------------------------------


def _reminder_items(clinic_id: str, appointment_id: str) -> list[Due]:
    return [
        d
        for d in Due.query(clinic_pk(clinic_id), Due.SK.startswith(f"DUE#REM#{appointment_id}#"))
        if isinstance(d, Due)
    ]


def drop_reminders(clinic_id: str, appointment_id: str) -> None:
    for d in _reminder_items(clinic_id, appointment_id):
        d.delete()


def plan_reminders(
    clinic_id: str, a: Appointment, at: datetime | None = None, *, replace: bool = True
) -> list[Due]:
    """(Re)plan the appointment's reminders at the clinic's lead times still in the future.
    ``replace=False`` skips dropping earlier ones, for an appointment known to have none."""
    at = at or now()
    if replace:
        drop_reminders(clinic_id, a.appointment_id)
    if a.status not in REMINDABLE:
        return []
    start = service.start_utc(a)
    out = []
    for lead in service.load_settings(clinic_id).reminder_leads_min or []:
        due = start - timedelta(minutes=int(lead))
        if due <= at:
            continue
        d = Due(
            clinic_pk(clinic_id),
            f"DUE#REM#{a.appointment_id}#{int(lead)}",
            kind="REM",
            clinic_id=clinic_id,
            due_at=due,
            appointment_id=a.appointment_id,
            lead_min=int(lead),
            planned_start_utc=a.start_utc,
            **index_keys("REM", due, f"{clinic_id}#{a.appointment_id}#{int(lead)}"),
            expires_at=start + timedelta(days=2),
        )
        d.save()
        out.append(d)
    return out


def run_reminders(at: datetime | None = None) -> dict:
    out = run_due("reminders", "REM", at or now(), _remind)
    logger.info("reminders run", extra=out)
    return out


def _remind(d: Due, at: datetime) -> str:
    try:
        a = Appointment.get(*Appointment.key(d.clinic_id, d.appointment_id or ""))
    except DoesNotExist:
        return "skipped"
    if a.status not in REMINDABLE or a.start_utc != d.planned_start_utc:
        return "skipped"
    lead = timedelta(minutes=int(d.lead_min or 0))
    if service.start_utc(a) <= at or at - d.due_at > lead / 2:
        return "late"  # e.g. after the stack was down: a late reminder is noise
    service.notify_appointment(d.clinic_id, a, "reminder")
    return "sent"


# --- end of day ------------------------------------------------------------------------------


def eod_local_time(clinic_id: str) -> time:
    """The clinic's chosen time for the end-of-day email (16:00 unless set)."""
    hh, mm = service.eod_time(service.load_settings(clinic_id)).split(":")
    return time(int(hh), int(mm))


def next_eod(tz: ZoneInfo, after: datetime, at_time: time = EOD_LOCAL_TIME) -> datetime:
    """The first ``at_time`` (16:00 by default) in ``tz`` strictly after ``after`` (DST-aware),
    in UTC."""
    local = after.astimezone(tz)
    for days in range(0, 3):
        d = local.date() + timedelta(days=days)
        candidate = datetime.combine(d, at_time, tz)
        if candidate.astimezone(UTC) > after:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable")


def schedule_eod(clinic_id: str, tz_name: str, after: datetime) -> Due:
    due = next_eod(ZoneInfo(tz_name), after, eod_local_time(clinic_id))
    d = Due(
        clinic_pk(clinic_id),
        "DUE#EOD",
        kind="EOD",
        clinic_id=clinic_id,
        due_at=due,
        **index_keys("EOD", due, clinic_id),
    )
    d.save()
    return d


def ensure_eod(clinic_id: str, at: datetime | None = None) -> None:
    """Give the clinic its next end-of-day slot unless it already has one."""
    try:
        d = Due.get(clinic_pk(clinic_id), "DUE#EOD")
        if (d.GSI1SK or "").startswith(f"EOD#{stamp(d.due_at)}#"):
            return
        # else indexed as an older version did (local data): index it again
    except DoesNotExist:
        pass
    try:
        tz = Clinic.get(*Clinic.key(clinic_id)).time_zone
    except DoesNotExist:
        return
    schedule_eod(clinic_id, tz, at or now())


def run_end_of_day(at: datetime | None = None) -> dict:
    out = run_due("end-of-day", "EOD", at or now(), _end_of_day)
    logger.info("end-of-day run", extra=out)
    return out


def _end_of_day(d: Due, at: datetime) -> str:
    from chalicelib.comms import eod  # noqa: PLC0415

    try:
        c = Clinic.get(*Clinic.key(d.clinic_id))
    except DoesNotExist:
        return "gone"
    local = at.astimezone(ZoneInfo(c.time_zone))
    # A clinic whose zone changed since it was scheduled is moved to its new local time; after
    # that time (16:00 unless the clinic chose another) on a day not yet summarised, it is sent
    # now (late, not never). EodSent keeps it to once per clinic and day whatever happens to
    # the due item.
    sent = local.time() >= eod_local_time(d.clinic_id) and eod.send(c, local.date(), at)
    schedule_eod(d.clinic_id, c.time_zone, at)
    return "sent" if sent else "rescheduled"
