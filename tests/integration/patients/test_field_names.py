"""422s of the patient routes name the field at fault, never ``body`` (issue 20)."""

from __future__ import annotations

from datetime import date

from tests.integration.patients.helpers import patient_body


def test_a_minor_without_a_guardian_names_legal_guardian(api, clinic):
    dob = date(date.today().year - 8, 1, 15).isoformat()
    body = patient_body(date_of_birth=dob)
    r = api.post("/patients", body, token=clinic.admin_token)
    assert r.status == 422, r.body
    assert r.json()["errors"] == [
        {"field": "legal_guardian", "message": "is required for a patient under 18"}
    ]
    es = api.post("/patients", body, token=clinic.admin_token, headers={"Accept-Language": "es"})
    assert es.json()["errors"] == [
        {"field": "legal_guardian", "message": "es obligatorio para un paciente menor de 18 años"}
    ]
    found = api.get(f"/patients?q={body['last_name']}", token=clinic.admin_token)
    assert found.json()["data"]["items"] == []  # nothing stored


def test_two_search_filters_name_the_second_one(api, clinic):
    r = api.get("/patients?q=ana&phone=%2B34600111222", token=clinic.admin_token)
    assert r.status == 422
    assert [e["field"] for e in r.json()["errors"]] == ["query.phone"]
    r = api.get("/patients?email=a%40b.es&national_id=12345678Z", token=clinic.admin_token)
    assert [e["field"] for e in r.json()["errors"]] == ["query.national_id"]


def test_an_emergency_contact_without_a_phone_is_refused_and_the_patient_stays_readable(
    api, clinic
):
    """Found by the fuzzer: a blank phone was stored as null and every later read was a 500."""
    created = api.post("/patients", patient_body(), token=clinic.admin_token)
    assert created.status == 201, created.body
    pid = created.json()["data"]["patient_id"]
    for phone in ("", "   "):
        contact = {"name": "Luis Pérez", "phone": phone, "relationship": "hermano"}
        r = api.patch(f"/patients/{pid}", {"emergency_contact": contact}, token=clinic.admin_token)
        assert r.status == 422, r.body
        assert [e["field"] for e in r.json()["errors"]] == ["emergency_contact.phone"]
        r = api.post("/patients", patient_body(emergency_contact=contact), token=clinic.admin_token)
        assert r.status == 422 and r.json()["errors"][0]["field"] == "emergency_contact.phone"
    got = api.get(f"/patients/{pid}", token=clinic.admin_token)
    assert got.status == 200 and got.json()["data"]["emergency_contact"] is None
