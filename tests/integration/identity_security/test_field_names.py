"""422s of signup and of the audit log name the field at fault, never ``body`` (issue 20)."""

from __future__ import annotations

from urllib.parse import quote

from tests.integration.conftest import PASSWORD, unique_email


def fields(r) -> list[str]:
    assert r.status == 422, r.body
    return [e["field"] for e in r.json()["errors"]]


def test_a_bad_spanish_tax_id_at_signup_names_clinic_tax_id(api):
    body = {
        "clinic": {"name": "Clínica NIF", "country": "ES", "tax_id": "B12345670"},
        "admin": {"name": "Ana Admin", "email": unique_email("nif"), "password": PASSWORD},
    }
    r = api.post("/clinics/signup", body)
    assert fields(r) == ["clinic.tax_id"]
    assert r.json()["errors"][0]["message"].startswith("is not a valid Spanish NIF")


def test_audit_filters_name_the_parameter_at_fault(api, clinic):
    t = clinic.admin_token
    assert fields(api.get("/audit?entity_id=x", token=t)) == ["query.entity_id"]
    assert fields(api.get("/audit?from=2026-01-01T00:00:00", token=t)) == ["query.from"]
    assert fields(api.get("/audit?to=2026-01-01T00:00:00", token=t)) == ["query.to"]
    early, late = quote("2026-01-01T00:00:00Z"), quote("2026-02-01T00:00:00Z")
    r = api.get(f"/audit?from={late}&to={early}", token=t)
    assert fields(r) == ["query.to"]
    assert r.json()["errors"][0]["message"] == "must not be before 'from'"
