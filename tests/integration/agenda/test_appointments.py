"""Appointments through the API: booking, overlaps (also under concurrency), opening hours,
the status workflow, rescheduling, views, permissions and tenant isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.errors import Conflict
from tests.integration.agenda.conftest import at, book, booked, future_day, make_agenda
from tests.integration.conftest import add_member, admin_principal, signup
from tests.integration.patients.helpers import create_patient


def second_professional(api, clinic) -> str:
    m = add_member(api, clinic, "dentist", "Dr. Segundo")
    r = api.patch(f"/staff/{m['user_id']}", {"is_professional": True}, token=clinic.admin_token)
    assert r.status == 200
    return m["user_id"]


# --- booking -------------------------------------------------------------------------------


def test_book_and_read_an_appointment(api, agenda, published):
    start = at(agenda.monday, "10:00")
    a = booked(api, agenda, start, 45, colour="teal", treatment="Empaste", notes="Pieza 36")
    assert a["status"] == "scheduled"
    assert a["start"].startswith(start) and a["start"][19:] in ("+01:00", "+02:00")
    assert a["end"].startswith(at(agenda.monday, "10:45"))
    assert a["time_zone"] == "Europe/Madrid"
    assert a["patient_name"] == agenda.patient_name
    assert a["professional_name"] == "Ana Admin"
    assert a["allowed_transitions"] == ["confirmed", "checked_in", "cancelled", "no_show"]
    assert a["status_history"][0]["status"] == "scheduled"
    name, detail = published[-1]
    assert name == "appointment.scheduled"
    assert detail["appointment_id"] == a["appointment_id"]
    assert detail["patient_id"] == agenda.patient_id
    got = api.get(f"/appointments/{a['appointment_id']}", token=agenda.token)
    assert got.status == 200 and got.json()["data"]["treatment"] == "Empaste"


def test_start_with_an_offset_is_converted_to_the_clinic_zone(api, agenda):
    # 08:00Z on a winter or summer Monday is 09:00 or 10:00 in Madrid: inside hours either way.
    day = agenda.monday
    a = booked(api, agenda, f"{day.isoformat()}T08:00:00Z", 30)
    assert a["start"][11:16] in ("09:00", "10:00")
    assert a["start"][19:] in ("+01:00", "+02:00")


def test_other_time_zone_clinic(api):
    clinic = signup(api, "Clínica Canarias", time_zone="Atlantic/Canary")
    ag = make_agenda(api, clinic)
    a = booked(api, ag, at(ag.monday, "09:00"))
    assert a["time_zone"] == "Atlantic/Canary"
    assert a["start"][19:] in ("Z", "+00:00", "+01:00")  # WET / WEST


@pytest.mark.parametrize(
    "over,field",
    [
        ({"duration_min": 7}, "duration_min"),
        ({"duration_min": 0}, "duration_min"),
        ({"duration_min": 300}, "duration_min"),
        ({"start": "not a date"}, "start"),
        ({"colour": "fuchsia"}, "colour"),
        ({"reason": ""}, "reason"),
        ({"patient_id": None}, "patient_id"),
        ({"extra": True}, "extra"),
    ],
)
def test_bad_booking_input_is_422(api, agenda, over, field):
    over = dict(over)
    start = over.pop("start", at(agenda.monday, "10:00"))
    r = book(api, agenda, start, **over)
    assert r.status == 422, r.body
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()["errors"]


def test_start_must_be_on_a_five_minute_boundary(api, agenda):
    r = book(api, agenda, at(agenda.monday, "10:03"))
    assert r.status == 422
    assert r.json()["errors"][0]["field"] == "start"


def test_references_must_belong_to_the_clinic(api, agenda, other_clinic):
    foreign = make_agenda(api, other_clinic)
    for field, value in (
        ("patient_id", foreign.patient_id),
        ("cabinet_id", foreign.cab1),
        ("professional_id", foreign.pro_id),
    ):
        r = book(api, agenda, at(agenda.monday, "10:00"), **{field: value})
        assert r.status == 422, (field, r.body)
        assert r.json()["errors"][0]["field"] == field


def test_archived_patient_and_inactive_cabinet_cannot_be_booked(api, agenda, clinic):
    r = api.patch(f"/agenda/cabinets/{agenda.cab2}", {"active": False}, token=agenda.token)
    assert r.status == 200 and r.json()["data"]["active"] is False
    r = book(api, agenda, at(agenda.monday, "10:00"), cabinet_id=agenda.cab2)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "cabinet_id"
    api.post(f"/patients/{agenda.patient_id}/archive", token=agenda.token)
    r = book(api, agenda, at(agenda.monday, "10:00"))
    assert r.status == 422 and r.json()["errors"][0]["field"] == "patient_id"


# --- overlaps ------------------------------------------------------------------------------


def test_overlap_in_the_same_cabinet_is_409_naming_the_appointment(api, agenda, clinic):
    first = booked(api, agenda, at(agenda.monday, "10:00"), 60)
    other_pro = second_professional(api, clinic)
    r = book(api, agenda, at(agenda.monday, "10:30"), 30, professional_id=other_pro)
    assert r.status == 409, r.body
    d = r.json()["data"]
    assert d["resource"] == "cabinet"
    assert d["conflict_with"]["appointment_id"] == first["appointment_id"]
    assert d["conflict_with"]["start"] == first["start"]
    assert d["conflict_with"]["patient_name"] == agenda.patient_name
    # back to back is fine; another cabinet with another professional too (for another
    # patient: the same one cannot be in two chairs at once, test_patient_clash.py)
    booked(api, agenda, at(agenda.monday, "11:00"), 30, professional_id=other_pro)
    booked(api, agenda, at(agenda.monday, "09:30"), 30, professional_id=other_pro)
    booked(
        api,
        agenda,
        at(agenda.monday, "10:15"),
        30,
        professional_id=other_pro,
        cabinet_id=agenda.cab2,
        patient_id=create_patient(api, agenda.token)["patient_id"],
    )


def test_overlap_with_the_same_professional_is_409(api, agenda):
    first = booked(api, agenda, at(agenda.monday, "12:00"), 30)
    r = book(api, agenda, at(agenda.monday, "12:25"), 30, cabinet_id=agenda.cab2)
    assert r.status == 409
    assert r.json()["data"]["resource"] == "professional"
    assert r.json()["data"]["conflict_with"]["appointment_id"] == first["appointment_id"]


def test_conflict_hides_the_patient_name_from_staff_without_patients_read(api, agenda, clinic):
    booked(api, agenda, at(agenda.monday, "10:00"), 30)
    m = add_member(api, clinic, "hygienist")
    grants = ["agenda.appointments.read", "agenda.appointments.write"]
    assert api.put("/roles/hygienist", {"grants": grants}, token=agenda.token).status == 200
    r = book(api, agenda, at(agenda.monday, "10:00"), 30, token=m["token"])
    assert r.status == 409
    assert "patient_name" not in r.json()["data"]["conflict_with"]
    got = api.get(f"/agenda/day?date={agenda.monday}", token=m["token"]).json()["data"]
    assert got["appointments"][0]["patient_name"] is None


def test_views_carry_each_patients_alerts_for_staff_who_may_read_patients(api, agenda, clinic):
    r = api.put(
        f"/patients/{agenda.patient_id}/medical",
        {"allergies": [{"substance": "Penicilina", "severity": "severe"}]},
        token=agenda.token,
    )
    assert r.status == 200, r.body
    booked(api, agenda, at(agenda.monday, "10:00"), 30)
    day = api.get(f"/agenda/day?date={agenda.monday}", token=agenda.token).json()["data"]
    (a,) = day["appointments"]
    assert [(x["level"], x["message"]) for x in a["patient_alerts"]] == [
        ("critical", "Severe allergy: Penicilina")
    ]
    week = api.get(f"/agenda/week?start={agenda.monday}", token=agenda.token).json()["data"]
    (w,) = [x for d in week["days"] for x in d["appointments"]]
    assert w["patient_alerts"] == a["patient_alerts"]
    # staff who may not read patients see neither the name nor the alerts
    m = add_member(api, clinic, "hygienist")
    grants = ["agenda.appointments.read"]
    assert api.put("/roles/hygienist", {"grants": grants}, token=agenda.token).status == 200
    day = api.get(f"/agenda/day?date={agenda.monday}", token=m["token"]).json()["data"]
    assert day["appointments"][0]["patient_alerts"] == []
    assert day["appointments"][0]["patient_name"] is None


def test_racing_bookings_for_the_same_slot_cannot_both_succeed(api, agenda, clinic, monkeypatch):
    """Two bookings pass every check, then race to write: the slot locks written with
    attribute_not_exists in the same transaction let only one through. The race is forced
    deterministically: the rival's booking lands between our checks and our write."""
    from chalicelib.agenda import schemas, service

    principal = admin_principal(clinic)
    rival_patient = create_patient(api, agenda.token)["patient_id"]
    real_tx = service.transaction
    rival: dict[str, str] = {}

    def body(pid: str, start: str) -> schemas.AppointmentIn:
        return schemas.AppointmentIn(
            patient_id=pid,
            professional_id=agenda.pro_id,
            cabinet_id=agenda.cab1,
            start=start,
            duration_min=30,
            reason="Urgencia",
        )

    def racing_tx():
        if not rival:
            monkeypatch.setattr(service, "transaction", real_tx)
            rival["id"] = service.create(
                principal, body(rival_patient, at(agenda.monday, "17:15"))
            ).appointment_id
        return real_tx()

    monkeypatch.setattr(service, "transaction", racing_tx)
    with pytest.raises(Conflict) as err:
        service.create(principal, body(agenda.patient_id, at(agenda.monday, "17:00")))
    assert err.value.data["conflict_with"]["appointment_id"] == rival["id"]
    day = api.get(f"/agenda/day?date={agenda.monday}", token=agenda.token).json()["data"]
    assert [a["appointment_id"] for a in day["appointments"]] == [rival["id"]]
    # nothing of the loser was left behind: its free slot 17:00-17:15 can be booked
    booked(api, agenda, at(agenda.monday, "17:00"), 15)


