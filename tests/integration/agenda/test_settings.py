"""Cabinets, professionals, opening hours and closed days."""

from __future__ import annotations

from tests.integration.conftest import add_member


def test_cabinets_crud_and_order(api, clinic):
    t = clinic.admin_token
    b = api.post("/agenda/cabinets", {"name": "Gabinete 2", "position": 2}, token=t)
    a = api.post(
        "/agenda/cabinets", {"name": "Gabinete 1", "position": 1, "colour": "#0f766e"}, token=t
    )
    assert a.status == b.status == 201
    cid = a.json()["data"]["cabinet_id"]
    names = [c["name"] for c in api.get("/agenda/cabinets", token=t).json()["data"]]
    assert names == ["Gabinete 1", "Gabinete 2"]
    r = api.patch(f"/agenda/cabinets/{cid}", {"name": "Gabinete A", "active": False}, token=t)
    assert r.status == 200
    assert r.json()["data"] == {**a.json()["data"], "name": "Gabinete A", "active": False}
    for body in ({"name": ""}, {"colour": "red"}, {"position": -1}, {"nope": 1}):
        assert api.post("/agenda/cabinets", body, token=t).status == 422, body
    assert api.patch(f"/agenda/cabinets/{cid}", {"name": None}, token=t).status == 422


def test_professionals_are_active_members_flagged_as_such(api, clinic):
    t = clinic.admin_token
    m = add_member(api, clinic, "hygienist", "Sergio Ruiz")
    ids = lambda: [p["user_id"] for p in api.get("/agenda/professionals", token=t).json()["data"]]  # noqa: E731
    assert ids() == [clinic.admin_id]
    api.patch(f"/staff/{m['user_id']}", {"is_professional": True}, token=t)
    assert set(ids()) == {clinic.admin_id, m["user_id"]}
    api.post(f"/staff/{m['user_id']}/deactivate", token=t)
    assert ids() == [clinic.admin_id]


def test_opening_hours_default_and_replace(api, clinic):
    t = clinic.admin_token
    d = api.get("/agenda/hours", token=t).json()["data"]
    assert d["customised"] is False and d["time_zone"] == "Europe/Madrid"
    assert d["friday"] == [{"start": "09:00", "end": "14:00"}, {"start": "16:00", "end": "20:00"}]
    assert d["saturday"] == [] and d["sunday"] == []
    body = {"monday": [{"start": "15:00", "end": "21:00"}, {"start": "08:00", "end": "13:00"}]}
    r = api.put("/agenda/hours", body, token=t)
    assert r.status == 200
    assert r.json()["data"]["monday"][0] == {"start": "08:00", "end": "13:00"}  # sorted
    assert api.get("/agenda/hours", token=t).json()["data"]["customised"] is True
    for bad in (
        {"monday": [{"start": "10:00", "end": "09:00"}]},
        {"monday": [{"start": "9:00", "end": "10:00"}]},
        {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]},
        {"funday": []},
    ):
        r = api.put("/agenda/hours", bad, token=t)
        assert r.status == 422, bad
        assert r.json()["errors"]


def test_holidays(api, clinic):
    t = clinic.admin_token
    assert (
        api.post("/agenda/holidays", {"date": "2030-12-25", "name": "Navidad"}, token=t).status
        == 201
    )
    assert (
        api.post("/agenda/holidays", {"date": "2031-01-01", "name": "Año nuevo"}, token=t).status
        == 201
    )
    r = api.post("/agenda/holidays", {"date": "2030-12-25", "name": "Otra"}, token=t)
    assert r.status == 409
    assert [h["date"] for h in api.get("/agenda/holidays?year=2030", token=t).json()["data"]] == [
        "2030-12-25"
    ]
    assert len(api.get("/agenda/holidays", token=t).json()["data"]) == 2
    assert api.delete("/agenda/holidays/2030-12-25", token=t).status == 204
    assert api.delete("/agenda/holidays/2030-12-25", token=t).status == 404
    assert api.delete("/agenda/holidays/not-a-date", token=t).status == 404
    for body in ({"date": "2030-02-30", "name": "x"}, {"date": "2030-01-01", "name": ""}):
        assert api.post("/agenda/holidays", body, token=t).status == 422
    assert api.get("/agenda/holidays?year=1900", token=t).status == 422


def test_settings_routes_need_a_token_permission_and_stay_in_their_clinic(
    api, clinic, other_clinic
):
    t = clinic.admin_token
    cab = api.post("/agenda/cabinets", {"name": "G1"}, token=t).json()["data"]["cabinet_id"]
    api.post("/agenda/holidays", {"date": "2030-05-01", "name": "Trabajo"}, token=t)
    routes = [
        ("GET", "/agenda/cabinets", None, "agenda.appointments.read"),
        ("POST", "/agenda/cabinets", {"name": "X"}, "agenda.settings.write"),
        ("PATCH", f"/agenda/cabinets/{cab}", {"name": "X"}, "agenda.settings.write"),
        ("GET", "/agenda/professionals", None, "agenda.appointments.read"),
        ("GET", "/agenda/hours", None, "agenda.appointments.read"),
        ("PUT", "/agenda/hours", {}, "agenda.settings.write"),
        ("GET", "/agenda/holidays", None, "agenda.appointments.read"),
        ("POST", "/agenda/holidays", {"date": "2030-06-01", "name": "X"}, "agenda.settings.write"),
        ("DELETE", "/agenda/holidays/2030-05-01", None, "agenda.settings.write"),
    ]
    receptionist = add_member(api, clinic, "receptionist")  # books, but no settings
    m = add_member(api, clinic, "assistant")
    assert api.put("/roles/assistant", {"grants": ["patients.read"]}, token=t).status == 200
    for method, path, body, perm in routes:
        assert api.request(method, path, body).status == 401, path
        r = api.request(method, path, body, token=m["token"])
        assert r.status == 403 and r.json()["data"]["permission"] == perm, path
        if perm == "agenda.settings.write":
            assert api.request(method, path, body, token=receptionist["token"]).status == 403
    # another clinic sees none of it and cannot change it
    o = other_clinic.admin_token
    assert api.patch(f"/agenda/cabinets/{cab}", {"name": "Hacked"}, token=o).status == 404
    assert api.get("/agenda/cabinets", token=o).json()["data"] == []
    assert api.get("/agenda/holidays", token=o).json()["data"] == []
    assert api.delete("/agenda/holidays/2030-05-01", token=o).status == 404
    assert api.get("/agenda/professionals", token=o).json()["data"][0]["user_id"] != clinic.admin_id
    assert [c["name"] for c in api.get("/agenda/cabinets", token=t).json()["data"]] == ["G1"]
    assert len(api.get("/agenda/holidays", token=t).json()["data"]) == 1
