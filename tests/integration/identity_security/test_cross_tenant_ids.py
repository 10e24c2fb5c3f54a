"""Staff ids of another clinic are out of reach on every staff route (issue 20): the routes
other tests did not cover yet, with nothing changed for the owner."""

from __future__ import annotations

from tests.integration.conftest import add_member


def test_another_clinics_member_cannot_be_reactivated_or_changed(api, clinic, other_clinic):
    m = add_member(api, clinic, "dentist")
    t = clinic.admin_token
    assert api.post(f"/staff/{m['user_id']}/deactivate", token=t).status == 200
    other = other_clinic.admin_token
    assert api.post(f"/staff/{m['user_id']}/reactivate", token=other).status == 404
    r = api.patch(f"/staff/{m['user_id']}", {"is_professional": True}, token=other)
    assert r.status == 404
    mine = {s["user_id"]: s for s in api.get("/staff", token=t).json()["data"]}
    assert mine[m["user_id"]]["status"] == "deactivated"
    assert mine[m["user_id"]]["is_professional"] is False
    # and the other clinic's own admin id, used in this clinic, is unknown here too
    assert api.post(f"/staff/{other_clinic.admin_id}/reactivate", token=t).status == 404