# --- opening hours -------------------------------------------------------------------------


def test_outside_hours_closed_day_and_holiday_are_422(api, agenda):
    for start in (
        at(agenda.monday, "08:30"),  # before opening
        at(agenda.monday, "13:45"),  # runs past 14:00 (30 min)
        at(agenda.monday, "14:30"),  # lunch
        at(agenda.monday + timedelta(days=5), "10:00"),  # Saturday
    ):
        r = book(api, agenda, start)
        assert r.status == 422, (start, r.body)
        assert r.json()["errors"][0]["field"] == "start"
    tuesday = agenda.monday + timedelta(days=1)
    r = api.post(
        "/agenda/holidays",
        {"date": tuesday.isoformat(), "name": "Fiesta local"},
        token=agenda.token,
    )
    assert r.status == 201
    r = book(api, agenda, at(tuesday, "10:00"))
    assert r.status == 422 and "Fiesta local" in r.json()["errors"][0]["message"]


def test_override_needs_the_permission(api, agenda, clinic):
    a = booked(api, agenda, at(agenda.monday, "08:00"), 30, override=True)
    assert a["outside_hours"] is True
    m = add_member(api, clinic, "hygienist")  # read + write, no override by default
    r = book(api, agenda, at(agenda.monday, "21:00"), 30, override=True, token=m["token"])
    assert r.status == 403
    assert r.json()["data"]["permission"] == "agenda.appointments.override"
    r = book(api, agenda, at(agenda.monday, "21:00"), 30, token=m["token"])
    assert r.status == 422
    # inside hours the hygienist books normally
    assert book(api, agenda, at(agenda.monday, "16:00"), 30, token=m["token"]).status == 201


