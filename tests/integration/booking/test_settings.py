"""Online booking settings: who may read and change them (403), another clinic's staff and ids
(cross-tenant), validation, the audit entry; the page and widget headers."""

from __future__ import annotations

from tests.integration.agenda.conftest import make_agenda
from tests.integration.booking.conftest import get_page, put_settings, settings_body, text
from tests.integration.conftest import add_member
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.patients.helpers import create_patient


def test_defaults_links_and_audit(api, clinic):
    ag = make_agenda(api, clinic)
    r = api.get("/booking/settings", token=ag.token)
    assert r.status == 200
    d = r.json()["data"]
    assert d["enabled"] is False and d["types"] == []
    assert d["public_url"].endswith(f"/api/v1/public/booking/{ag.clinic_id}")
    assert f"/public/booking/{ag.clinic_id}/widget.js" in d["widget_snippet"]
    s = put_settings(api, ag)
    assert s["enabled"] and s["types"][0]["type_id"] and s["version"] == 1
    # editing keeps the type's id (invitations name it)
    body = settings_body(ag, types=[{**s["types"][0], "duration_min": 45}])
    s2 = api.put("/booking/settings", body, token=ag.token).json()["data"]
    assert s2["types"][0]["type_id"] == s["types"][0]["type_id"]
    assert s2["types"][0]["duration_min"] == 45
    r = api.get("/audit?entity_type=booking", token=ag.token)
    assert r.status == 200 and len(r.json()["data"]["items"]) == 2


def test_validation(api, clinic):
    ag = make_agenda(api, clinic)
    bad = [
        settings_body(ag, horizon_days=0),
        settings_body(ag, types=[{**settings_body(ag)["types"][0], "duration_min": 33}]),
        settings_body(ag, types=[{**settings_body(ag)["types"][0], "professional_ids": []}]),
        settings_body(ag, embed_origins=["javascript:alert(1)"]),
        settings_body(ag, nope=1),
    ]
    for body in bad:
        assert api.put("/booking/settings", body, token=ag.token).status == 422, body


def test_permissions(api, clinic):
    ag = make_agenda(api, clinic)
    rec = add_member(api, clinic, "receptionist", "Recepción")
    assert api.get("/booking/settings", token=rec["token"]).status == 200
    r = api.put("/booking/settings", settings_body(ag), token=rec["token"])
    assert r.status == 403 and r.json()["data"]["permission"] == "booking.manage"
    assert api.get("/booking/settings").status == 401


def test_cross_tenant(api, clinic, other_clinic):
    a = make_agenda(api, clinic)
    b = make_agenda(api, other_clinic)
    put_settings(api, a)
    # B's admin sees B's own (default) settings, never A's, and cannot use A's ids
    mine = api.get("/booking/settings", token=b.token).json()["data"]
    assert mine["enabled"] is False and mine["types"] == []
    r = api.put("/booking/settings", settings_body(a), token=b.token)
    assert r.status == 422  # A's professional and cabinet are not B's
    assert api.get("/booking/settings", token=a.token).json()["data"]["version"] == 1
    # A's page never shows B's types or patients
    put_settings(api, b, types=[{**settings_body(b)["types"][0], "name_es": "SoloNorte"}])
    create_patient(api, b.token, first_name="Norteña", last_name="Ajena")
    page = text(get_page(api, a.clinic_id))
    assert "SoloNorte" not in page and "Norteña" not in page and "Revisión" in page


def test_page_headers_framing_and_widget(api, clinic):
    ag = make_agenda(api, clinic)
    put_settings(api, ag)
    r = get_page(api, ag.clinic_id)
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    put_settings(api, ag, embed_origins=["https://www.clinica.example"])
    r = get_page(api, ag.clinic_id)
    assert "frame-ancestors https://www.clinica.example" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    w = api.get(f"/public/booking/{ag.clinic_id}/widget.js")
    assert w.status == 200 and w.headers["Content-Type"].startswith("text/javascript")
    js = w.body.decode()
    assert f"/public/booking/{ag.clinic_id}" in js and "https://www.clinica.example" in js
    # English by Accept-Language, or ?lang=
    r = api.get(f"/public/booking/{ag.clinic_id}", headers={"Accept-Language": "en-GB"})
    assert "Book an appointment" in text(r)
    r = api.get(f"/public/booking/{ag.clinic_id}?lang=en")
    assert "Book an appointment" in text(r)
    put_settings(api, ag, enabled=False)
    assert "booking off" in api.get(f"/public/booking/{ag.clinic_id}/widget.js").body.decode()


def test_slot_search_costs_the_same_calls_however_many_appointments(api, clinic):
    from tests.integration.agenda.conftest import booked

    ag = make_agenda(api, clinic)
    s = put_settings(api, ag)
    tid = s["types"][0]["type_id"]
    week = ag.monday.isoformat()
    get_page(api, ag.clinic_id, type=tid, week=week)
    with dynamodb_calls() as few:
        assert get_page(api, ag.clinic_id, type=tid, week=week).status == 200
    for i, hh in enumerate(("09:00", "09:30", "10:00", "11:00", "12:00", "16:00")):
        booked(
            api, ag, f"{ag.monday.isoformat()}T{hh}:00", cabinet_id=ag.cab2 if i % 2 else ag.cab1
        )
    with dynamodb_calls() as many:
        r = get_page(api, ag.clinic_id, type=tid, week=week)
    assert r.status == 200
    assert many.by_op() == few.by_op()
