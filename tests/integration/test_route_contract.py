"""Rules every route must follow, checked over the whole app so new routes are covered too:
a declared permission that exists, 401 without a token, 403 for a role without the permission,
unknown routes 404 in the envelope, and an OpenAPI 3.1 document a validator accepts."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from chalicelib.core import rbac
from chalicelib.core.api import AUTHENTICATED, PUBLIC
from tests.integration.conftest import add_member


def all_specs():
    import app as app_module

    return [s for r in app_module.ROUTERS for s in r.specs]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "01JZZZZZZZZZZZZZZZZZZZZZZZ", path)


def test_every_route_declares_a_known_permission():
    for s in all_specs():
        assert s.permission in (PUBLIC, AUTHENTICATED) or s.permission in rbac.PERMISSIONS, (
            f"{s.method} {s.path} declares unknown permission {s.permission!r}"
        )


def test_every_protected_route_answers_401_without_a_token(api):
    protected = [s for s in all_specs() if s.permission != PUBLIC]
    assert len(protected) > 10
    for s in protected:
        r = api.request(s.method, concrete(s.path), {} if s.body else None)
        assert r.status == 401, f"{s.method} {s.path} -> {r.status}"
        assert r.json()["code"] == "UNAUTHENTICATED"


def test_every_permissioned_route_answers_403_to_a_role_without_permissions(api, clinic):
    member = add_member(api, clinic, "assistant")
    r = api.put("/roles/assistant", {"grants": []}, token=clinic.admin_token)
    assert r.status == 200
    checked = 0
    for s in all_specs():
        if s.permission in (PUBLIC, AUTHENTICATED):
            continue
        r = api.request(s.method, concrete(s.path), {} if s.body else None, token=member["token"])
        assert r.status == 403, f"{s.method} {s.path} -> {r.status} {r.body[:200]!r}"
        assert r.json()["data"]["permission"] == s.permission
        checked += 1
    assert checked > 10


def test_unknown_routes_are_404_in_the_envelope(api):
    r = api.get("/no/such/route")
    assert r.status == 404
    assert r.json() == {
        "data": None,
        "message": "No API route matches /api/v1/no/such/route.",
        "code": "NOT_FOUND",
        "errors": [],
    }


def test_openapi_document_is_valid_3_1_and_lists_every_route(api):
    r = api.get("/openapi.json")
    assert r.status == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on an invalid document
    for s in all_specs():
        op = doc["paths"]["/api/v1" + s.path][s.method.lower()]
        assert op["x-permission"] == s.permission
        if s.body is not None:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]


@pytest.mark.parametrize("path", ["/health", "/health/detailed"])
def test_health(api, path):
    r = api.get(path)
    assert r.status == 200
    d = r.json()
    assert d["message"] is None and d["data"]["status"] == "ok" and d["data"]["version"]
    if path.endswith("detailed"):
        names = {c["name"] for c in d["data"]["checks"]}
        assert {"table", "media_bucket", "event_bus"} <= names
        assert any(n.startswith("queue:") for n in names)
        assert all(c["ok"] for c in d["data"]["checks"])


def test_detailed_health_reports_a_missing_resource(api, monkeypatch):
    from chalicelib.core import config

    real = config.settings()
    monkeypatch.setattr(
        config, "settings", lambda: real.__class__(**{**real.__dict__, "media_bucket": "gone"})
    )
    import chalicelib.system.routes as sysroutes

    monkeypatch.setattr(sysroutes, "settings", config.settings)
    r = api.get("/health/detailed")
    assert r.status == 503
    d = r.json()["data"]
    assert d["status"] == "degraded"
    assert [c for c in d["checks"] if c["name"] == "media_bucket"][0]["ok"] is False


def test_detailed_health_reports_a_deployed_stage_without_its_public_url(api, monkeypatch):
    from dataclasses import replace

    import chalicelib.system.routes as sysroutes
    from chalicelib.core import config

    broken = replace(config.settings(), stage="dev", app_url_env=None, app_url_parameter=None)
    monkeypatch.setattr(sysroutes, "settings", lambda: broken)
    r = api.get("/health/detailed")
    assert r.status == 503
    [check] = [c for c in r.json()["data"]["checks"] if c["name"] == "app_url"]
    assert check == {"name": "app_url", "ok": False, "detail": "not configured"}


def test_responses_carry_security_headers_and_a_correlation_id(api):
    r = api.get("/health", headers={"X-Correlation-Id": "abc-123"})
    assert r.headers["X-Correlation-Id"] == "abc-123"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
