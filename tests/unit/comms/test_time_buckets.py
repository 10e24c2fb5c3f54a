"""Time-bucket arithmetic of the reminder and end-of-day jobs (docs/adr/0702), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.comms import scheduling


def test_bucket_is_the_utc_hour():
    assert scheduling.bucket(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)) == "2026-03-29T00"
    assert scheduling.bucket(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "2026-03-29T01"
    madrid = datetime(2026, 7, 1, 10, 7, tzinfo=ZoneInfo("Europe/Madrid"))  # 08:07Z
    assert scheduling.bucket(madrid) == "2026-07-01T08"


def test_index_keys_sort_by_kind_then_due_time():
    due = datetime(2026, 3, 10, 9, 25, tzinfo=ZoneInfo("Europe/Madrid"))  # 08:25Z
    k = scheduling.index_keys("REM", due, "C1#A1#120")
    assert k == {"GSI1PK": "DUE#2026-03-10T08", "GSI1SK": "REM#2026-03-10T08:25:00Z#C1#A1#120"}
    # a job's "due by now" range (kind#  ..  kind#<now>~) holds exactly the items due by now
    later = scheduling.index_keys("REM", due + timedelta(seconds=1), "C1#A1#120")["GSI1SK"]
    now_hi = f"REM#{scheduling.stamp(due)}~"
    assert "REM#" <= k["GSI1SK"] <= now_hi < later
    assert not ("REM#" <= scheduling.index_keys("EOD", due, "C1")["GSI1SK"] <= now_hi)


def test_buckets_between_cursor_and_now():
    t = datetime(2026, 3, 29, 3, 59, 59, tzinfo=UTC)
    assert scheduling.buckets_between("2026-03-29T00", t) == [
        "2026-03-29T01",
        "2026-03-29T02",
        "2026-03-29T03",
    ]
    assert scheduling.buckets_between("2026-03-29T03", t) == []  # nothing new
    # a cursor written by the earlier 5-minute version still reads
    assert scheduling.buckets_between("2026-03-29T02:55", t) == ["2026-03-29T03"]


def test_catch_up_is_capped_at_24_hours():
    t = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    for after in (None, "2026-03-01T00"):
        bs = scheduling.buckets_between(after, t)
        assert bs[0] == "2026-03-28T12" and bs[-1] == "2026-03-29T12"
        assert len(bs) == 25


def test_next_eod_is_16_local_across_dst():
    madrid = ZoneInfo("Europe/Madrid")
    # Spring forward on 2026-03-29: 16:00 CET is 15:00Z the day before, 16:00 CEST is 14:00Z.
    assert scheduling.next_eod(madrid, datetime(2026, 3, 28, 10, 0, tzinfo=UTC)) == datetime(
        2026, 3, 28, 15, 0, tzinfo=UTC
    )
    assert scheduling.next_eod(madrid, datetime(2026, 3, 28, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 14, 0, tzinfo=UTC
    )
    # Fall back on 2026-10-25.
    assert scheduling.next_eod(madrid, datetime(2026, 10, 24, 14, 0, tzinfo=UTC)) == datetime(
        2026, 10, 25, 15, 0, tzinfo=UTC
    )


def test_next_eod_is_strictly_after():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: 16:00 local is 10:30Z
    at = datetime(2026, 3, 28, 10, 30, tzinfo=UTC)
    assert scheduling.next_eod(kolkata, at - timedelta(seconds=1)) == at
    assert scheduling.next_eod(kolkata, at) == at + timedelta(days=1)


def test_next_eod_in_zones_either_side_of_utc():
    after = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    expected = {
        "Asia/Kathmandu": datetime(2026, 12, 1, 10, 15, tzinfo=UTC),  # UTC+05:45
        "Atlantic/Canary": datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        "America/Mexico_City": datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
        "Pacific/Auckland": datetime(2026, 12, 1, 3, 0, tzinfo=UTC),  # NZDT, UTC+13: 13:00 there
    }
    for tz, due in expected.items():
        assert scheduling.next_eod(ZoneInfo(tz), after) == due, tz
