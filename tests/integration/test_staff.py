"""Staff management, invitations (single use, expiry, revocation), role templates, plans."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.core import mail
from tests.integration.conftest import PASSWORD, add_member, mails_to, unique_email


def _invite(api, clinic, role="assistant", email=None):
    email = email or unique_email(role)
    r = api.post(
        "/staff/invitations",
        {"email": email, "role": role, "name": "Nuevo"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    msg = mails_to(email)[-1]
    return email, r.json()["data"], re.search(r"token=([A-Za-z0-9_\-]+)", msg.body).group(1), msg


def test_invitation_email_is_branded_and_in_the_clinic_language(api, clinic):
    email, inv, token, msg = _invite(api, clinic)
    assert inv["status"] == "pending" and inv["role"] == "assistant"
    assert clinic.name in msg.subject and "invitan" in msg.subject  # Spanish by default
    assert "http://app.test/accept-invitation?token=" in msg.body
    # The token is never returned by the API, only emailed.
    listed = api.get("/staff/invitations", token=clinic.admin_token).json()["data"]
    assert token not in str(listed)


def test_invitation_preview_and_accept_is_single_use(api, clinic):
    email, _, token, _ = _invite(api, clinic, "receptionist")
    p = api.get(f"/invitations/{token}")
    assert p.status == 200
    assert p.json()["data"] == {
        **p.json()["data"],
        "clinic_name": clinic.name,
        "email": email,
        "role": "receptionist",
        "existing_account": False,
    }
    ok = api.post("/invitations/accept", {"token": token, "name": "Rosa", "password": PASSWORD})
    assert ok.status == 200, ok.body
    d = ok.json()["data"]
    assert d["role"] == "receptionist" and d["clinic"]["clinic_id"] == clinic.clinic_id
    again = api.post("/invitations/accept", {"token": token, "name": "Rosa", "password": PASSWORD})
    assert again.status == 409 and again.json()["code"] == "INVITATION_USED"
    staff = api.get("/staff", token=clinic.admin_token).json()["data"]
    assert any(m["email"] == email and m["role"] == "receptionist" for m in staff)


def test_accepting_requires_a_policy_password_and_a_valid_token(api, clinic):
    _, _, token, _ = _invite(api, clinic)
    weak = api.post("/invitations/accept", {"token": token, "name": "Rosa", "password": "123"})
    assert weak.status == 422
    bad = api.post("/invitations/accept", {"token": "x" * 43, "name": "Rosa", "password": PASSWORD})
    assert bad.status == 404 and bad.json()["code"] == "INVITATION_INVALID"
    # the failed weak attempt did not consume the invitation
    assert (
        api.post(
            "/invitations/accept", {"token": token, "name": "Rosa", "password": PASSWORD}
        ).status
        == 200
    )


def test_expired_and_revoked_invitations_are_refused(api, clinic):
    from chalicelib.core.ids import now
    from chalicelib.identity.models import Invitation

    _, inv, token, _ = _invite(api, clinic)
    item = Invitation.get(*Invitation.key(clinic.clinic_id, inv["invitation_id"]))
    item.update(actions=[Invitation.valid_until.set(now() - timedelta(minutes=1))])
    r = api.post("/invitations/accept", {"token": token, "name": "Rosa", "password": PASSWORD})
    assert r.status == 409 and r.json()["code"] == "INVITATION_EXPIRED"

    _, inv2, token2, _ = _invite(api, clinic)
    assert (
        api.delete(f"/staff/invitations/{inv2['invitation_id']}", token=clinic.admin_token).status
        == 204
    )
    r = api.post("/invitations/accept", {"token": token2, "name": "Rosa", "password": PASSWORD})
    assert r.status == 409 and r.json()["code"] == "INVITATION_REVOKED"


def test_existing_account_joins_with_its_current_password(api, clinic, other_clinic):
    email, _, token, _ = _invite(api, other_clinic, "dentist", email=clinic.admin_email)
    wrong = api.post("/invitations/accept", {"token": token, "password": "wrong-password-1"})
    assert wrong.status == 401
    ok = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert ok.status == 200
    assert {c["clinic_id"] for c in ok.json()["data"]["clinics"]} == {
        clinic.clinic_id,
        other_clinic.clinic_id,
    }


def test_cannot_invite_someone_already_on_staff_or_already_invited(api, clinic):
    r = api.post(
        "/staff/invitations",
        {"email": clinic.admin_email, "role": "dentist"},
        token=clinic.admin_token,
    )
    assert r.status == 409 and r.json()["code"] == "ALREADY_MEMBER"
    email, *_ = _invite(api, clinic)
    r = api.post(
        "/staff/invitations", {"email": email, "role": "dentist"}, token=clinic.admin_token
    )
    assert r.status == 409 and r.json()["code"] == "ALREADY_INVITED"


def test_an_address_that_bounced_is_not_invited_and_nothing_is_written(api, clinic):
    email = unique_email("bounced")
    mail.mark_undeliverable(email, "bounce", "General")  # as the SES feedback worker does
    r = api.post(
        "/staff/invitations",
        {"email": email.upper(), "role": "dentist", "name": "Nuevo"},
        token=clinic.admin_token,
    )
    assert r.status == 422 and r.json()["code"] == "EMAIL_UNDELIVERABLE"
    assert "Check the address" in r.json()["message"]
    assert r.json()["errors"][0]["field"] == "email"
    assert mails_to(email) == []
    pending = api.get("/staff/invitations", token=clinic.admin_token).json()["data"]
    assert email not in [i["email"] for i in pending]
    # every other sender refuses it too: no mail reaches an undeliverable address
    with pytest.raises(mail.AddressUndeliverable):
        mail.send(to=email, subject="s", text="t", html="<p>t</p>")
    assert mails_to(email) == []


def test_change_role_takes_effect_on_the_next_request(api, clinic):
    m = add_member(api, clinic, "receptionist")
    assert api.get("/roles", token=m["token"]).status == 403
    r = api.patch(f"/staff/{m['user_id']}", {"role": "admin"}, token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["role"] == "admin"
    assert api.get("/roles", token=m["token"]).status == 200


def test_deactivation_ends_sessions_and_blocks_login(api, clinic):
    m = add_member(api, clinic, "dentist")
    assert api.get("/auth/me", token=m["token"]).status == 200
    r = api.post(f"/staff/{m['user_id']}/deactivate", token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["status"] == "deactivated"
    me = api.get("/auth/me", token=m["token"])
    assert me.status == 401 and me.json()["code"] == "SESSION_REVOKED"
    assert api.post("/auth/refresh", {"refresh_token": m["refresh"]}).status == 401
    # answered like a wrong password, so it does not confirm the password (ADR 0011)
    login = api.post("/auth/login", {"email": m["email"], "password": PASSWORD})
    assert login.status == 401 and login.json()["code"] == "INVALID_CREDENTIALS"
    assert api.post(f"/staff/{m['user_id']}/reactivate", token=clinic.admin_token).status == 200
    assert api.post("/auth/login", {"email": m["email"], "password": PASSWORD}).status == 200


def test_last_admin_is_protected(api, clinic):
    r = api.post(f"/staff/{clinic.admin_id}/deactivate", token=clinic.admin_token)
    assert r.status == 409 and r.json()["code"] == "SELF_DEACTIVATION"
    # nobody changes their own role, so the last admin cannot step down either
    r = api.patch(f"/staff/{clinic.admin_id}", {"role": "dentist"}, token=clinic.admin_token)
    assert r.status == 403 and r.json()["code"] == "SELF_ROLE_CHANGE"
    me = api.get("/auth/me", token=clinic.admin_token).json()["data"]
    assert me["role"] == "admin"


def test_role_templates_edit_reset_and_validation(api, clinic):
    m = add_member(api, clinic, "receptionist")
    me = api.get("/auth/me", token=m["token"]).json()["data"]
    assert "patients.medical.read" not in me["permissions"]
    r = api.put(
        "/roles/receptionist",
        {"grants": ["patients.*", "agenda.appointments.*"]},
        token=clinic.admin_token,
    )
    assert r.status == 200 and r.json()["data"]["customized"] is True
    me = api.get("/auth/me", token=m["token"]).json()["data"]
    assert "patients.medical.read" in me["permissions"]
    assert "billing.invoices.read" not in me["permissions"]
    roles = {x["role"]: x for x in api.get("/roles", token=clinic.admin_token).json()["data"]}
    assert roles["receptionist"]["customized"] and not roles["dentist"]["customized"]
    r = api.delete("/roles/receptionist", token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["customized"] is False
    me = api.get("/auth/me", token=m["token"]).json()["data"]
    assert "patients.medical.read" not in me["permissions"]
    bad = api.put("/roles/receptionist", {"grants": ["patients.reed"]}, token=clinic.admin_token)
    assert bad.status == 422 and "patients.reed" in bad.json()["errors"][0]["message"]
    assert api.put("/roles/admin", {"grants": []}, token=clinic.admin_token).status == 409
    assert api.put("/roles/janitor", {"grants": []}, token=clinic.admin_token).status == 404


def test_role_template_of_one_clinic_does_not_leak_into_another(api, clinic, other_clinic):
    api.put("/roles/receptionist", {"grants": ["*"]}, token=clinic.admin_token)
    roles = {x["role"]: x for x in api.get("/roles", token=other_clinic.admin_token).json()["data"]}
    assert roles["receptionist"]["customized"] is False


def test_plan_denies_what_it_does_not_include_whatever_the_role(api, clinic):
    from chalicelib.identity import service

    me = api.get("/auth/me", token=clinic.admin_token).json()["data"]
    assert me["plan"] == "free" and "inventory.read" not in me["permissions"]
    service.set_plan(clinic.clinic_id, "pro_plus")
    me = api.get("/auth/me", token=clinic.admin_token).json()["data"]
    assert me["plan"] == "pro_plus" and "inventory.read" in me["permissions"]


def test_permission_tree_for_the_spa(api, clinic):
    r = api.get("/permissions?lang=es", token=clinic.admin_token)
    assert r.status == 200
    top = {n["key"]: n for n in r.json()["data"]}
    assert top["patients.*"]["label"] == "Pacientes"
    assert api.get("/permissions?lang=fr", token=clinic.admin_token).status == 422


def test_clinic_profile_update_and_validation(api, clinic):
    r = api.patch(
        "/clinics/current",
        {"branding": {"color": "#123abc"}, "legal_name": "Clínica Uno S.L."},
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    assert r.json()["data"]["branding"]["color"] == "#123abc"
    got = api.get("/clinics/current", token=clinic.admin_token).json()["data"]
    assert got["legal_name"] == "Clínica Uno S.L."
    bad = api.patch(
        "/clinics/current",
        {"branding": {"color": "red"}, "time_zone": "Nowhere"},
        token=clinic.admin_token,
    )
    assert bad.status == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"branding.color", "time_zone"}
    nif = api.patch("/clinics/current", {"tax_id": "B12345675"}, token=clinic.admin_token)
    assert nif.status == 422
    extra = api.patch("/clinics/current", {"plan": "pro_plus"}, token=clinic.admin_token)
    assert extra.status == 422  # the plan is not editable by staff


def test_staff_routes_are_tenant_scoped(api, clinic, other_clinic):
    m = add_member(api, clinic, "dentist")
    # Clínica Otra's admin cannot see, change or deactivate Clínica Uno's staff
    staff = api.get("/staff", token=other_clinic.admin_token).json()["data"]
    assert m["user_id"] not in {s["user_id"] for s in staff}
    assert (
        api.patch(
            f"/staff/{m['user_id']}", {"role": "admin"}, token=other_clinic.admin_token
        ).status
        == 404
    )
    assert (
        api.post(f"/staff/{m['user_id']}/deactivate", token=other_clinic.admin_token).status == 404
    )
    _, inv, _, _ = _invite(api, clinic)
    assert (
        api.delete(
            f"/staff/invitations/{inv['invitation_id']}", token=other_clinic.admin_token
        ).status
        == 404
    )
    assert api.get("/auth/me", token=m["token"]).status == 200


def test_an_invitation_runs_with_the_inviting_clinics_credentials(api, clinic, scoped_as):
    """ADR 0012: the token's global lookup names the clinic; the preview and the acceptance
    (the membership, the audit entry, the session) use that clinic's credentials only."""
    _, _, token, _ = _invite(api, clinic, "receptionist")
    scoped_as.clear()
    assert api.get(f"/invitations/{token}").status == 200
    ok = api.post("/invitations/accept", {"token": token, "name": "Rosa", "password": PASSWORD})
    assert ok.status == 200, ok.body
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
