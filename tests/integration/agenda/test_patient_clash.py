"""One patient is never in two chairs at once (issue 20): a booking or a reschedule that
overlaps another live appointment of the same patient, in any cabinet and with any
professional, is a 409 naming it (``data.resource = "patient"``). Concurrency-safe through the
patient's PatientBookings guard (docs/adr/0302-appointment-slot-locks.md, "The patient")."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.agenda.models import PatientBookings
from chalicelib.core.errors import Conflict
from tests.integration.agenda.conftest import at, book, booked
from tests.integration.agenda.test_appointments import second_professional
from tests.integration.conftest import admin_principal
from tests.integration.patients.helpers import create_patient

ES = {"Accept-Language": "es"}


def chair2(agenda: Any, pro: str) -> dict[str, str]:
    """The other cabinet with the other professional: no slot lock in common with cabinet 1."""
    return {"cabinet_id": agenda.cab2, "professional_id": pro}


def day_ids(api: Any, agenda: Any) -> list[str]:
    r = api.get(f"/agenda/day?date={agenda.monday}", token=agenda.token)
    assert r.status == 200, r.body
    return [a["appointment_id"] for a in r.json()["data"]["appointments"]]


def test_the_same_patient_in_another_chair_at_the_same_time_is_409_naming_it(api, agenda, clinic):
    other_pro = second_professional(api, clinic)
    first = booked(api, agenda, at(agenda.monday, "10:00"), 60)
    elsewhere = {"cabinet_id": agenda.cab2, "professional_id": other_pro}
    r = book(api, agenda, at(agenda.monday, "10:30"), 30, **elsewhere)
    assert r.status == 409, r.body
    body = r.json()
    assert body["code"] == "APPOINTMENT_CONFLICT"
    assert body["data"]["resource"] == "patient"
    assert body["data"]["conflict_with"]["appointment_id"] == first["appointment_id"]
    assert body["data"]["conflict_with"]["cabinet_id"] == agenda.cab1
    assert body["data"]["conflict_with"]["patient_name"] == agenda.patient_name
    assert "The patient already has an appointment at that time" in body["message"]
    es = api.post(
        "/appointments",
        {
            "patient_id": agenda.patient_id,
            "start": at(agenda.monday, "10:00"),
            "duration_min": 15,
            "reason": "Revisión",
            **elsewhere,
        },
        token=agenda.token,
        headers=ES,
    )
    assert es.status == 409 and es.json()["message"].startswith("El paciente ya tiene una cita")
    assert day_ids(api, agenda) == [first["appointment_id"]]  # nothing was stored
    # back to back is fine, and so is another patient at the same time
    booked(api, agenda, at(agenda.monday, "11:00"), 30, **elsewhere)
    booked(api, agenda, at(agenda.monday, "09:30"), 30, **elsewhere)
    other = create_patient(api, agenda.token)["patient_id"]
    booked(api, agenda, at(agenda.monday, "10:30"), 30, patient_id=other, **elsewhere)


def test_a_cabinet_or_professional_clash_is_still_named_before_the_patient(api, agenda):
    first = booked(api, agenda, at(agenda.monday, "12:00"), 30)
    r = book(api, agenda, at(agenda.monday, "12:00"), 30)
    # both the cabinet and the professional clash here too; either is named, as before
    assert r.status == 409 and r.json()["data"]["resource"] in ("cabinet", "professional")
    assert r.json()["data"]["conflict_with"]["appointment_id"] == first["appointment_id"]


def test_a_cancelled_or_missed_appointment_frees_the_patient(api, agenda, clinic):
    other_pro = second_professional(api, clinic)
    a = booked(api, agenda, at(agenda.monday, "16:00"), 30)
    elsewhere = {"cabinet_id": agenda.cab2, "professional_id": other_pro}
    assert book(api, agenda, at(agenda.monday, "16:00"), 30, **elsewhere).status == 409
    r = api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=agenda.token
    )
    assert r.status == 200
    booked(api, agenda, at(agenda.monday, "16:00"), 30, **elsewhere)


def test_a_reschedule_into_the_patients_other_appointment_is_409_and_changes_nothing(
    api, agenda, clinic
):
    other_pro = second_professional(api, clinic)
    a = booked(api, agenda, at(agenda.monday, "10:00"), 30)
    b = booked(
        api,
        agenda,
        at(agenda.monday, "11:00"),
        30,
        cabinet_id=agenda.cab2,
        professional_id=other_pro,
    )
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(agenda.monday, "10:45")},
        token=agenda.token,
    )
    assert r.status == 409, r.body
    assert r.json()["data"]["resource"] == "patient"
    assert r.json()["data"]["conflict_with"]["appointment_id"] == b["appointment_id"]
    got = api.get(f"/appointments/{a['appointment_id']}", token=agenda.token).json()["data"]
    assert got["start"] == a["start"] and got["reschedules"] == []
    # a longer duration into it is refused too; within its own time it moves freely
    r = api.patch(f"/appointments/{a['appointment_id']}", {"duration_min": 90}, token=agenda.token)
    assert r.status == 409 and r.json()["data"]["resource"] == "patient"
    r = api.patch(f"/appointments/{a['appointment_id']}", {"duration_min": 60}, token=agenda.token)
    assert r.status == 200, r.body
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(agenda.monday, "09:45")},
        token=agenda.token,
    )
    assert r.status == 200, r.body


def test_racing_bookings_of_one_patient_in_two_chairs_cannot_both_succeed(
    api, agenda, clinic, monkeypatch
):
    """Both bookings pass the patient check, then race to write: the rival for the same patient
    (another cabinet, another professional: no slot lock in common) lands between our check and
    our write. The version condition on the patient's guard refuses our write; the check runs
    again and names the rival."""
    from chalicelib.agenda import schemas, service

    principal = admin_principal(clinic)
    other_pro = second_professional(api, clinic)
    real_tx = service.transaction
    rival: dict[str, str] = {}

    def body(cabinet: str, pro: str, start: str) -> schemas.AppointmentIn:
        return schemas.AppointmentIn(
            patient_id=agenda.patient_id,
            professional_id=pro,
            cabinet_id=cabinet,
            start=start,
            duration_min=30,
            reason="Urgencia",
        )

    def racing_tx():
        if not rival:
            monkeypatch.setattr(service, "transaction", real_tx)
            rival["id"] = service.create(
                principal, body(agenda.cab2, other_pro, at(agenda.monday, "17:15"))
            ).appointment_id
        return real_tx()

    monkeypatch.setattr(service, "transaction", racing_tx)
    with pytest.raises(Conflict) as err:
        service.create(principal, body(agenda.cab1, agenda.pro_id, at(agenda.monday, "17:00")))
    assert err.value.data["resource"] == "patient"
    assert err.value.data["conflict_with"]["appointment_id"] == rival["id"]
    assert day_ids(api, agenda) == [rival["id"]]
    # nothing of the loser was left behind: its cabinet and professional are free at 17:00
    other = create_patient(api, agenda.token)["patient_id"]
    booked(api, agenda, at(agenda.monday, "17:00"), 30, patient_id=other)


def test_a_booking_the_patient_index_does_not_show_yet_is_still_found(
    api, agenda, clinic, monkeypatch
):
    """GSI2 (the patient index) is eventually consistent: a booking written a moment ago may be
    missing from it. The guard's journal, read consistently, still shows it."""
    from chalicelib.agenda import service

    other_pro = second_professional(api, clinic)
    first = booked(api, agenda, at(agenda.monday, "12:30"), 30)
    real_between = service._between

    def lagging_index(index, attr, pk, lo, hi):
        return [] if "#PAT#" in pk else real_between(index, attr, pk, lo, hi)

    monkeypatch.setattr(service, "_between", lagging_index)
    r = book(
        api,
        agenda,
        at(agenda.monday, "12:45"),
        30,
        cabinet_id=agenda.cab2,
        professional_id=other_pro,
    )
    assert r.status == 409 and r.json()["data"]["resource"] == "patient"
    assert r.json()["data"]["conflict_with"]["appointment_id"] == first["appointment_id"]


