"""The API answers in the caller's language (ADR 0009): the staff SPA sends Accept-Language, so
a Spanish receptionist reads a refused booking, an invalid field or a duplicate in Spanish."""

from __future__ import annotations

from tests.integration.agenda.conftest import at, book, future_day, make_agenda
from tests.integration.patients.helpers import create_patient, patient_body

ES = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.8"}


def test_a_booking_on_a_closed_day_is_refused_in_spanish_and_in_english(api, clinic):
    ag = make_agenda(api, clinic)
    sunday = future_day(6)
    en = book(api, ag, at(sunday, "10:00"))
    body = {
        "patient_id": ag.patient_id,
        "professional_id": ag.pro_id,
        "cabinet_id": ag.cab1,
        "start": at(sunday, "10:00"),
        "duration_min": 30,
        "reason": "Revisión",
    }
    es = api.post("/appointments", body, token=ag.token, headers=ES)
    assert es.status == en.status == 422
    assert es.json()["code"] == en.json()["code"]  # codes never change with the language
    assert es.json()["message"].startswith("No se puede citar: la clínica cierra los domingos.")
    assert en.json()["message"].startswith("Cannot book: the clinic is closed on sundays.")
    assert es.json()["errors"] == [{"field": "start", "message": "la clínica cierra los domingos"}]
    assert es.headers["Content-Language"] == "es" and en.headers["Content-Language"] == "en"
    assert "Accept-Language" in es.headers["Vary"]


def test_pydantic_field_messages_in_spanish_without_the_value_error_prefix(api, clinic):
    body = patient_body(first_name="", national_id={"type": "dni", "number": "12345678A"})
    es = api.post("/patients", body, token=clinic.admin_token, headers=ES)
    en = api.post("/patients", body, token=clinic.admin_token)
    assert es.status == en.status == 422
    assert es.json()["message"] == "Algunos campos no son válidos."
    by_field = {e["field"]: e["message"] for e in es.json()["errors"]}
    assert by_field["first_name"] == "Debe tener al menos 1 caracteres"
    assert "no es un DNI válido" in by_field["national_id"]
    english = {e["field"]: e["message"] for e in en.json()["errors"]}
    assert english["national_id"].startswith("national_id.number is not a valid DNI")


def test_a_duplicate_patient_and_an_unknown_one_in_spanish(api, clinic):
    p = create_patient(api, clinic.admin_token, first_name="Rocío", last_name="Peña")
    again = {k: p[k] for k in ("first_name", "last_name", "date_of_birth")}
    r = api.post("/patients", patient_body(**again), token=clinic.admin_token, headers=ES)
    assert r.status == 409 and r.json()["code"] == "PATIENT_DUPLICATE"
    assert r.json()["message"].startswith("Ya existe un paciente")
    r = api.get("/patients/01ZZZZZZZZZZZZZZZZZZZZZZZZ", token=clinic.admin_token, headers=ES)
    assert r.status == 404
    assert r.json()["message"] == "No hay ningún paciente con ese id en esta clínica."


def test_sign_in_first_and_no_permission_in_spanish(api, clinic):
    r = api.get("/patients", headers=ES)
    assert r.status == 401 and r.json()["message"].startswith("Inicia sesión primero")
    r = api.get("/patients", headers={"Accept-Language": "fr, en;q=0.5"})
    assert r.json()["message"].startswith("Sign in first")  # not offered: English
