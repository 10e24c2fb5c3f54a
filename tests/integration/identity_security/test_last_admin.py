"""The clinic always keeps an active admin, even when two admins act on each other at once.

The rule is enforced by DynamoDB, not by a read before the write: a per-clinic counter of
active admins moves in the same transaction as the membership change, with the condition that
it stays at one or more. Both requests below go through the API at the same moment (they meet
at a barrier once both are authorised, so both really are admins when they act).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.identity import staff
from chalicelib.identity.models import AdminCount, Membership
from tests.integration.conftest import add_member, signup

ROUNDS = 4


def _active_admins(clinic_id: str) -> int:
    return sum(
        1
        for m in Membership.query(f"C#{clinic_id}", Membership.SK.startswith("MEMBER#"))
        if m.role == "admin" and m.status == "active"
    )


def _counter(clinic_id: str) -> int:
    return int(AdminCount.get(*AdminCount.key(clinic_id), consistent_read=True).active_admins)


def _act(api, action: str, actor_token: str, target_id: str):
    if action == "demote":
        return api.patch(f"/staff/{target_id}", {"role": "dentist"}, token=actor_token)
    return api.post(f"/staff/{target_id}/deactivate", token=actor_token)


@pytest.fixture
def meet_inside_the_service(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Both requests are authorised before either changes anything."""
    barrier = threading.Barrier(2, timeout=10)
    for name in ("update_member", "set_member_active"):
        real = getattr(staff, name)

        def waiting(*a, _real=real, **kw):
            barrier.wait()
            return _real(*a, **kw)

        monkeypatch.setattr(staff, name, waiting)
    return barrier


@pytest.mark.parametrize(
    "first, second",
    [("demote", "demote"), ("deactivate", "deactivate"), ("demote", "deactivate")],
)
def test_two_admins_removing_each_other_at_once_leave_one_admin(
    api, meet_inside_the_service, first, second
):
    for _ in range(ROUNDS):
        meet_inside_the_service.reset()
        c = signup(api, "Clínica Carrera")
        b = add_member(api, c, "admin", name="Beatriz Admin")
        assert _counter(c.clinic_id) == 2
        with ThreadPoolExecutor(2) as pool:
            fa = pool.submit(_act, api, first, c.admin_token, b["user_id"])
            fb = pool.submit(_act, api, second, b["token"], c.admin_id)
            ra, rb = fa.result(), fb.result()
        statuses = sorted([ra.status, rb.status])
        assert statuses == [200, 409], (ra.body, rb.body)
        refused = ra if ra.status == 409 else rb
        assert refused.json()["code"] == "LAST_ADMIN"
        assert "at least one" in refused.json()["message"]
        assert _active_admins(c.clinic_id) == 1
        assert _counter(c.clinic_id) == 1


def test_the_counter_follows_every_change_of_an_admins_role_or_status(api, clinic):
    b = add_member(api, clinic, "admin", name="Beatriz Admin")  # invitation accepted: 2
    assert _counter(clinic.clinic_id) == 2
    t = clinic.admin_token
    assert api.post(f"/staff/{b['user_id']}/deactivate", token=t).status == 200
    assert _counter(clinic.clinic_id) == 1
    # a deactivated admin's role changes do not count
    assert api.patch(f"/staff/{b['user_id']}", {"role": "dentist"}, token=t).status == 200
    assert api.patch(f"/staff/{b['user_id']}", {"role": "admin"}, token=t).status == 200
    assert _counter(clinic.clinic_id) == 1
    r = api.post(f"/staff/{b['user_id']}/reactivate", token=t)
    assert r.status == 200, r.body
    assert _counter(clinic.clinic_id) == 2
    assert api.patch(f"/staff/{b['user_id']}", {"role": "dentist"}, token=t).status == 200
    assert _counter(clinic.clinic_id) == 1
    assert api.patch(f"/staff/{b['user_id']}", {"role": "admin"}, token=t).status == 200
    assert _counter(clinic.clinic_id) == 2
    # nothing changes: nothing counted
    assert api.post(f"/staff/{b['user_id']}/reactivate", token=t).status == 200
    assert _counter(clinic.clinic_id) == 2
    # B (admin again, through the counter) can now demote the founder, and is then the last
    b_token = api.post(
        "/auth/login", {"email": b["email"], "password": "correct-horse-battery"}
    ).json()["data"]["access_token"]
    r = api.patch(f"/staff/{clinic.admin_id}", {"role": "dentist"}, token=b_token)
    assert r.status == 200, r.body
    assert _counter(clinic.clinic_id) == _active_admins(clinic.clinic_id) == 1
    # the last admin can neither leave the role nor deactivate themselves
    r = api.patch(f"/staff/{b['user_id']}", {"role": "dentist"}, token=b_token)
    assert r.status == 403 and r.json()["code"] == "SELF_ROLE_CHANGE"
    r = api.post(f"/staff/{b['user_id']}/deactivate", token=b_token)
    assert r.status == 409 and r.json()["code"] == "SELF_DEACTIVATION"
    # the demoted founder's old token has lost the staff permission at once
    assert api.patch(f"/staff/{b['user_id']}", {"role": "dentist"}, token=t).status == 403


def test_a_clinic_without_a_counter_gets_one_from_its_members(api, clinic):
    """Clinics created before the counter existed: it is built from the members once."""
    b = add_member(api, clinic, "admin")
    AdminCount(*AdminCount.key(clinic.clinic_id)).delete()
    r = api.patch(f"/staff/{b['user_id']}", {"role": "dentist"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    assert _counter(clinic.clinic_id) == 1


def test_one_clinics_admins_do_not_count_for_another(api, clinic, other_clinic):
    mine = add_member(api, clinic, "admin")
    theirs = add_member(api, other_clinic, "admin")
    r = api.patch(f"/staff/{mine['user_id']}", {"role": "dentist"}, token=clinic.admin_token)
    assert r.status == 200
    assert _counter(clinic.clinic_id) == 1 and _counter(other_clinic.clinic_id) == 2
    # the other clinic's admin cannot touch this clinic's last admin, nor its counter
    r = api.post(f"/staff/{clinic.admin_id}/deactivate", token=theirs["token"])
    assert r.status == 404
    r = api.patch(f"/staff/{clinic.admin_id}", {"role": "dentist"}, token=theirs["token"])
    assert r.status == 404
    assert _counter(clinic.clinic_id) == 1
    r = api.post(f"/staff/{theirs['user_id']}/deactivate", token=other_clinic.admin_token)
    assert r.status == 200
    assert _counter(other_clinic.clinic_id) == 1