def test_custom_hours_apply(api, agenda):
    saturday = agenda.monday + timedelta(days=5)
    hours = {"saturday": [{"start": "10:00", "end": "13:00"}]}
    r = api.put("/agenda/hours", hours, token=agenda.token)
    assert r.status == 200 and r.json()["data"]["customised"] is True
    assert r.json()["data"]["monday"] == []
    assert book(api, agenda, at(saturday, "10:00")).status == 201
    assert book(api, agenda, at(agenda.monday, "10:00")).status == 422


# --- status workflow -----------------------------------------------------------------------


def status(api, ag, aid, value, **kw):
    return api.post(f"/appointments/{aid}/status", {"status": value, **kw}, token=ag.token)


def test_full_workflow_publishes_each_event(api, agenda, published):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    for value, event in (
        ("confirmed", "appointment.confirmed"),
        ("checked_in", "appointment.checked_in"),
        ("in_progress", "appointment.started"),
        ("completed", "appointment.completed"),
    ):
        r = status(api, agenda, aid, value)
        assert r.status == 200, r.body
        assert r.json()["data"]["status"] == value
        assert published[-1][0] == event
        assert published[-1][1]["appointment_id"] == aid
        assert published[-1][1]["patient_id"] == agenda.patient_id
    history = [h["status"] for h in r.json()["data"]["status_history"]]
    assert history == ["scheduled", "confirmed", "checked_in", "in_progress", "completed"]
    assert r.json()["data"]["allowed_transitions"] == []


