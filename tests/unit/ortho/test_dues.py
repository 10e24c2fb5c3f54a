"""What a case's state implies: the current phase, the next tray and visit dates, the alert
kinds (no AWS: cases are built in memory)."""

from __future__ import annotations

from datetime import date

from chalicelib.ortho.common import add_months, current_phase, dues, next_tray_date
from chalicelib.ortho.models import OrthoCase


def case(**over: object) -> OrthoCase:
    values: dict[str, object] = {
        "case_id": "C1",
        "patient_id": "P1",
        "status": "active",
        "appliance": "aligners",
        "total_trays": 20,
        "days_per_tray": 14,
        "start_date": "2026-01-01",
        "planned_months": 12,
        "visit_interval_weeks": 6,
        "phases": [],
        "current_tray": 1,
        "tray_since": "2026-01-01",
    }
    values.update(over)
    return OrthoCase("C#x", "OCASE#C1", **values)


def test_add_months_clamps_the_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


def test_aligner_dues() -> None:
    c = case(last_visit="2026-02-01")
    assert dues(c) == {"visit": date(2026, 3, 15), "tray": date(2026, 1, 15)}


def test_last_tray_has_no_change_and_finished_cases_have_no_alerts() -> None:
    assert next_tray_date(case(current_tray=20)) is None
    assert dues(case(status="finished")) == {}


def test_retention_phase_turns_the_visit_into_a_retention_check() -> None:
    phases = [
        {"kind": "levelling", "actual_start": "2026-01-01", "actual_end": "2026-03-01"},
        {"kind": "retention", "actual_start": "2026-03-01"},
    ]
    c = case(appliance="retainer", total_trays=None, days_per_tray=None, phases=phases)
    assert current_phase(c) == 1
    assert set(dues(c)) == {"retention"}


def test_current_phase_is_the_first_not_ended_when_none_started() -> None:
    c = case(phases=[{"kind": "levelling", "actual_end": None}, {"kind": "finishing"}])
    assert current_phase(c) == 0
