"""Rules every route must follow, checked over the whole app so new routes are covered too:
a declared permission that exists, 401 without a token, 403 for a role without the permission,
unknown routes 404 in the envelope, and an OpenAPI 3.1 document a validator accepts."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from chalicelib.core import rbac
from chalicelib.core.api import AUTHENTICATED, DEVICE, PUBLIC
from tests.integration.conftest import add_member


def all_specs():
    import app as app_module

    return [s for r in app_module.ROUTERS for s in r.specs]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "01JZZZZZZZZZZZZZZZZZZZZZZZ", path)


def test_every_route_declares_a_known_permission():
    for s in all_specs():
        assert (
            s.permission in (PUBLIC, AUTHENTICATED, DEVICE) or s.permission in rbac.PERMISSIONS
        ), f"{s.method} {s.path} declares unknown permission {s.permission!r}"


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
        if s.permission in (PUBLIC, AUTHENTICATED, DEVICE):  # a staff token on DEVICE: 401
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


def _component(doc, schema):
    return doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]


def test_openapi_describes_each_route_with_its_own_models(api):
    """Two modules' models may share a class name (comms and VERI*FACTU each have a
    SettingsOut): each route's body and answer must still point at its own model's schema."""
    from pydantic import BaseModel

    doc = api.get("/openapi.json").json()
    checked = 0
    for s in all_specs():
        op = doc["paths"]["/api/v1" + s.path][s.method.lower()]
        if s.body is not None:
            body = _component(doc, op["requestBody"]["content"]["application/json"]["schema"])
            assert set(body["properties"]) == set(s.body.model_fields), s.path
            checked += 1
        model = getattr(s.response, "__args__", (s.response,))[0]
        if s.produces == "application/json" and isinstance(model, type):
            if not issubclass(model, BaseModel) or s.status == 204:
                continue
            data = op["responses"][str(s.status)]["content"]["application/json"]["schema"]
            data = data["properties"]["data"]
            if s.paged:
                data = data["properties"]["items"]
            if s.paged or s.response is not model:  # a list of the model
                assert data["type"] == "array", s.path
                data = data["items"]
            assert set(_component(doc, data)["properties"]) == set(model.model_fields), s.path
            checked += 1
    assert checked > 100
    vf = doc["paths"]["/api/v1/verifactu/settings"]["get"]["responses"]["200"]
    ref = vf["content"]["application/json"]["schema"]["properties"]["data"]["$ref"]
    assert "verifactu" in ref


def test_openapi_declares_public_pages_and_their_problems_as_html(api):
    doc = api.get("/openapi.json").json()
    pages = [s for s in all_specs() if s.produces == "text/html"]
    assert len(pages) >= 4
    for s in pages:
        op = doc["paths"]["/api/v1" + s.path][s.method.lower()]
        for status, answer in op["responses"].items():
            assert set(answer.get("content", {"text/html": 0})) == {"text/html"}, (s.path, status)
        assert {"404", "410", "429"} <= set(op["responses"])


@pytest.mark.parametrize("path", ["/health", "/health/detailed"])
def test_health(api, path):
    r = api.get(path)
    assert r.status == 200
    d = r.json()
    assert d["message"] is None and d["data"]["status"] == "ok" and d["data"]["version"]
    if path.endswith("detailed"):
        names = {c["name"] for c in d["data"]["checks"]}
        assert names == {"table", "media_bucket", "event_bus", "app_url", "queues"}
        assert all(c["ok"] for c in d["data"]["checks"])
        # public: it never names the stage's resources (table, bucket, bus, queues)
        assert "cuspide-" not in r.body.decode()


def test_detailed_health_is_rate_limited_per_address(api):
    from chalicelib.system.routes import HEALTH_CHECKS_PER_MINUTE

    for _ in range(HEALTH_CHECKS_PER_MINUTE):
        assert api.get("/health/detailed").status == 200
    r = api.get("/health/detailed")
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert api.get("/health/detailed", ip="10.99.0.1").status == 200  # another address


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
    assert "gone" not in r.body.decode()  # the failing resource's name is only logged


def test_detailed_health_counts_missing_queues_without_naming_them(api, monkeypatch):
    from dataclasses import replace

    import chalicelib.system.routes as sysroutes
    from chalicelib.core import config

    real = config.settings()
    broken = replace(real, queue_names=(*real.queue_names, "cuspide-test-secret-queue"))
    monkeypatch.setattr(sysroutes, "settings", lambda: broken)
    r = api.get("/health/detailed")
    assert r.status == 503
    [queues] = [c for c in r.json()["data"]["checks"] if c["name"] == "queues"]
    assert queues["ok"] is False
    assert queues["detail"] == f"1 of {len(broken.queue_names)} missing"
    assert "secret-queue" not in r.body.decode()


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


def test_a_method_or_body_type_a_route_does_not_take_answers_in_the_envelope(api, clinic):
    """Chalice answered these itself, as {"Code", "Message"} in English."""
    t = clinic.admin_token
    r = api.delete("/audit", token=t, headers={"Accept-Language": "es"})
    assert r.status == 405 and r.headers["Allow"] == "GET"
    d = r.json()
    assert d["data"] is None and d["code"] == "METHOD_NOT_ALLOWED" and d["errors"] == []
    assert d["message"].startswith("Esta ruta no admite ese método") and "GET" in d["message"]
    r = api.post(
        "/patients", raw=b'{"first_name": "Ana"}', token=t, headers={"Content-Type": "text/plain"}
    )
    assert r.status == 415
    assert (
        r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE" and "application/json" in r.json()["message"]
    )
    assert api.get("/patients", token=t).json()["data"]["items"] == []  # nothing was written
