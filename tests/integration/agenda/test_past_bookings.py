"""A booking or a reschedule whose start is in the past is a 422 on ``start`` unless the request
says ``override`` (which needs agenda.appointments.override, like booking outside hours); the
audit entry records that the override was used (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.errors import Unprocessable
from tests.integration.agenda.conftest import at, book, booked, future_day
from tests.integration.conftest import add_member, admin_principal


def audit_of(api: Any, token: str, appointment_id: str) -> list[dict]:
    r = api.get(f"/audit?entity_type=appointment&entity_id={appointment_id}", token=token)
    assert r.status == 200, r.body
    return r.json()["data"]["items"]


def upcoming_and_past(api: Any, agenda: Any) -> list[str]:
    ids = []
    for when in ("upcoming", "past"):
        r = api.get(f"/patients/{agenda.patient_id}/appointments?when={when}", token=agenda.token)
        ids += [a["appointment_id"] for a in r.json()["data"]["items"]]
    return ids


def test_a_booking_in_the_past_is_422_unless_overridden_and_the_override_is_audited(api, agenda):
    last_monday = future_day(0, weeks_ahead=-1)
    r = book(api, agenda, at(last_monday, "10:00"))
    assert r.status == 422, r.body
    assert r.json()["errors"] == [{"field": "start", "message": "is in the past"}]
    assert "override" in r.json()["message"]
    es = api.post(
        "/appointments",
        {
            "patient_id": agenda.patient_id,
            "professional_id": agenda.pro_id,
            "cabinet_id": agenda.cab1,
            "start": at(last_monday, "10:00"),
            "duration_min": 30,
            "reason": "Revisión",
        },
        token=agenda.token,
        headers={"Accept-Language": "es"},
    )
    assert es.status == 422 and es.json()["errors"][0]["message"] == "ya ha pasado"
    assert upcoming_and_past(api, agenda) == []  # nothing stored
    a = booked(api, agenda, at(last_monday, "10:00"), override=True)
    (entry,) = audit_of(api, agenda.token, a["appointment_id"])
    assert entry["action"] == "appointment.scheduled"
    assert entry["changes"]["override"]["after"] == ["past"]
    # a booking that needed no override records none, even when the flag was sent
    b = booked(api, agenda, at(agenda.monday, "10:00"), override=True)
    (entry,) = audit_of(api, agenda.token, b["appointment_id"])
    assert "override" not in entry["changes"]
    # in the past and outside hours: both are recorded
    c = booked(api, agenda, at(last_monday, "21:00"), override=True)
    (entry,) = audit_of(api, agenda.token, c["appointment_id"])
    assert entry["changes"]["override"]["after"] == ["past", "outside_hours"]


def test_overriding_the_past_needs_the_permission(api, agenda, clinic):
    last_monday = future_day(0, weeks_ahead=-1)
    m = add_member(api, clinic, "hygienist")  # read + write, no override by default
    r = book(api, agenda, at(last_monday, "10:00"), override=True, token=m["token"])
    assert r.status == 403, r.body
    assert r.json()["data"]["permission"] == "agenda.appointments.override"
    assert upcoming_and_past(api, agenda) == []


def test_a_reschedule_into_the_past_is_422_unless_overridden(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "10:00"))
    last_monday = future_day(0, weeks_ahead=-1)
    path = f"/appointments/{a['appointment_id']}"
    r = api.patch(path, {"start": at(last_monday, "10:00")}, token=agenda.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "start"
    got = api.get(path, token=agenda.token).json()["data"]
    assert got["start"] == a["start"] and got["reschedules"] == []
    r = api.patch(path, {"start": at(last_monday, "10:00"), "override": True}, token=agenda.token)
    assert r.status == 200, r.body
    entries = audit_of(api, agenda.token, a["appointment_id"])
    updated = next(e for e in entries if e["action"] == "appointment.updated")
    assert updated["changes"]["override"]["after"] == ["past"]
    # editing the notes of an appointment in the past is no booking: no override needed
    r = api.patch(path, {"notes": "Vino con su madre"}, token=agenda.token)
    assert r.status == 200, r.body


def test_the_slot_under_way_is_not_the_past(clinic):
    """A walk-in at 10:03 is booked at 10:00: the current 5-minute slot is bookable; the one
    before it is the past."""
    from chalicelib.agenda import service

    principal = admin_principal(clinic)
    tz = ZoneInfo("Europe/Madrid")
    current = datetime.now(UTC)
    slot = current.replace(minute=current.minute - current.minute % 5, second=0, microsecond=0)
    assert service._check_past(principal, slot.astimezone(tz), False) is False
    with pytest.raises(Unprocessable):
        service._check_past(principal, (slot - timedelta(minutes=5)).astimezone(tz), False)
    assert service._check_past(principal, (slot - timedelta(days=30)).astimezone(tz), True)
