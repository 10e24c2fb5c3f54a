"""422s of the agenda name the field at fault, never ``body`` (issue 20): rules that read
several fields (overlapping opening hours, a range ending before it starts, two view filters)
point at the field a client must change."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.agenda.conftest import make_agenda


def fields(r: Any) -> list[str]:
    assert r.status == 422, r.body
    return [e["field"] for e in r.json()["errors"]]


def test_overlapping_opening_hours_name_the_day_and_the_range(api, agenda):
    t = agenda.token
    before = api.get("/agenda/hours", token=t).json()["data"]
    hours = {
        "monday": [{"start": "16:00", "end": "20:00"}, {"start": "09:00", "end": "17:00"}],
    }
    r = api.put("/agenda/hours", hours, token=t)
    # the range sent second starts inside the first one (sorted by start: 09:00, 16:00)
    assert fields(r) == ["monday.0.start"]
    assert r.json()["errors"][0]["message"] == "overlaps 09:00-17:00 on monday"
    hours = {
        "tuesday": [{"start": "09:00", "end": "14:00"}, {"start": "13:00", "end": "15:00"}],
    }
    r = api.put("/agenda/hours", hours, token=t, headers={"Accept-Language": "es"})
    assert fields(r) == ["tuesday.1.start"]
    assert r.json()["errors"][0]["message"] == "se solapa con 09:00-14:00 el martes"
    r = api.put("/agenda/hours", {"friday": [{"start": "14:00", "end": "09:00"}]}, token=t)
    assert fields(r) == ["friday.0.end"]
    assert r.json()["errors"][0]["message"] == "end must be after start"
    assert api.get("/agenda/hours", token=t).json()["data"] == before  # nothing saved


def test_two_view_filters_name_the_second_one(api, agenda):
    for path in ("/agenda/day?date=", "/agenda/week?start="):
        r = api.get(
            f"{path}{agenda.monday}&cabinet_id={agenda.cab1}&professional_id={agenda.pro_id}",
            token=agenda.token,
        )
        assert fields(r) == ["query.professional_id"]


def test_the_issues_far_dates_are_422_at_once(api, clinic):
    """The probes of issue 20, as sent: each a 422 naming its field, none slow (year 1 took
    close to a minute)."""
    ag = make_agenda(api, clinic)
    t = ag.token
    started = time.monotonic()
    assert fields(api.get("/agenda/day?date=9999-12-31", token=t)) == ["query.date"]
    assert fields(api.get("/agenda/day?date=0001-01-01", token=t)) == ["query.date"]
    assert fields(api.get("/agenda/week?start=9999-12-30", token=t)) == ["query.start"]
    for start in ("9999-12-31T23:55", "0001-01-01T00:00"):
        body = {
            "patient_id": ag.patient_id,
            "professional_id": ag.pro_id,
            "cabinet_id": ag.cab1,
            "start": start,
            "duration_min": 30,
            "reason": "Revisión",
            "override": True,
        }
        assert fields(api.post("/appointments", body, token=t)) == ["start"]
    assert time.monotonic() - started < 10
