"""An explicit null on a required field of a PATCH body is a 422 on that field, and nothing is
written. ``{"time_zone": null}`` on the clinic used to answer 500 *and* store the null, after
which login, refresh, /auth/me, the agenda and the PDFs answered 500 for that clinic.

Every PATCH route declared in ``app.ROUTERS`` is walked: its body must be a
:class:`~chalicelib.core.validators.PartialUpdate`, and each field that is not declared
clearable is sent as null, through the API, against a real resource of the clinic.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.core.validators import PartialUpdate
from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.billing.conftest import Billing
from tests.integration.conftest import PASSWORD, Clinic, add_member


def patch_specs() -> list[Any]:
    import app

    return [s for r in app.ROUTERS for s in r.specs if s.method == "PATCH"]


def required_fields(model: type[PartialUpdate]) -> list[str]:
    return sorted(set(model.model_fields) - model.CLEARABLE)


# --- the schemas ---------------------------------------------------------------------------


def test_every_patch_body_is_a_partial_update_that_refuses_null_on_required_fields():
    specs = patch_specs()
    assert len(specs) >= 11  # clinic, staff, patient, image, document, cabinet, ...
    for spec in specs:
        model = spec.body
        assert model is not None and issubclass(model, PartialUpdate), spec.path
        for name in required_fields(model):
            with pytest.raises(ValidationError) as err:
                model.model_validate({name: None})
            assert [e["loc"] for e in err.value.errors()] == [(name,)], (spec.path, name)
        for name in model.CLEARABLE:
            model.model_validate({name: None})  # a clearable field takes null
        assert model.model_validate({}).model_dump(exclude_unset=True) == {}


def test_the_openapi_document_says_which_patch_fields_are_nullable():
    import app
    from chalicelib.core.openapi import build

    doc = build(app.ROUTERS)
    schemas = doc["components"]["schemas"]
    for spec in patch_specs():
        op = doc["paths"]["/api/v1" + spec.path]["patch"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        props = schemas[ref.rsplit("/", 1)[-1]]["properties"]
        assert set(props) == set(spec.body.model_fields), spec.path
        for name, prop in props.items():
            nullable = {"type": "null"} in prop.get("anyOf", [])
            assert nullable == (name in spec.body.CLEARABLE), (spec.path, name, prop)


# --- through the API -----------------------------------------------------------------------


def _world(api: Any, clinic: Clinic) -> dict[str, str]:
    """One of everything a PATCH route edits, in ``clinic``; the path parameters by name."""
    t = clinic.admin_token
    ag = make_agenda(api, clinic)
    appointment = booked(api, ag, at(ag.monday, "10:00"))
    member = add_member(api, clinic, "dentist", "Dra. Paz")
    r = api.post(
        f"/patients/{ag.patient_id}/images",
        {"kind": "photo", "filename": "f.jpg", "content_type": "image/jpeg", "size": 10},
        token=t,
    )
    assert r.status == 201, r.body
    image_id = r.json()["data"]["image"]["image_id"]
    r = api.post(
        f"/patients/{ag.patient_id}/documents",
        {
            "type": "consent",
            "title": "Consentimiento",
            "filename": "c.pdf",
            "content_type": "application/pdf",
            "size": 10,
        },
        token=t,
    )
    assert r.status == 201, r.body
    document_id = r.json()["data"]["document"]["document_id"]
    r = api.post(
        "/bridge/devices",
        {"name": "Sensor", "cabinet_id": ag.cab1, "defaults": {"kind": "xray"}},
        token=t,
    )
    assert r.status == 201, r.body
    device_id = r.json()["data"]["device"]["device_id"]
    b = Billing(api, t)
    treatment_id = b.treatment("NUL1", "40.00")
    budget = b.budget(ag.patient_id, [{"treatment_id": treatment_id}])
    invoice = b.invoice(ag.patient_id, [{"treatment_id": treatment_id}])
    from chalicelib.identity import service as identity  # noqa: PLC0415

    identity.set_plan(clinic.clinic_id, "pro_plus")  # inventory.* (issue 17)
    r = api.post("/inventory/items", {"name": "Guantes", "sku": "NUL-1", "unit": "caja"}, token=t)
    assert r.status == 201, r.body
    item_id = r.json()["data"]["item_id"]
    r = api.get("/recalls/rules", token=t)  # the clinic's default recall rules
    assert r.status == 200, r.body
    rule_id = r.json()["data"][0]["rule_id"]
    return {
        "user_id": member["user_id"],
        "patient_id": ag.patient_id,
        "image_id": image_id,
        "document_id": document_id,
        "cabinet_id": ag.cab1,
        "appointment_id": appointment["appointment_id"],
        "code": "IVA21",
        "treatment_id": treatment_id,
        "budget_id": budget["budget_id"],
        "invoice_id": invoice["invoice_id"],
        "device_id": device_id,
        "item_id": item_id,
        "rule_id": rule_id,
    }


def _readable(path: str) -> str:
    """Where a PATCHed resource is read back (the list, when there is no GET of one)."""
    return {
        "/clinics/current": "/auth/me",
        "/staff/{user_id}": "/staff",
        "/agenda/cabinets/{cabinet_id}": "/agenda/cabinets",
        "/billing/vat-types/{code}": "/billing/vat-types",
        "/recalls/rules/{rule_id}": "/recalls/rules",
    }.get(path, path)


def _state(api: Any, token: str, path: str) -> Any:
    r = api.get(path, token=token)
    assert r.status == 200, (path, r.body)
    data = r.json()["data"]

    def strip(v: Any) -> Any:  # presigned URLs are signed anew on each read
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("urls", "view", "download")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(data)


def _audit_ids(api: Any, token: str) -> list[str]:
    r = api.get("/audit?limit=200", token=token)
    assert r.status == 200, r.body
    return [e["audit_id"] for e in r.json()["data"]["items"]]


def test_null_on_each_required_field_of_each_patch_route_is_422_and_writes_nothing(
    api, clinic, other_clinic
):
    ids = _world(api, clinic)
    t = clinic.admin_token
    other_before = _state(api, other_clinic.admin_token, "/auth/me")
    audit_before = _audit_ids(api, t)
    tried = 0
    for spec in patch_specs():
        path = spec.path.format(**ids)
        read = _readable(spec.path).format(**ids)
        before = _state(api, t, read)
        for name in required_fields(spec.body):
            for lang, header in (("en", {}), ("es", {"Accept-Language": "es"})):
                r = api.patch(path, {name: None}, token=t, headers=header)
                assert r.status == 422, (spec.path, name, r.status, r.body)
                errors = r.json()["errors"]
                assert [e["field"] for e in errors] == [name], (spec.path, errors)
                expected = "omítelo" if lang == "es" else "leave it out"
                assert expected in errors[0]["message"], errors
            tried += 1
        assert _state(api, t, read) == before, spec.path
    assert tried >= 35  # every route has required fields; none was skipped
    assert _audit_ids(api, t) == audit_before  # nothing was written, not even an entry
    assert _state(api, other_clinic.admin_token, "/auth/me") == other_before


@pytest.mark.parametrize("field", ["time_zone", "name", "currency", "language"])
def test_a_clinic_keeps_working_after_a_null_on_a_required_field(api, clinic, field):
    before = api.get("/auth/me", token=clinic.admin_token).json()["data"]["clinic"]
    r = api.patch("/clinics/current", {field: None}, token=clinic.admin_token)
    assert r.status == 422, r.body
    assert r.json()["code"] == "VALIDATION_FAILED"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    # what used to answer 500 for the clinic from then on
    me = api.get("/auth/me", token=clinic.admin_token)
    assert me.status == 200 and me.json()["data"]["clinic"] == before
    login = api.post("/auth/login", {"email": clinic.admin_email, "password": PASSWORD})
    assert login.status == 200, login.body
    assert login.json()["data"]["clinic"][field] == before[field]
    refresh = api.post("/auth/refresh", {"refresh_token": clinic.admin_refresh})
    assert refresh.status == 200, refresh.body
    assert api.get("/agenda/hours", token=clinic.admin_token).status == 200


def test_optional_clinic_fields_are_still_cleared_with_null_in_that_clinic_only(
    api, clinic, other_clinic
):
    for c in (clinic, other_clinic):
        r = api.patch(
            "/clinics/current",
            {"legal_name": "Dental S.L.", "branding": {"color": "#112233"}},
            token=c.admin_token,
        )
        assert r.status == 200, r.body
    r = api.patch(
        "/clinics/current", {"legal_name": None, "branding": None}, token=clinic.admin_token
    )
    assert r.status == 200, r.body
    assert r.json()["data"]["legal_name"] is None and r.json()["data"]["branding"] is None
    assert api.get("/auth/me", token=clinic.admin_token).status == 200
    other = api.get("/auth/me", token=other_clinic.admin_token).json()["data"]["clinic"]
    assert other["legal_name"] == "Dental S.L." and other["branding"]["color"] == "#112233"


def test_a_null_does_not_reactivate_a_deactivated_cabinet(api, clinic):
    """``{"active": null}`` used to remove the attribute, which reads back as its default:
    a deactivated cabinet came back active (and the audit said ``after: null``)."""
    ag = make_agenda(api, clinic)
    t = clinic.admin_token
    r = api.patch(f"/agenda/cabinets/{ag.cab1}", {"active": False}, token=t)
    assert r.status == 200 and r.json()["data"]["active"] is False
    audit_before = _audit_ids(api, t)
    r = api.patch(f"/agenda/cabinets/{ag.cab1}", {"active": None}, token=t)
    assert r.status == 422, r.body
    cabs = api.get("/agenda/cabinets", token=t).json()["data"]
    assert next(c for c in cabs if c["cabinet_id"] == ag.cab1)["active"] is False
    assert _audit_ids(api, t) == audit_before
