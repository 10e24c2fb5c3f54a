"""Free slots of an online appointment type, computed from plain data (no I/O): the opening
hours, the holidays and the live appointments of the days shown, read by the service with a
constant number of queries (docs/adr/1403-online-booking-page-and-widget.md).

A start is offered when the whole appointment fits in one opening range of its day, the day is
not a holiday, it is at least the minimum notice from now and within the horizon, and some
allowed professional AND some allowed cabinet are free from ``buffer`` minutes before it to
``buffer`` minutes after it. Starts step every :data:`STEP_MIN` minutes from each range's start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STEP_MIN = 15


@dataclass(frozen=True)
class Busy:
    """A live appointment: what it holds and when (UTC)."""

    start: datetime
    end: datetime
    professional_id: str
    cabinet_id: str


@dataclass(frozen=True)
class Rules:
    duration_min: int
    professional_ids: Sequence[str]
    cabinet_ids: Sequence[str]
    buffer_min: int = 0
    earliest: datetime | None = None  # now + minimum notice (UTC, aware)
    last_day: date | None = None  # the horizon's last local day


@dataclass(frozen=True)
class Slot:
    start: datetime  # local, aware
    professional_id: str
    cabinet_id: str


def _hhmm(day: date, value: str, tz: ZoneInfo) -> datetime:
    if value == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    h, m = (int(x) for x in value.split(":"))
    return datetime.combine(day, time(h, m), tz)


def _free(busy: Iterable[Busy], lo: datetime, hi: datetime, resource: str, is_pro: bool) -> bool:
    for b in busy:
        if (
            (b.professional_id if is_pro else b.cabinet_id) == resource
            and b.start < hi
            and lo < b.end
        ):
            return False
    return True


def free_slots(
    days: Iterable[date],
    tz: ZoneInfo,
    hours: dict[str, list[dict[str, str]]],
    holidays: set[str] | dict[str, str],
    busy: Sequence[Busy],
    rules: Rules,
) -> dict[date, list[Slot]]:
    """{day: the offered starts, each with the first free professional and cabinet}."""
    out: dict[date, list[Slot]] = {}
    duration = timedelta(minutes=rules.duration_min)
    pad = timedelta(minutes=rules.buffer_min)
    for day in days:
        found: list[Slot] = []
        out[day] = found
        if day.isoformat() in holidays or (rules.last_day and day > rules.last_day):
            continue
        for r in hours.get(WEEKDAYS[day.weekday()]) or []:
            start, end = _hhmm(day, r["start"], tz), _hhmm(day, r["end"], tz)
            t = start
            while True:
                t_utc = t.astimezone(UTC)
                e_utc = t_utc + duration
                if e_utc > end.astimezone(UTC):
                    break
                if rules.earliest is None or t_utc >= rules.earliest:
                    lo, hi = t_utc - pad, e_utc + pad
                    pro = next(
                        (p for p in rules.professional_ids if _free(busy, lo, hi, p, True)), None
                    )
                    cab = next(
                        (c for c in rules.cabinet_ids if _free(busy, lo, hi, c, False)), None
                    )
                    if pro is not None and cab is not None:
                        found.append(Slot(t_utc.astimezone(tz), pro, cab))
                t = (t_utc + timedelta(minutes=STEP_MIN)).astimezone(tz)
    return out


def pairs_for(start_local: datetime, busy: Sequence[Busy], rules: Rules) -> list[tuple[str, str]]:
    """Every free (professional, cabinet) pair for one start, in preference order."""
    t_utc = start_local.astimezone(UTC)
    pad = timedelta(minutes=rules.buffer_min)
    lo, hi = t_utc - pad, t_utc + timedelta(minutes=rules.duration_min) + pad
    pros = [p for p in rules.professional_ids if _free(busy, lo, hi, p, True)]
    cabs = [c for c in rules.cabinet_ids if _free(busy, lo, hi, c, False)]
    return [(p, c) for p in pros for c in cabs]
