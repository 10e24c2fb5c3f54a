"""The pure slot computation: opening hours, holidays, existing appointments, buffers, minimum
notice, horizon, and a slot needing some allowed professional AND some allowed cabinet free."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.booking.slots import Busy, Rules, free_slots, pairs_for

TZ = ZoneInfo("Europe/Madrid")
TUE = date(2027, 3, 9)  # a Tuesday (CET, UTC+1)
HOURS = {"tuesday": [{"start": "09:00", "end": "11:00"}], "wednesday": []}


def local(day: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=TZ)


def busy(day: date, start: str, end: str, pro: str = "P1", cab: str = "C1") -> Busy:
    return Busy(local(day, start).astimezone(UTC), local(day, end).astimezone(UTC), pro, cab)


def starts(found, day=TUE) -> list[str]:
    return [s.start.strftime("%H:%M") for s in found[day]]


def rules(**over) -> Rules:
    base = {"duration_min": 30, "professional_ids": ["P1"], "cabinet_ids": ["C1"]}
    return Rules(**{**base, **over})


def test_within_opening_hours_every_quarter():
    found = free_slots([TUE], TZ, HOURS, {}, [], rules())
    assert starts(found) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]
    assert all(s.start.tzinfo is not None for s in found[TUE])


def test_closed_weekday_and_holiday():
    wed = TUE + timedelta(days=1)
    assert free_slots([wed], TZ, HOURS, {}, [], rules())[wed] == []
    assert free_slots([TUE], TZ, HOURS, {TUE.isoformat(): "Fiesta"}, [], rules())[TUE] == []


def test_existing_appointment_blocks_its_professional_or_cabinet():
    b = [busy(TUE, "09:30", "10:00")]
    assert starts(free_slots([TUE], TZ, HOURS, {}, b, rules())) == [
        "09:00",
        "10:00",
        "10:15",
        "10:30",
    ]
    # another professional and cabinet free: still bookable, with them
    found = free_slots(
        [TUE], TZ, HOURS, {}, b, rules(professional_ids=["P1", "P2"], cabinet_ids=["C1", "C2"])
    )
    s0930 = next(s for s in found[TUE] if s.start.strftime("%H:%M") == "09:30")
    assert (s0930.professional_id, s0930.cabinet_id) == ("P2", "C2")
    # a free professional but no free cabinet: not offered
    b2 = [busy(TUE, "09:30", "10:00", pro="PX", cab="C1")]
    assert "09:30" not in starts(
        free_slots([TUE], TZ, HOURS, {}, b2, rules(professional_ids=["P1", "P2"]))
    )


def test_buffer_around_existing_appointments():
    b = [busy(TUE, "10:00", "10:30")]
    found = free_slots([TUE], TZ, HOURS, {}, b, rules(buffer_min=10))
    assert starts(found) == ["09:00", "09:15"]  # 09:30 ends 10:00, +10 min buffer overlaps


def test_minimum_notice_and_horizon():
    earliest = local(TUE, "10:00").astimezone(UTC)
    assert starts(free_slots([TUE], TZ, HOURS, {}, [], rules(earliest=earliest))) == [
        "10:00",
        "10:15",
        "10:30",
    ]
    assert free_slots([TUE], TZ, HOURS, {}, [], rules(last_day=TUE - timedelta(days=1)))[TUE] == []


def test_long_type_fits_whole_range_only():
    assert starts(free_slots([TUE], TZ, HOURS, {}, [], rules(duration_min=120))) == ["09:00"]
    assert starts(free_slots([TUE], TZ, HOURS, {}, [], rules(duration_min=125))) == []


def test_dst_day_keeps_wall_clock_times():
    sunday_dst = date(2027, 3, 28)  # clocks go forward at 02:00
    found = free_slots(
        [sunday_dst], TZ, {"sunday": [{"start": "09:00", "end": "10:00"}]}, {}, [], rules()
    )
    assert starts(found, sunday_dst) == ["09:00", "09:15", "09:30"]
    assert found[sunday_dst][0].start.utcoffset() == timedelta(hours=2)


def test_pairs_for_lists_every_free_pair():
    b = [busy(TUE, "09:00", "09:30", pro="P1", cab="C2")]
    pairs = pairs_for(
        local(TUE, "09:00"), b, rules(professional_ids=["P1", "P2"], cabinet_ids=["C1", "C2"])
    )
    assert pairs == [("P2", "C1")]