def test_an_appointment_older_than_the_journal_is_found_through_the_patient_index(
    api, agenda, clinic
):
    """Appointments booked before the guard existed (or written more than an hour ago) are not
    in the journal: the patient index shows them."""
    other_pro = second_professional(api, clinic)
    first = booked(api, agenda, at(agenda.monday, "13:00"), 30)
    PatientBookings(*PatientBookings.key(agenda.clinic_id, agenda.patient_id)).delete()
    r = book(
        api,
        agenda,
        at(agenda.monday, "13:00"),
        30,
        cabinet_id=agenda.cab2,
        professional_id=other_pro,
    )
    assert r.status == 409 and r.json()["data"]["resource"] == "patient"
    assert r.json()["data"]["conflict_with"]["appointment_id"] == first["appointment_id"]
    # the next booking of the patient creates the guard again (conditionally)
    b = booked(
        api,
        agenda,
        at(agenda.monday, "13:30"),
        30,
        cabinet_id=agenda.cab2,
        professional_id=other_pro,
    )
    guard = PatientBookings.get(*PatientBookings.key(agenda.clinic_id, agenda.patient_id))
    assert set(guard.recent) == {b["appointment_id"]} and int(guard.version) == 1


def test_the_guard_journal_keeps_only_the_last_hour(api, agenda, clinic, monkeypatch):
    from datetime import timedelta

    from chalicelib.agenda import service

    a = booked(api, agenda, at(agenda.monday, "09:00"), 30)
    key = PatientBookings.key(agenda.clinic_id, agenda.patient_id)
    assert set(PatientBookings.get(*key).recent) == {a["appointment_id"]}
    later = service.now() + service.JOURNAL_KEEP + timedelta(minutes=1)
    monkeypatch.setattr(service, "now", lambda: later)
    b = booked(api, agenda, at(agenda.monday, "09:30"), 30)
    guard = PatientBookings.get(*key)
    assert set(guard.recent) == {b["appointment_id"]} and int(guard.version) == 2
