"""Nobody grants what they do not hold: role assignment, invitations and role templates.

A role that was given ``settings.staff.write`` or ``settings.roles.write`` must not be able to
turn itself (or anyone) into something above itself: assigning a role, inviting with a role or
writing a role's grants beyond the actor's own permissions is 403, and nobody changes their own
role. The admin, who holds ``*``, can still do everything.
"""

from __future__ import annotations

import re

from chalicelib.core import rbac
from tests.integration.conftest import PASSWORD, add_member, mails_to, unique_email

STAFF_MANAGER = [*rbac.DEFAULT_ROLE_GRANTS["receptionist"], "settings.staff.*"]
ROLE_EDITOR = [*rbac.DEFAULT_ROLE_GRANTS["receptionist"], "settings.roles.*"]


def _grant(api, clinic, role, grants):
    r = api.put(f"/roles/{role}", {"grants": grants}, token=clinic.admin_token)
    assert r.status == 200, r.body


def _me(api, token):
    r = api.get("/auth/me", token=token)
    assert r.status == 200, r.body
    return r.json()["data"]


def test_a_staff_manager_cannot_make_themselves_admin(api, clinic):
    _grant(api, clinic, "receptionist", STAFF_MANAGER)
    m = add_member(api, clinic, "receptionist")
    r = api.patch(f"/staff/{m['user_id']}", {"role": "admin"}, token=m["token"])
    assert r.status == 403, r.body
    assert r.json()["code"] == "SELF_ROLE_CHANGE"
    assert "your own role" in r.json()["message"]
    assert _me(api, m["token"])["role"] == "receptionist"
    # editing their own name is still fine, and so is "changing" to the role they have
    ok = api.patch(
        f"/staff/{m['user_id']}",
        {"name": "Rosa Recepción", "role": "receptionist"},
        token=m["token"],
    )
    assert ok.status == 200, ok.body
    assert ok.json()["data"]["name"] == "Rosa Recepción"


def test_a_staff_manager_cannot_give_anyone_a_role_above_their_own(api, clinic):
    _grant(api, clinic, "receptionist", STAFF_MANAGER)
    manager = add_member(api, clinic, "receptionist")
    colleague = add_member(api, clinic, "receptionist", name="Colega")
    for role in ("admin", "dentist"):  # both hold permissions the manager does not
        r = api.patch(f"/staff/{colleague['user_id']}", {"role": role}, token=manager["token"])
        assert r.status == 403, r.body
        assert r.json()["code"] == "ROLE_ABOVE_YOURS"
        assert f"'{role}'" in r.json()["message"]
        assert r.json()["data"]["missing_permissions"]
    assert _me(api, colleague["token"])["role"] == "receptionist"


def test_a_staff_manager_cannot_change_or_deactivate_someone_above_them(api, clinic):
    _grant(api, clinic, "receptionist", STAFF_MANAGER)
    manager = add_member(api, clinic, "receptionist")
    dentist = add_member(api, clinic, "dentist")
    r = api.patch(f"/staff/{dentist['user_id']}", {"role": "receptionist"}, token=manager["token"])
    assert r.status == 403 and r.json()["code"] == "ROLE_ABOVE_YOURS", r.body
    r = api.post(f"/staff/{clinic.admin_id}/deactivate", token=manager["token"])
    assert r.status == 403 and r.json()["code"] == "ROLE_ABOVE_YOURS", r.body
    assert _me(api, clinic.admin_token)["role"] == "admin"


def test_a_staff_manager_still_manages_roles_within_their_own(api, clinic):
    # A broad non-admin role: everything a receptionist and an assistant have, plus staff.
    grants = [
        *rbac.DEFAULT_ROLE_GRANTS["receptionist"],
        *rbac.DEFAULT_ROLE_GRANTS["assistant"],
        "settings.staff.*",
    ]
    _grant(api, clinic, "dentist", grants)
    manager = add_member(api, clinic, "dentist")
    colleague = add_member(api, clinic, "receptionist")
    r = api.patch(f"/staff/{colleague['user_id']}", {"role": "assistant"}, token=manager["token"])
    assert r.status == 200 and r.json()["data"]["role"] == "assistant", r.body
    r = api.post(f"/staff/{colleague['user_id']}/deactivate", token=manager["token"])
    assert r.status == 200, r.body
    r = api.post(f"/staff/{colleague['user_id']}/reactivate", token=manager["token"])
    assert r.status == 200, r.body


def test_nobody_changes_their_own_role_not_even_the_admin(api, clinic):
    r = api.patch(f"/staff/{clinic.admin_id}", {"role": "dentist"}, token=clinic.admin_token)
    assert r.status == 403 and r.json()["code"] == "SELF_ROLE_CHANGE", r.body
    assert _me(api, clinic.admin_token)["role"] == "admin"