@pytest.mark.parametrize(
    "path,target",
    [
        ([], "completed"),
        ([], "in_progress"),
        (["confirmed"], "confirmed"),
        (["cancelled"], "confirmed"),
        (["no_show"], "checked_in"),
        (["checked_in", "in_progress"], "cancelled"),
        (["checked_in", "in_progress", "completed"], "no_show"),
    ],
)
def test_invalid_transitions_are_409_naming_the_current_status(api, agenda, path, target):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    for step in path:
        assert status(api, agenda, aid, step).status == 200
    current = path[-1] if path else "scheduled"
    r = status(api, agenda, aid, target)
    assert r.status == 409, r.body
    assert r.json()["data"]["current_status"] == current
    assert current in r.json()["message"]
    got = api.get(f"/appointments/{aid}", token=agenda.token).json()["data"]
    assert got["status"] == current


def test_cancel_and_no_show_free_the_slot(api, agenda, published):
    a = booked(api, agenda, at(agenda.monday, "10:00"), 60)
    assert book(api, agenda, at(agenda.monday, "10:30")).status == 409
    r = status(api, agenda, a["appointment_id"], "cancelled", reason="Paciente enfermo")
    assert r.status == 200
    assert r.json()["data"]["status_history"][-1]["reason"] == "Paciente enfermo"
    assert published[-1][0] == "appointment.cancelled"
    b = booked(api, agenda, at(agenda.monday, "10:30"))
    assert status(api, agenda, b["appointment_id"], "no_show").status == 200
    assert published[-1][0] == "appointment.no_show"
    booked(api, agenda, at(agenda.monday, "10:30"))


def test_bad_status_input_is_422(api, agenda):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    for body in ({"status": "done"}, {}, {"status": "cancelled", "reason": "x" * 300}):
        r = api.post(f"/appointments/{aid}/status", body, token=agenda.token)
        assert r.status == 422, body
        assert r.json()["errors"]


# --- rescheduling --------------------------------------------------------------------------


def test_reschedule_keeps_history_and_moves_the_slots(api, agenda, published):
    a = booked(api, agenda, at(agenda.monday, "10:00"), 30)
    aid = a["appointment_id"]
    r = api.patch(
        f"/appointments/{aid}",
        {
            "start": at(agenda.monday, "11:00"),
            "cabinet_id": agenda.cab2,
            "reschedule_reason": "Pide más tarde",
            "notes": "Trae radiografía",
        },
        token=agenda.token,
    )
    assert r.status == 200, r.body
    d = r.json()["data"]
    assert d["start"].startswith(at(agenda.monday, "11:00")) and d["cabinet_id"] == agenda.cab2
    (rs,) = d["reschedules"]
    assert rs["previous"]["start"] == a["start"] and rs["previous"]["cabinet_id"] == agenda.cab1
    assert rs["new"]["start"] == d["start"] and rs["reason"] == "Pide más tarde"
    name, detail = published[-1]
    assert name == "appointment.updated"
    assert detail["changes"] == ["cabinet_id", "notes", "start"] and detail["rescheduled"] is True
    assert "Trae radiografía" not in repr(detail)
    # the old slot is free, the new one is taken
    booked(api, agenda, at(agenda.monday, "10:00"), 30)
    r = book(api, agenda, at(agenda.monday, "11:00"), 30, cabinet_id=agenda.cab2)
    assert r.status == 409 and r.json()["data"]["conflict_with"]["appointment_id"] == aid


def test_reschedule_into_an_overlap_is_409_and_changes_nothing(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "10:00"), 30)
    b = booked(api, agenda, at(agenda.monday, "11:00"), 30)
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(agenda.monday, "10:45")},
        token=agenda.token,
    )
    assert r.status == 409
    assert r.json()["data"]["conflict_with"]["appointment_id"] == b["appointment_id"]
    got = api.get(f"/appointments/{a['appointment_id']}", token=agenda.token).json()["data"]
    assert got["start"] == a["start"] and got["reschedules"] == []
    # its own slot is still held
    assert book(api, agenda, at(agenda.monday, "10:00")).status == 409


