"""A cancelled or missed appointment can be booked again at its time (undo a mis-click, or the
patient called back): status ``scheduled`` again, with the booking's own checks — the slots are
taken back in the same transaction, and a slot someone else took meanwhile is a 409 naming it."""

from __future__ import annotations

from typing import Any

from tests.integration.agenda.conftest import at, book, booked
from tests.integration.agenda.test_appointments import second_professional
from tests.integration.patients.helpers import create_patient


def status(api: Any, token: str, appointment_id: str, to: str, reason: str | None = None) -> Any:
    body = {"status": to, **({"reason": reason} if reason else {})}
    return api.post(f"/appointments/{appointment_id}/status", body, token=token)


def test_a_cancelled_appointment_is_booked_again_and_takes_its_slots_back(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "10:00"), 30)
    aid = a["appointment_id"]
    r = status(api, agenda.token, aid, "cancelled", "Se equivocó de día")
    assert r.status == 200 and r.json()["data"]["allowed_transitions"] == ["scheduled"]
    back = status(api, agenda.token, aid, "scheduled")
    assert back.status == 200, back.body
    data = back.json()["data"]
    assert data["status"] == "scheduled"
    assert [h["status"] for h in data["status_history"]][-2:] == ["cancelled", "scheduled"]
    # its slots are held again: another patient in the same cabinet and time is refused
    other = create_patient(api, agenda.token)
    clash = book(api, agenda, at(agenda.monday, "10:00"), 30, patient_id=other["patient_id"])
    assert clash.status == 409 and clash.json()["data"]["conflict_with"]["appointment_id"] == aid
    # and it shows in the day again
    day = api.get(f"/agenda/day?date={agenda.monday}", token=agenda.token).json()["data"]
    assert aid in [x["appointment_id"] for x in day["appointments"]]


def test_a_no_show_can_be_undone(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "11:00"), 30)
    assert status(api, agenda.token, a["appointment_id"], "no_show").status == 200
    back = status(api, agenda.token, a["appointment_id"], "scheduled")
    assert back.status == 200 and back.json()["data"]["status"] == "scheduled"


def test_a_slot_taken_meanwhile_is_a_409_naming_who_took_it_and_nothing_changes(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "12:00"), 30)
    aid = a["appointment_id"]
    assert status(api, agenda.token, aid, "cancelled").status == 200
    other = create_patient(api, agenda.token)
    taker = booked(api, agenda, at(agenda.monday, "12:00"), 30, patient_id=other["patient_id"])
    r = status(api, agenda.token, aid, "scheduled")
    assert r.status == 409, r.body
    assert r.json()["data"]["conflict_with"]["appointment_id"] == taker["appointment_id"]
    got = api.get(f"/appointments/{aid}", token=agenda.token).json()["data"]
    assert got["status"] == "cancelled"


def test_the_patient_booked_elsewhere_meanwhile_is_a_409(api, agenda, clinic):
    a = booked(api, agenda, at(agenda.monday, "13:00"), 30)
    aid = a["appointment_id"]
    assert status(api, agenda.token, aid, "cancelled").status == 200
    pro = second_professional(api, clinic)
    booked(api, agenda, at(agenda.monday, "13:00"), 30, cabinet_id=agenda.cab2, professional_id=pro)
    r = status(api, agenda.token, aid, "scheduled")
    assert r.status == 409 and r.json()["data"]["resource"] == "patient"


def test_only_a_released_appointment_goes_back_and_completed_ones_never(api, agenda):
    a = booked(api, agenda, at(agenda.monday, "16:00"), 30)
    aid = a["appointment_id"]
    assert status(api, agenda.token, aid, "scheduled").status == 409  # already scheduled
    for s in ("checked_in", "in_progress", "completed"):
        assert status(api, agenda.token, aid, s).status == 200
    r = status(api, agenda.token, aid, "scheduled")
    assert r.status == 409 and r.json()["code"] == "INVALID_TRANSITION"


def test_another_clinic_cannot_reinstate(api, agenda, other_clinic):
    a = booked(api, agenda, at(agenda.monday, "17:00"), 30)
    assert status(api, agenda.token, a["appointment_id"], "cancelled").status == 200
    r = status(api, other_clinic.admin_token, a["appointment_id"], "scheduled")
    assert r.status == 404
    got = api.get(f"/appointments/{a['appointment_id']}", token=agenda.token).json()["data"]
    assert got["status"] == "cancelled"
