"""The every-cabinet day and week views read the clinic's time index (GSI4): one Query however
many cabinets the clinic has (ADR 0305), and the backfill brings older bookings into it."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.agenda.backfill import backfill
from chalicelib.agenda.models import Appointment
from chalicelib.core.db import clinic_pk
from tests.integration.agenda.conftest import at, booked
from tests.integration.ddb_calls import dynamodb_calls


def _day(api, agenda, day):
    r = api.get(f"/agenda/day?date={day}", token=agenda.token)
    assert r.status == 200, r.body
    return [a["appointment_id"] for a in r.json()["data"]["appointments"]]


def test_every_cabinet_view_costs_the_same_calls_with_two_or_eight_cabinets(api, agenda):
    day = agenda.monday
    a1 = booked(api, agenda, at(day, "09:00"))
    a2 = booked(api, agenda, at(day, "10:00"), cabinet_id=agenda.cab2)
    with dynamodb_calls() as two:
        assert _day(api, agenda, day) == [a1["appointment_id"], a2["appointment_id"]]
    for i in range(6):
        r = api.post(
            "/agenda/cabinets", {"name": f"Gab {i + 3}", "position": i + 2}, token=agenda.token
        )
        assert r.status == 201, r.body
    with dynamodb_calls() as eight:
        assert set(_day(api, agenda, day)) == {a1["appointment_id"], a2["appointment_id"]}
    assert eight.by_op() == two.by_op()
    with dynamodb_calls() as week:
        r = api.get(f"/agenda/week?start={day}", token=agenda.token)
    assert r.status == 200, r.body
    assert week.by_op() == two.by_op()


def test_a_moved_appointment_moves_in_the_index(api, agenda):
    day = agenda.monday
    a = booked(api, agenda, at(day, "12:00"))
    assert a["appointment_id"] in _day(api, agenda, day)
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(day + timedelta(days=1), "10:00"), "reschedule_reason": "Pide otro día"},
        token=agenda.token,
    )
    assert r.status == 200, r.body
    assert a["appointment_id"] not in _day(api, agenda, day)
    assert a["appointment_id"] in _day(api, agenda, day + timedelta(days=1))


def test_backfill_brings_older_bookings_into_the_every_cabinet_view(api, agenda):
    day = agenda.monday
    old = [booked(api, agenda, at(day, h))["appointment_id"] for h in ("10:00", "11:00")]
    for a in Appointment.query(clinic_pk(agenda.clinic_id), Appointment.SK.startswith("APPT#")):
        a.GSI4PK = a.GSI4SK = None  # as booked before ADR 0305
        a.save()
    assert _day(api, agenda, day) == []
    one_cabinet = api.get(f"/agenda/day?date={day}&cabinet_id={agenda.cab1}", token=agenda.token)
    assert len(one_cabinet.json()["data"]["appointments"]) == 2  # the cabinet's index has them
    assert backfill(agenda.clinic_id) == 2
    assert backfill(agenda.clinic_id) == 0  # nothing left to do
    assert set(_day(api, agenda, day)) == set(old)
