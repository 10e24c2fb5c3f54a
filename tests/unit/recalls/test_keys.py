"""Index keys written from a recall's and a follow-up's state, month arithmetic and input
rules, without AWS (ADR 1404)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core.ids import now
from chalicelib.recalls import common, schemas, service
from chalicelib.recalls.models import FollowUp, FollowUpSettings, Recall


def _recall(**over) -> Recall:
    r = Recall(
        "C#c1",
        "PAT#p1#RECALL#r1",
        recall_id="x",
        patient_id="p1",
        rule_id="r1",
        status="due",
        due="2999-01-10",
        source="manual",
        reminder_count=0,
        reminders=[],
        updated_at=now(),
    )
    for k, v in over.items():
        setattr(r, k, v)
    return r


def test_a_due_recall_is_on_both_lists_and_in_its_reminder_bucket() -> None:
    r = _recall()
    service.index("c1", r, [0, 21])
    assert (r.GSI1PK, r.GSI1SK) == ("C#c1#RECALL#DUE", "2999-01-10#p1#r1")
    assert (r.GSI2PK, r.GSI2SK) == ("C#c1#RECALL#DUE#R#r1", "2999-01-10#p1#r1")
    assert (r.GSI3PK, r.GSI3SK) == ("RECREM#2999-01-10", "C#c1#PAT#p1#RECALL#r1")


def test_snooze_moves_the_listing_and_the_steps() -> None:
    r = _recall(snoozed_until="2999-02-01", reminder_count=1)
    service.index("c1", r, [0, 21])
    assert r.GSI1SK.startswith("2999-02-01#") and r.GSI3PK == "RECREM#2999-02-22"


@pytest.mark.parametrize("status", ["booked", "dismissed"])
def test_only_a_due_recall_is_indexed(status: str) -> None:
    r = _recall(status=status)
    service.index("c1", r, [0, 21])
    assert r.GSI1PK is r.GSI2PK is r.GSI3PK is None


def test_no_bucket_after_the_last_step_or_with_reminders_off() -> None:
    r = _recall(reminder_count=2)
    service.index("c1", r, [0, 21])
    assert r.GSI1PK and r.GSI3PK is None
    r = _recall()
    service.index("c1", r, [])
    assert r.GSI1PK and r.GSI3PK is None


def test_an_overdue_recall_goes_to_todays_bucket_not_a_past_one() -> None:
    r = _recall(due="2001-01-01")
    service.index("c1", r, [0, 21])
    assert f"RECREM#{now().date().isoformat()}" == r.GSI3PK


def test_the_gap_between_steps_is_kept() -> None:
    later = (now().date() + timedelta(days=21)).isoformat()
    r = _recall(due="2001-01-01", reminder_count=1, not_before=later)
    service.index("c1", r, [0, 21])
    assert f"RECREM#{later}" == r.GSI3PK


def test_follow_up_keys() -> None:
    f = FollowUp(
        "C#c1",
        "PAT#p1#FU#plan",
        followup_id="plan",
        kind="plan",
        patient_id="p1",
        since="2999-01-01",
        status="open",
    )
    s = FollowUpSettings("C#c1", "RECALLS#SETTINGS", plan_days=30)
    from chalicelib.recalls import followups

    followups.index("c1", f, s)
    assert (f.GSI1PK, f.GSI1SK) == ("C#c1#FU#plan", "2999-01-01#p1#plan")
    assert f.GSI3PK == "FUREM#2999-01-31"
    f.auto_sent = True
    followups.index("c1", f, s)
    assert f.GSI1PK and f.GSI3PK is None
    f.status = "done"
    followups.index("c1", f, s)
    assert f.GSI1PK is None


def test_add_months() -> None:
    assert common.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert common.add_months(date(2026, 6, 15), 6) == date(2026, 12, 15)
    assert common.add_months(date(2026, 7, 15), 6) == date(2027, 1, 15)


def test_rule_input() -> None:
    r = schemas.RuleIn(name_es="X", codes=[" rev", "REV", "limp"], interval_months=6)
    assert r.codes == ["REV", "LIMP"]
    for bad in ({"codes": ["a;b"]}, {"interval_months": 61}, {"name_es": ""}):
        with pytest.raises(ValidationError):
            schemas.RuleIn(**{"name_es": "X", "codes": ["A"], "interval_months": 6, **bad})
    with pytest.raises(ValidationError):
        schemas.SettingsIn(recall_reminder_days=[0, 0])
