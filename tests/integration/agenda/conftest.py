from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.patients.helpers import create_patient


def future_day(weekday: int, weeks_ahead: int = 2) -> date:
    """A date on ``weekday`` (0 = Monday) at least ``weeks_ahead`` weeks from now."""
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return monday + timedelta(days=weekday)


def at(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00"


@dataclass
class Agenda:
    token: str
    clinic_id: str
    pro_id: str
    cab1: str
    cab2: str
    patient_id: str
    patient_name: str
    monday: date


def make_agenda(api: Any, clinic: Any) -> Agenda:
    t = clinic.admin_token
    cabs = []
    for i, name in enumerate(("Gabinete 1", "Gabinete 2")):
        r = api.post("/agenda/cabinets", {"name": name, "position": i}, token=t)
        assert r.status == 201, r.body
        cabs.append(r.json()["data"]["cabinet_id"])
    p = create_patient(api, t, first_name="Carmen", last_name="Vidal")
    return Agenda(
        t,
        clinic.clinic_id,
        clinic.admin_id,
        cabs[0],
        cabs[1],
        p["patient_id"],
        "Carmen Vidal",
        future_day(0),
    )


@pytest.fixture
def agenda(api: Any, clinic: Any) -> Agenda:
    return make_agenda(api, clinic)


def book(
    api: Any, ag: Agenda, start: str, duration: int = 30, token: str | None = None, **over: Any
) -> Any:
    body = {
        "patient_id": ag.patient_id,
        "professional_id": ag.pro_id,
        "cabinet_id": ag.cab1,
        "start": start,
        "duration_min": duration,
        "reason": "Revisión",
        **over,
    }
    return api.post("/appointments", body, token=token or ag.token)


def booked(api: Any, ag: Agenda, start: str, duration: int = 30, **over: Any) -> dict:
    r = book(api, ag, start, duration, **over)
    assert r.status == 201, r.body
    return r.json()["data"]
