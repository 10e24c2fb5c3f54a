"""Identity errors in the caller's language: Spanish with Accept-Language: es, English by
default; the code never changes (docs/adr/0009)."""

from __future__ import annotations

from tests.integration.conftest import PASSWORD, unique_email

ES = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.8"}


def test_wrong_password_is_answered_in_spanish_or_in_english(api, clinic):
    body = {"email": clinic.admin_email, "password": "not-the-password"}

    es = api.post("/auth/login", body, headers=ES)
    assert es.status == 401
    assert es.json()["code"] == "INVALID_CREDENTIALS"
    assert es.json()["message"] == "Correo electrónico o contraseña incorrectos."
    assert es.headers["Content-Language"] == "es"
    assert "Accept-Language" in es.headers["Vary"]

    en = api.post("/auth/login", body)
    assert en.status == 401
    assert en.json()["code"] == "INVALID_CREDENTIALS"
    assert en.json()["message"] == "Wrong email or password."
    assert en.headers["Content-Language"] == "en"


def test_signup_field_errors_in_spanish_keep_their_fields(api):
    body = {
        "clinic": {"name": "Clínica Idioma", "time_zone": "Mars/Olympus", "currency": "XYZ"},
        "admin": {"name": "Ana Admin", "email": unique_email("es"), "password": PASSWORD},
    }

    es = api.post("/clinics/signup", body, headers=ES)
    assert es.status == 422, es.body
    assert es.headers["Content-Language"] == "es"
    assert es.json()["message"] == "Algunos campos no son válidos."
    errors = {e["field"]: e["message"] for e in es.json()["errors"]}
    assert errors["clinic.time_zone"] == "debe ser una zona horaria IANA, como Europe/Madrid"
    assert errors["clinic.currency"].startswith("debe ser una de estas: ")
    assert "EUR" in errors["clinic.currency"]

    en = api.post("/clinics/signup", body)
    assert en.status == 422, en.body
    errors = {e["field"]: e["message"] for e in en.json()["errors"]}
    assert errors["clinic.time_zone"] == "must be an IANA time zone such as Europe/Madrid"
    assert errors["clinic.currency"].startswith("must be one of ")


def test_invitation_conflict_names_the_same_email_in_both_languages(api, clinic):
    body = {"email": clinic.admin_email, "role": "dentist"}

    es = api.post("/staff/invitations", body, token=clinic.admin_token, headers=ES)
    assert es.status == 409, es.body
    assert es.json()["code"] == "ALREADY_MEMBER"
    assert es.json()["message"] == f"{clinic.admin_email} ya forma parte del equipo (active)."
    assert es.headers["Content-Language"] == "es"

    en = api.post("/staff/invitations", body, token=clinic.admin_token)
    assert en.status == 409, en.body
    assert en.json()["code"] == "ALREADY_MEMBER"
    assert en.json()["message"] == f"{clinic.admin_email} is already on the staff (active)."