def test_extending_into_its_own_slots_is_fine(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "10:00"), 30)
    r = api.patch(f"/appointments/{a['appointment_id']}", {"duration_min": 90}, token=agenda.token)
    assert r.status == 200, r.body
    assert r.json()["data"]["end"].startswith(at(agenda.monday, "11:30"))
    assert book(api, agenda, at(agenda.monday, "11:00")).status == 409


def test_reschedule_outside_hours_is_422_and_of_a_finished_one_409(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "10:00"))
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(agenda.monday, "22:00")},
        token=agenda.token,
    )
    assert r.status == 422
    status(api, agenda, a["appointment_id"], "cancelled")
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(agenda.monday, "12:00")},
        token=agenda.token,
    )
    assert r.status == 409 and r.json()["data"]["current_status"] == "cancelled"
    r = api.patch(f"/appointments/{a['appointment_id']}", {"notes": "Llamar"}, token=agenda.token)
    assert r.status == 200 and r.json()["data"]["notes"] == "Llamar"


def test_bad_update_input_is_422(api, agenda):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    for body in ({"start": None}, {"duration_min": 12}, {"patient_id": "x"}, {"colour": "x"}):
        r = api.patch(f"/appointments/{aid}", body, token=agenda.token)
        assert r.status == 422, body
        assert r.json()["errors"]


# --- views ---------------------------------------------------------------------------------


def test_day_and_week_views(api, agenda, clinic):
    other_pro = second_professional(api, clinic)
    tuesday = agenda.monday + timedelta(days=1)
    a1 = booked(api, agenda, at(agenda.monday, "09:00"))
    a2 = booked(  # another patient: one patient is never in two chairs at once
        api,
        agenda,
        at(agenda.monday, "09:00"),
        cabinet_id=agenda.cab2,
        professional_id=other_pro,
        patient_id=create_patient(api, agenda.token)["patient_id"],
    )
    a3 = booked(api, agenda, at(tuesday, "19:30"))
    a4 = booked(api, agenda, at(agenda.monday, "17:00"))
    status(api, agenda, a4["appointment_id"], "cancelled")
    t = agenda.token

    def ids(path: str) -> list[str]:
        r = api.get(path, token=t)
        assert r.status == 200, r.body
        return [a["appointment_id"] for a in r.json()["data"]["appointments"]]

    m = agenda.monday.isoformat()
    assert set(ids(f"/agenda/day?date={m}")) == {a1["appointment_id"], a2["appointment_id"]}
    assert ids(f"/agenda/day?date={m}&cabinet_id={agenda.cab1}") == [a1["appointment_id"]]
    assert ids(f"/agenda/day?date={m}&professional_id={other_pro}") == [a2["appointment_id"]]
    assert a4["appointment_id"] in ids(f"/agenda/day?date={m}&include_cancelled=true")
    day = api.get(f"/agenda/day?date={m}", token=t).json()["data"]
    assert day["weekday"] == "monday" and day["closed"] is False
    assert day["hours"] == [{"start": "09:00", "end": "14:00"}, {"start": "16:00", "end": "20:00"}]

    r = api.get(f"/agenda/week?start={m}&cabinet_id={agenda.cab1}", token=t)
    assert r.status == 200
    w = r.json()["data"]
    assert len(w["days"]) == 7 and w["end"] == (agenda.monday + timedelta(days=6)).isoformat()
    assert [a["appointment_id"] for a in w["days"][0]["appointments"]] == [a1["appointment_id"]]
    assert [a["appointment_id"] for a in w["days"][1]["appointments"]] == [a3["appointment_id"]]
    assert w["days"][5]["closed"] is True and w["days"][6]["closed"] is True


def test_view_bad_input_is_422(api, agenda):
    for qs in (
        "/agenda/day",
        "/agenda/day?date=2026-13-01",
        "/agenda/week?start=x",
        f"/agenda/day?date=2026-01-05&cabinet_id={agenda.cab1}&professional_id=x",
    ):
        r = api.get(qs, token=agenda.token)
        assert r.status == 422, qs
        assert r.json()["errors"]


