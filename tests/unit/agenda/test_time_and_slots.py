from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.agenda import service
from chalicelib.agenda.models import Appointment
from chalicelib.core.errors import Unprocessable

MADRID = ZoneInfo("Europe/Madrid")


def test_naive_start_is_wall_clock_time_in_the_clinic_zone():
    local = service.localise(datetime(2026, 7, 6, 10, 0), MADRID)
    assert local.utcoffset().total_seconds() == 2 * 3600
    assert service.utc_iso(local) == "2026-07-06T08:00:00Z"
    winter = service.localise(datetime(2026, 1, 12, 10, 0), MADRID)
    assert service.utc_iso(winter) == "2026-01-12T09:00:00Z"


def test_aware_start_is_converted():
    local = service.localise(datetime(2026, 7, 6, 8, 0, tzinfo=UTC), MADRID)
    assert local.hour == 10 and local.tzinfo == MADRID


def test_a_time_skipped_by_dst_is_refused():
    with pytest.raises(Unprocessable):
        service.localise(datetime(2026, 3, 29, 2, 30), MADRID)


def test_lock_keys_cover_every_five_minute_slot_of_both_resources():
    start = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
    keys = service.lock_keys("c1", "cab", "pro", start, 30)
    assert len(keys) == 12
    sks = [sk for _, sk in keys]
    assert sks[0] == "SLOT#CAB#cab#2026-07-06T08:00:00Z"
    assert sks[1] == "SLOT#PRO#pro#2026-07-06T08:00:00Z"
    assert sks[-1] == "SLOT#PRO#pro#2026-07-06T08:25:00Z"
    # back to back appointments share no slot
    after = service.lock_keys("c1", "cab", "pro", datetime(2026, 7, 6, 8, 30, tzinfo=UTC), 30)
    assert not set(keys) & set(after)


def test_holds_checks_resource_interval_and_status():
    a = Appointment(
        cabinet_id="cab",
        professional_id="pro",
        status="scheduled",
        start_utc="2026-07-06T08:00:00Z",
        end_utc="2026-07-06T08:30:00Z",
    )
    assert service._holds(a, "SLOT#CAB#cab#2026-07-06T08:25:00Z")
    assert not service._holds(a, "SLOT#CAB#cab#2026-07-06T08:30:00Z")
    assert not service._holds(a, "SLOT#CAB#other#2026-07-06T08:00:00Z")
    assert service._holds(a, "SLOT#PRO#pro#2026-07-06T08:00:00Z")
    a.status = "cancelled"
    assert not service._holds(a, "SLOT#CAB#cab#2026-07-06T08:00:00Z")


def test_transitions_are_a_forward_workflow():
    """Forward only, except that a cancelled or missed appointment can be booked again (undo,
    or the patient called back); a completed one is final."""
    t = service.TRANSITIONS
    assert t["scheduled"] == ("confirmed", "checked_in", "cancelled", "no_show")
    assert "completed" in t["in_progress"] and "cancelled" not in t["in_progress"]
    assert not t["completed"]
    assert t["cancelled"] == t["no_show"] == ("scheduled",)
    assert set(service.STATUS_EVENTS) == {s for targets in t.values() for s in targets}
