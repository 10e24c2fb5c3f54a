from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.labs import status
from chalicelib.labs.public import initials


def test_the_lab_makes_only_its_own_moves():
    assert status.lab_can_move("sent", "in_progress")
    assert status.lab_can_move("in_progress", "shipped")
    assert status.lab_can_move("returned_for_remake", "in_progress")
    assert not status.lab_can_move("shipped", "received")
    assert not status.lab_can_move("sent", "shipped")
    assert all(status.can_move(a, b) for a, b in status.LAB_MOVES)


def test_remake_goes_back_and_fitted_is_final():
    assert status.can_move("received", "returned_for_remake")
    assert status.MOVES["returned_for_remake"] == {"in_progress", "sent"}
    assert status.MOVES["fitted"] == frozenset()
    assert not status.can_move("draft", "fitted")
    assert set(status.MOVES) == set(status.STATUSES)


def test_refusal_names_the_next_steps_in_both_languages():
    msg = status.refusal("received", "shipped")
    assert "fitted" in msg and "returned for remake" in msg
    assert "colocado" in msg.es and "devuelto para rehacer" in msg.es


def test_initials_are_all_the_lab_sees_of_the_patient():
    assert initials("Lucía", "Marín") == "L. M."
    assert initials("  ", "Marín") == "M."


def test_alerts_of_overdue_and_not_back():
    from chalicelib.labs.models import LabCase
    from chalicelib.labs.service import alert_at, alerts_of

    c = LabCase(
        "C#x",
        "LABS#CASE#1",
        case_id="1",
        status="in_progress",
        due_date="2026-03-10",
        time_zone="Europe/Madrid",
        appointment_start="2026-03-20T10:00:00+01:00",
    )
    assert alerts_of(c, datetime(2026, 3, 10, 20, tzinfo=UTC)) == []
    assert alerts_of(c, datetime(2026, 3, 11, 0, tzinfo=UTC)) == ["overdue"]
    assert alerts_of(c, datetime(2026, 3, 18, 10, tzinfo=UTC)) == ["overdue", "not_back"]
    assert alert_at(c) == datetime(2026, 3, 10, 23, tzinfo=UTC)
    c.status = "received"
    assert alerts_of(c, datetime(2026, 3, 19, tzinfo=UTC)) == [] and alert_at(c) is None