def test_patient_upcoming_and_past_appointments(api, agenda):
    last_monday = future_day(0, weeks_ahead=-1)
    past = booked(api, agenda, at(last_monday, "10:00"), override=True)  # after the fact
    up1 = booked(api, agenda, at(agenda.monday, "10:00"))
    up2 = booked(api, agenda, at(agenda.monday + timedelta(days=1), "10:00"))
    base = f"/patients/{agenda.patient_id}/appointments"
    r = api.get(base, token=agenda.token)
    assert r.status == 200
    assert [a["appointment_id"] for a in r.json()["data"]["items"]] == [
        up1["appointment_id"],
        up2["appointment_id"],
    ]
    r = api.get(f"{base}?when=past", token=agenda.token)
    assert [a["appointment_id"] for a in r.json()["data"]["items"]] == [past["appointment_id"]]
    r = api.get(f"{base}?limit=1", token=agenda.token)
    d = r.json()["data"]
    assert [a["appointment_id"] for a in d["items"]] == [up1["appointment_id"]]
    r = api.get(f"{base}?limit=1&cursor={d['next_cursor']}", token=agenda.token)
    assert [a["appointment_id"] for a in r.json()["data"]["items"]] == [up2["appointment_id"]]
    assert api.get(f"{base}?when=soon", token=agenda.token).status == 422
    other = create_patient(api, agenda.token)["patient_id"]
    r = api.get(f"/patients/{other}/appointments?cursor={d['next_cursor']}", token=agenda.token)
    assert r.status == 400


# --- permissions and tenancy ---------------------------------------------------------------


def routes(ag, aid: str) -> list[tuple[str, str, Any]]:
    m = ag.monday.isoformat()
    return [
        (
            "POST",
            "/appointments",
            {
                "patient_id": ag.patient_id,
                "professional_id": ag.pro_id,
                "cabinet_id": ag.cab1,
                "start": at(ag.monday, "12:00"),
                "duration_min": 30,
                "reason": "x",
            },
        ),
        ("GET", f"/appointments/{aid}", None),
        ("PATCH", f"/appointments/{aid}", {"notes": "x"}),
        ("POST", f"/appointments/{aid}/status", {"status": "confirmed"}),
        ("GET", f"/agenda/day?date={m}", None),
        ("GET", f"/agenda/week?start={m}", None),
        ("GET", f"/patients/{ag.patient_id}/appointments", None),
    ]


def test_appointment_routes_need_a_token_and_the_permission(api, agenda, clinic):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    m = add_member(api, clinic, "assistant")
    assert (
        api.put("/roles/assistant", {"grants": ["patients.read"]}, token=agenda.token).status == 200
    )
    for method, path, body in routes(agenda, aid):
        assert api.request(method, path, body).status == 401, path
        r = api.request(method, path, body, token=m["token"])
        assert r.status == 403, (method, path)
        assert r.json()["data"]["permission"].startswith("agenda.appointments.")
    got = api.get(f"/appointments/{aid}", token=agenda.token).json()["data"]
    assert got["status"] == "scheduled" and got["notes"] is None


def test_another_clinic_cannot_reach_the_appointment(api, agenda, other_clinic):
    aid = booked(api, agenda, at(agenda.monday, "10:00"))["appointment_id"]
    t = other_clinic.admin_token
    assert api.get(f"/appointments/{aid}", token=t).status == 404
    assert api.patch(f"/appointments/{aid}", {"notes": "x"}, token=t).status == 404
    assert api.post(f"/appointments/{aid}/status", {"status": "cancelled"}, token=t).status == 404
    assert api.get(f"/patients/{agenda.patient_id}/appointments", token=t).status == 404
    day = api.get(f"/agenda/day?date={agenda.monday}", token=t).json()["data"]
    assert day["appointments"] == []
    r = api.get(f"/agenda/day?date={agenda.monday}&cabinet_id={agenda.cab1}", token=t)
    assert r.status == 404
    r = api.get(f"/agenda/day?date={agenda.monday}&professional_id={agenda.pro_id}", token=t)
    assert r.status == 422  # not a member of that clinic (test_cross_tenant_ids.py)
    got = api.get(f"/appointments/{aid}", token=agenda.token).json()["data"]
    assert got["status"] == "scheduled" and got["notes"] is None


def test_unknown_appointment_is_404(api, agenda):
    assert api.get("/appointments/01JZZZZZZZZZZZZZZZZZZZZZZZ", token=agenda.token).status == 404
