"""Sign-up, sign-in, refresh and the clinic list run as their clinic (ADR 0012).

The API's own role reaches the global path only (the lookups by email, token or key, never a
clinic's partition): every one of these routes learns its clinic from a global lookup and
reads or writes that clinic's items with that clinic's credentials. The autouse fixture
``own_role_is_global_only`` checks the own-role half on every API test; these check which
clinic signs, and the clinic list that now comes from the user's memberships alone.
"""

from __future__ import annotations

import re

from chalicelib.core import rbac, scoping
from chalicelib.identity import service, sessions
from chalicelib.identity.models import Membership
from tests.integration.api import Api
from tests.integration.conftest import PASSWORD, Clinic, add_member, mails_to, signup
from tests.integration.ddb_calls import dynamodb_calls


def _join(api: Api, clinic: Clinic, email: str) -> None:
    """An existing user accepts an invitation to another clinic with their password."""
    r = api.post(
        "/staff/invitations", {"email": email, "role": "dentist"}, token=clinic.admin_token
    )
    assert r.status == 201, r.body
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mails_to(email)[-1].body).group(1)
    r = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert r.status == 200, r.body


def test_sign_up_sign_in_and_refresh_sign_with_their_own_clinic(api: Api, scoped_as) -> None:
    new = signup(api, name="Clínica Alba")
    assert set(scoped_as) == {new.clinic_id}
    scoped_as.clear()
    r = api.post("/auth/login", {"email": new.admin_email, "password": PASSWORD})
    assert r.status == 200, r.body
    assert set(scoped_as) == {new.clinic_id}
    scoped_as.clear()
    r = api.post("/auth/refresh", {"refresh_token": r.json()["data"]["refresh_token"]})
    assert r.status == 200, r.body
    assert set(scoped_as) == {new.clinic_id}


def test_a_failed_sign_in_touches_no_clinic(api: Api, clinic: Clinic, scoped_as) -> None:
    r = api.post("/auth/login", {"email": clinic.admin_email, "password": "wrong-password-1"})
    assert r.status == 401
    assert scoped_as == []


def test_the_clinic_list_needs_no_read_of_the_other_clinics(
    api: Api, clinic: Clinic, other_clinic: Clinic, scoped_as
) -> None:
    member = add_member(api, clinic, "dentist", name="Dra. Doble")
    _join(api, other_clinic, member["email"])
    scoped_as.clear()
    r = api.post(
        "/auth/login",
        {"email": member["email"], "password": PASSWORD, "clinic_id": clinic.clinic_id},
    )
    assert r.status == 200, r.body
    names = {c["clinic_id"]: c["name"] for c in r.json()["data"]["clinics"]}
    assert names == {clinic.clinic_id: clinic.name, other_clinic.clinic_id: other_clinic.name}
    # Both names, yet only the chosen clinic's credentials signed anything.
    assert set(scoped_as) == {clinic.clinic_id}


def test_renaming_a_clinic_renames_it_in_every_members_list(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    member = add_member(api, other_clinic, "dentist")
    _join(api, clinic, member["email"])
    r = api.patch("/clinics/current", {"name": "Clínica Renombrada"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    r = api.post("/auth/login", {"email": member["email"], "password": PASSWORD})
    names = {c["clinic_id"]: c["name"] for c in r.json()["data"]["clinics"]}
    assert names[clinic.clinic_id] == "Clínica Renombrada"
    assert names[other_clinic.clinic_id] == other_clinic.name


def test_a_membership_written_before_the_name_copy_reads_its_clinic_in_its_scope(
    api: Api, clinic: Clinic, scoped_as
) -> None:
    with scoping.clinic(clinic.clinic_id):
        m = Membership.get(*Membership.key(clinic.clinic_id, clinic.admin_id))
        m.update(actions=[Membership.clinic_name.remove()])
    scoped_as.clear()
    choices = service.clinic_choices(clinic.admin_id)
    assert [(c.clinic_id, c.name) for c in choices] == [(clinic.clinic_id, clinic.name)]
    assert scoped_as == [clinic.clinic_id]


def test_a_request_resolves_its_caller_in_one_read(api: Api, clinic: Clinic) -> None:
    """Session, membership, clinic and role template: one BatchGetItem (issue 23)."""
    with dynamodb_calls() as calls:
        principal = sessions.resolve_principal(clinic.admin_token, None, None)
    assert calls.ops == ["BatchGetItem"]
    assert principal.role == "admin" and "patients.read" in principal.permissions


def test_a_role_changed_since_the_token_was_issued_takes_effect_at_once(
    api: Api, clinic: Clinic
) -> None:
    member = add_member(api, clinic, "dentist")
    r = api.patch(f"/staff/{member['user_id']}", {"role": "receptionist"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    with dynamodb_calls() as calls:
        principal = sessions.resolve_principal(member["token"], None, None)
    assert principal.role == "receptionist"
    grants, _ = service.role_grants(clinic.clinic_id, "receptionist")
    assert principal.permissions == frozenset(rbac.effective_permissions(grants, "free"))
    assert calls.count == 2  # the token's role template, then the member's


def test_sign_in_reads_the_memberships_once_whatever_the_number_of_clinics(
    api: Api, clinic: Clinic, other_clinic: Clinic
) -> None:
    member = add_member(api, clinic, "dentist")

    def sign_in() -> list[str]:
        with dynamodb_calls() as calls:
            r = api.post(
                "/auth/login",
                {"email": member["email"], "password": PASSWORD, "clinic_id": clinic.clinic_id},
            )
        assert r.status == 200, r.body
        return calls.ops

    one = sign_in()
    _join(api, other_clinic, member["email"])
    two = sign_in()
    assert one == two
    assert one.count("Query") == 1  # the user's memberships, with their clinics' names
