"""A feature the clinic's plan leaves out answers 403 naming the plan and the plans that
include it, not "your role does not allow this" (issue 13)."""

from __future__ import annotations

from chalicelib.core import rbac


def test_plans_including():
    assert rbac.plans_including("comms.whatsapp.admin") == ["pro", "pro_plus"]
    assert rbac.plans_including("inventory.read") == ["pro_plus"]
    assert rbac.plans_including("patients.read") == ["free", "pro", "pro_plus"]
    assert rbac.excluded_by_plan("free", "inventory.write")
    assert not rbac.excluded_by_plan("pro_plus", "inventory.write")


def test_plan_limited_feature_names_the_plan_in_english_and_spanish(api, clinic):
    r = api.get("/comms/whatsapp", token=clinic.admin_token, headers={"Accept-Language": "en"})
    body = r.json()
    assert r.status == 403 and body["code"] == "PLAN_LIMIT"
    assert body["data"] == {
        "permission": "comms.whatsapp.admin",
        "plan": "free",
        "plans": ["pro", "pro_plus"],
    }
    assert "Free plan does not include this" in body["message"]
    assert "Pro or Pro Plus plan" in body["message"] and "role" not in body["message"]
    r = api.get("/comms/whatsapp", token=clinic.admin_token, headers={"Accept-Language": "es"})
    msg = r.json()["message"]
    assert "plan Gratuito de tu clínica no incluye esto" in msg and "Pro o Pro Plus" in msg
    assert "rol" not in msg


def test_a_plan_that_includes_it_lets_it_through(api, clinic):
    from chalicelib.identity import service

    service.set_plan(clinic.clinic_id, "pro")
    r = api.get("/comms/whatsapp", token=clinic.admin_token)
    assert r.status == 200, r.body


def test_what_the_role_lacks_still_says_the_role(api, clinic):
    from tests.integration.conftest import add_member

    member = add_member(api, clinic, "hygienist")
    r = api.get("/billing/takings", token=member["token"], headers={"Accept-Language": "en"})
    body = r.json()
    assert r.status == 403 and body["code"] == "FORBIDDEN"
    assert "Your role does not allow this" in body["message"]