def test_invitations_cannot_carry_a_role_above_the_inviter(api, clinic):
    _grant(api, clinic, "receptionist", STAFF_MANAGER)
    manager = add_member(api, clinic, "receptionist")
    for role in ("admin", "dentist", "hygienist"):
        email = unique_email(role)
        r = api.post("/staff/invitations", {"email": email, "role": role}, token=manager["token"])
        assert r.status == 403, r.body
        assert r.json()["code"] == "ROLE_ABOVE_YOURS"
        assert mails_to(email) == []  # nothing was sent
    email = unique_email("receptionist")
    r = api.post(
        "/staff/invitations", {"email": email, "role": "receptionist"}, token=manager["token"]
    )
    assert r.status == 201, r.body
    assert mails_to(email)


def test_a_role_editor_cannot_grant_beyond_their_own_permissions(api, clinic):
    _grant(api, clinic, "receptionist", ROLE_EDITOR)
    editor = add_member(api, clinic, "receptionist")
    before = set(_me(api, editor["token"])["permissions"])
    for grants in (["*"], ["patients.*"], ["patients.medical.read"], [*ROLE_EDITOR, "audit.read"]):
        r = api.put("/roles/receptionist", {"grants": grants}, token=editor["token"])
        assert r.status == 403, (grants, r.body)
        assert r.json()["code"] == "GRANTS_ABOVE_YOURS"
        assert r.json()["data"]["missing_permissions"]
    # not through another role either
    r = api.put("/roles/hygienist", {"grants": ["*"]}, token=editor["token"])
    assert r.status == 403 and r.json()["code"] == "GRANTS_ABOVE_YOURS"
    assert set(_me(api, editor["token"])["permissions"]) == before
    # a plan upgrade must not turn a grant into an escalation: inventory is not in the free
    # plan, and the editor's role does not grant it
    r = api.put(
        "/roles/receptionist", {"grants": [*ROLE_EDITOR, "inventory.*"]}, token=editor["token"]
    )
    assert r.status == 403 and r.json()["code"] == "GRANTS_ABOVE_YOURS"
    # within their own permissions, editing works
    r = api.put("/roles/assistant", {"grants": ["patients.read"]}, token=editor["token"])
    assert r.status == 200, r.body


def test_resetting_a_role_cannot_hand_out_more_than_the_actor_holds(api, clinic):
    # The admin trims the receptionist role to little more than editing roles...
    trimmed = ["patients.read", "settings.roles.read", "settings.roles.write"]
    _grant(api, clinic, "receptionist", trimmed)
    _grant(api, clinic, "dentist", ["patients.read"])
    editor = add_member(api, clinic, "receptionist")
    # ...so resetting it (or the dentist role) to the defaults would grant more than they hold
    for role in ("receptionist", "dentist"):
        r = api.delete(f"/roles/{role}", token=editor["token"])
        assert r.status == 403 and r.json()["code"] == "GRANTS_ABOVE_YOURS", r.body
    assert set(_me(api, editor["token"])["permissions"]) == set(trimmed)


def test_the_admin_can_still_do_everything(api, clinic):
    m = add_member(api, clinic, "receptionist")
    assert api.put("/roles/receptionist", {"grants": ["*"]}, token=clinic.admin_token).status == 200
    assert api.delete("/roles/receptionist", token=clinic.admin_token).status == 200
    r = api.patch(f"/staff/{m['user_id']}", {"role": "admin"}, token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["role"] == "admin", r.body
    r = api.post(
        "/staff/invitations",
        {"email": unique_email("adm"), "role": "admin"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body


def test_being_admin_of_another_clinic_grants_nothing_here(api, clinic, other_clinic):
    """The check uses the actor's role in the clinic they act on, never their role elsewhere."""
    _grant(api, clinic, "receptionist", STAFF_MANAGER)
    r = api.post(
        "/staff/invitations",
        {"email": other_clinic.admin_email, "role": "receptionist"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mails_to(other_clinic.admin_email)[-1].body)
    r = api.post("/invitations/accept", {"token": token.group(1), "password": PASSWORD})
    assert r.status == 200, r.body
    here = r.json()["data"]
    assert here["clinic"]["clinic_id"] == clinic.clinic_id and here["role"] == "receptionist"
    colleague = add_member(api, clinic, "receptionist")
    r = api.patch(f"/staff/{colleague['user_id']}", {"role": "admin"}, token=here["access_token"])
    assert r.status == 403 and r.json()["code"] == "ROLE_ABOVE_YOURS"
    me = here["user"]["user_id"]
    r = api.patch(f"/staff/{me}", {"role": "admin"}, token=here["access_token"])
    assert r.status == 403 and r.json()["code"] == "SELF_ROLE_CHANGE"
    r = api.post(
        "/staff/invitations",
        {"email": unique_email("x"), "role": "admin"},
        token=here["access_token"],
    )
    assert r.status == 403 and r.json()["code"] == "ROLE_ABOVE_YOURS"
    # and a role editor of this clinic cannot reach the other clinic's roles at all
    roles = {x["role"]: x for x in api.get("/roles", token=other_clinic.admin_token).json()["data"]}
    assert roles["receptionist"]["customized"] is False
