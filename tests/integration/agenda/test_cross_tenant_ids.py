"""Every id a request names is resolved within the caller's clinic (issue 20): clinic B's token
with clinic A's patient, cabinet, professional or appointment id is a 404 or a 422 naming the
field, and nothing is stored in either clinic."""

from __future__ import annotations

from typing import Any

from tests.integration.agenda.conftest import Agenda, at, book, booked, make_agenda


def day(api: Any, ag: Agenda, **filters: str) -> Any:
    qs = "".join(f"&{k}={v}" for k, v in filters.items())
    return api.get(f"/agenda/day?date={ag.monday}{qs}", token=ag.token)


def everything(api: Any, ag: Agenda) -> tuple[Any, ...]:
    """What either clinic could have been changed in: its day, its patient's appointments."""
    d = day(api, ag, include_cancelled="true").json()["data"]["appointments"]
    p = api.get(f"/patients/{ag.patient_id}/appointments", token=ag.token).json()["data"]
    return tuple(d), tuple(p["items"])


def test_booking_with_another_clinics_ids_is_422_naming_each_and_stores_nothing(
    api, clinic, other_clinic
):
    a, b = make_agenda(api, clinic), make_agenda(api, other_clinic)
    before = everything(api, a), everything(api, b)
    for field, foreign in (
        ("patient_id", a.patient_id),
        ("professional_id", a.pro_id),
        ("cabinet_id", a.cab1),
    ):
        r = book(api, b, at(b.monday, "10:00"), **{field: foreign})
        assert r.status == 422, (field, r.body)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert (everything(api, a), everything(api, b)) == before


def test_rescheduling_into_another_clinics_cabinet_or_professional_is_422(
    api, clinic, other_clinic
):
    a, b = make_agenda(api, clinic), make_agenda(api, other_clinic)
    mine = booked(api, b, at(b.monday, "10:00"))
    path = f"/appointments/{mine['appointment_id']}"
    for field, foreign in (("professional_id", a.pro_id), ("cabinet_id", a.cab1)):
        r = api.patch(path, {field: foreign}, token=b.token)
        assert r.status == 422, (field, r.body)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert api.get(path, token=b.token).json()["data"] == mine
    assert everything(api, a) == ((), ())


def test_another_clinics_appointment_is_404_on_every_route(api, clinic, other_clinic):
    a, b = make_agenda(api, clinic), make_agenda(api, other_clinic)
    theirs = booked(api, a, at(a.monday, "10:00"))
    path = f"/appointments/{theirs['appointment_id']}"
    assert api.get(path, token=b.token).status == 404
    assert api.patch(path, {"notes": "x"}, token=b.token).status == 404
    assert api.post(f"{path}/status", {"status": "cancelled"}, token=b.token).status == 404
    assert api.get(f"/patients/{a.patient_id}/appointments", token=b.token).status == 404
    assert api.get(path, token=a.token).json()["data"] == theirs


def test_views_filtered_by_another_clinics_cabinet_or_professional_are_refused(
    api, clinic, other_clinic
):
    a, b = make_agenda(api, clinic), make_agenda(api, other_clinic)
    booked(api, a, at(a.monday, "10:00"))
    assert day(api, b, cabinet_id=a.cab1).status == 404
    r = day(api, b, professional_id=a.pro_id)
    assert r.status == 422, r.body
    assert [e["field"] for e in r.json()["errors"]] == ["query.professional_id"]
    r = api.get(f"/agenda/week?start={b.monday}&professional_id={a.pro_id}", token=b.token)
    assert r.status == 422
    # its own professional and cabinet still filter
    assert day(api, b, professional_id=b.pro_id).status == 200
    assert day(api, b, cabinet_id=b.cab1).status == 200


def test_cabinets_and_closed_days_of_another_clinic_are_out_of_reach(api, clinic, other_clinic):
    a, b = make_agenda(api, clinic), make_agenda(api, other_clinic)
    r = api.patch(f"/agenda/cabinets/{a.cab1}", {"name": "Robado"}, token=b.token)
    assert r.status == 404
    names = [c["name"] for c in api.get("/agenda/cabinets", token=a.token).json()["data"]]
    assert names == ["Gabinete 1", "Gabinete 2"]
    day_a = a.monday.isoformat()
    assert api.post("/agenda/holidays", {"date": day_a, "name": "A"}, token=a.token).status == 201
    assert api.delete(f"/agenda/holidays/{day_a}", token=b.token).status == 404
    assert [h["date"] for h in api.get("/agenda/holidays", token=a.token).json()["data"]] == [day_a]
