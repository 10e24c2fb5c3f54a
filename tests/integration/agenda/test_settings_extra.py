"""What the agenda settings screen needs beyond the basic routes: a cabinet's upcoming
appointments before it is deactivated (and reactivating it), and closing several days at once."""

from __future__ import annotations

from chalicelib.agenda import schemas
from tests.integration.agenda.conftest import at, booked
from tests.integration.conftest import add_member
from tests.integration.ddb_calls import dynamodb_calls


def test_upcoming_counts_live_future_appointments_of_that_cabinet_only(api, agenda):
    t, cab = agenda.token, agenda.cab1
    up = lambda c: api.get(f"/agenda/cabinets/{c}/upcoming", token=t)  # noqa: E731
    assert up(cab).json()["data"] == {"cabinet_id": cab, "count": 0, "capped": False, "first": None}
    first = booked(api, agenda, at(agenda.monday, "10:00"))
    booked(api, agenda, at(agenda.monday, "11:00"))
    gone = booked(api, agenda, at(agenda.monday, "12:00"))
    booked(api, agenda, at(agenda.monday, "16:00"), cabinet_id=agenda.cab2)
    r = api.post(
        f"/appointments/{gone['appointment_id']}/status",
        {"status": "cancelled", "reason": "x"},
        token=t,
    )
    assert r.status == 200, r.body
    d = up(cab).json()["data"]
    assert (d["count"], d["capped"], d["first"]) == (2, False, first["start"])
    assert up(agenda.cab2).json()["data"]["count"] == 1
    # deactivating keeps them; reactivating takes bookings again
    assert (
        api.patch(f"/agenda/cabinets/{cab}", {"active": False}, token=t).json()["data"]["active"]
        is False
    )
    assert up(cab).json()["data"]["count"] == 2
    r = api.patch(f"/agenda/cabinets/{cab}", {"active": True}, token=t)
    assert r.status == 200 and r.json()["data"]["active"] is True
    booked(api, agenda, at(agenda.monday, "13:00"))
    assert up(cab).json()["data"]["count"] == 3
    assert up("nope").status == 404


def test_upcoming_stops_counting_at_the_cap_with_one_bounded_query(api, agenda, monkeypatch):
    # A cabinet booked far ahead: the count stops at the cap (the screen says "more than"),
    # reading at most twice the cap in one Query, whatever the number of bookings.
    monkeypatch.setattr(schemas, "UPCOMING_CAP", 2)
    for hour in ("09:00", "10:00", "11:00", "12:00", "13:00", "16:00"):
        booked(api, agenda, at(agenda.monday, hour))
    with dynamodb_calls() as calls:
        r = api.get(f"/agenda/cabinets/{agenda.cab1}/upcoming", token=agenda.token)
    d = r.json()["data"]
    assert (d["count"], d["capped"]) == (2, True)
    # the caller (one BatchGetItem), the cabinet, then one Query of at most twice the cap
    assert calls.ops == ["BatchGetItem", "GetItem", "Query"]
    assert calls.read_items <= 4 + 1 + 2 * 2
    # Cancelled bookings fill what is read: fewer live ones counted, still "more than".
    for a in agenda_items(api, agenda)[:4]:
        r = api.post(
            f"/appointments/{a['appointment_id']}/status",
            {"status": "cancelled", "reason": "x"},
            token=agenda.token,
        )
        assert r.status == 200, r.body
    d = api.get(f"/agenda/cabinets/{agenda.cab1}/upcoming", token=agenda.token).json()["data"]
    assert (d["count"], d["capped"]) == (0, True)


def agenda_items(api, agenda):
    r = api.get(f"/agenda/day?date={agenda.monday}&cabinet_id={agenda.cab1}", token=agenda.token)
    return sorted(r.json()["data"]["appointments"], key=lambda a: a["start"])


def test_a_holiday_range_closes_each_day_and_keeps_days_already_closed(api, clinic):
    t = clinic.admin_token
    api.post("/agenda/holidays", {"date": "2030-08-15", "name": "Asunción"}, token=t)
    body = {"first": "2030-08-12", "last": "2030-08-18", "name": "Vacaciones"}
    r = api.post("/agenda/holidays/range", body, token=t)
    assert r.status == 201, r.body
    d = r.json()["data"]
    assert [h["date"] for h in d["added"]] == [
        "2030-08-12",
        "2030-08-13",
        "2030-08-14",
        "2030-08-16",
        "2030-08-17",
        "2030-08-18",
    ]
    assert d["already_closed"] == [{"date": "2030-08-15", "name": "Asunción"}]
    listed = api.get("/agenda/holidays?year=2030", token=t).json()["data"]
    assert len(listed) == 7 and {"date": "2030-08-15", "name": "Asunción"} in listed
    # the day view shows the range as closed
    day = api.get("/agenda/day?date=2030-08-13", token=t).json()["data"]
    assert day["closed"] is True and day["holiday"] == "Vacaciones"
    # again: nothing new, all already closed
    again = api.post("/agenda/holidays/range", body, token=t).json()["data"]
    assert again["added"] == [] and len(again["already_closed"]) == 7


def test_a_holiday_range_rejects_bad_ranges_naming_last(api, clinic):
    t = clinic.admin_token
    for body in (
        {"first": "2030-08-12", "last": "2030-08-11", "name": "x"},
        {"first": "2030-01-01", "last": "2030-06-01", "name": "x"},
    ):
        r = api.post("/agenda/holidays/range", body, token=t)
        assert r.status == 422, body
        assert [e["field"] for e in r.json()["errors"]] == ["last"]
    for body in (
        {"first": "2030-02-30", "last": "2030-03-01", "name": "x"},
        {"first": "2030-08-12", "last": "2030-08-13", "name": ""},
        {"first": "2030-08-12", "name": "x"},
    ):
        assert api.post("/agenda/holidays/range", body, token=t).status == 422, body
    assert api.get("/agenda/holidays", token=t).json()["data"] == []
    # one day is a range too
    one = {"first": "2030-08-12", "last": "2030-08-12", "name": "x"}
    assert len(api.post("/agenda/holidays/range", one, token=t).json()["data"]["added"]) == 1


def test_the_new_routes_need_their_permission_and_stay_in_their_clinic(api, clinic, other_clinic):
    t = clinic.admin_token
    cab = api.post("/agenda/cabinets", {"name": "G1"}, token=t).json()["data"]["cabinet_id"]
    rng = {"first": "2030-08-12", "last": "2030-08-13", "name": "x"}
    receptionist = add_member(api, clinic, "receptionist")
    rt = receptionist["token"]
    assert api.get(f"/agenda/cabinets/{cab}/upcoming", token=rt).status == 200
    r = api.post("/agenda/holidays/range", rng, token=rt)
    assert r.status == 403 and r.json()["data"]["permission"] == "agenda.settings.write"
    assert api.get(f"/agenda/cabinets/{cab}/upcoming").status == 401
    assert api.post("/agenda/holidays/range", rng).status == 401
    o = other_clinic.admin_token
    assert api.get(f"/agenda/cabinets/{cab}/upcoming", token=o).status == 404
    assert api.post("/agenda/holidays/range", rng, token=o).status == 201
    assert api.get("/agenda/holidays", token=t).json()["data"] == []
