"""Tenant isolation on every chart route: another clinic's admin gets 404 for our patients,
findings and plan items (as for missing ones), sees none of our completed treatments, cannot
plan our clinic's treatments, and changes nothing. Fails if a route is added without a case."""

from __future__ import annotations

from chalicelib.charting.routes import router


def _setup(b):
    fill = b.treatment("OBT", "60.00", scope="surface")
    pid = b.patient()
    f = b.post(
        f"/patients/{pid}/chart/findings", {"code": "caries", "tooth": 36, "surfaces": ["O"]}, 201
    )
    a = b.post(
        f"/patients/{pid}/chart/plan",
        {"treatment_id": fill, "tooth": 36, "surfaces": ["O"]},
        201,
    )
    done = b.post(
        f"/patients/{pid}/chart/plan",
        {"treatment_id": fill, "tooth": 46, "surfaces": ["O"]},
        201,
    )
    b.post(f"/patients/{pid}/chart/plan/{done['item_id']}/complete", {})
    return {"fill": fill, "pid": pid, "fid": f["finding_id"], "item": a["item_id"]}


def test_every_route_is_isolated(billing, other_billing):
    ids = _setup(billing)
    before = billing.get(f"/patients/{ids['pid']}/chart")
    pid, fid, item = ids["pid"], ids["fid"], ids["item"]
    o = other_billing
    own_pid = o.patient()
    cases = {
        ("GET", "/patients/{patient_id}/chart"): ("GET", f"/patients/{pid}/chart", None),
        ("POST", "/patients/{patient_id}/chart/findings"): (
            "POST",
            f"/patients/{pid}/chart/findings",
            {"code": "missing", "tooth": 18},
        ),
        ("POST", "/patients/{patient_id}/chart/findings/{finding_id}/resolve"): (
            "POST",
            f"/patients/{pid}/chart/findings/{fid}/resolve",
            {},
        ),
        ("POST", "/patients/{patient_id}/chart/plan"): (
            "POST",
            f"/patients/{pid}/chart/plan",
            {"treatment_id": ids["fill"], "tooth": 36, "surfaces": ["O"]},
        ),
        ("POST", "/patients/{patient_id}/chart/plan/budget"): (
            "POST",
            f"/patients/{pid}/chart/plan/budget",
            {"item_ids": [item]},
        ),
        ("POST", "/patients/{patient_id}/chart/plan/{item_id}/complete"): (
            "POST",
            f"/patients/{pid}/chart/plan/{item}/complete",
            {},
        ),
        ("POST", "/patients/{patient_id}/chart/plan/{item_id}/cancel"): (
            "POST",
            f"/patients/{pid}/chart/plan/{item}/cancel",
            None,
        ),
    }
    routes = {(s.method, s.path) for s in router.specs} - {("GET", "/charting/uninvoiced")}
    assert routes == set(cases), routes ^ set(cases)
    for (method, _), (m, path, body) in cases.items():
        r = o.api.get(path, token=o.token) if m == "GET" else o.api.post(path, body, token=o.token)
        assert r.status == 404, (method, path, r.status, r.body[:300])
    # our ids inside their own patient's paths are missing too
    r = o.api.post(f"/patients/{own_pid}/chart/findings/{fid}/resolve", {}, token=o.token)
    assert r.status == 404
    r = o.api.post(f"/patients/{own_pid}/chart/plan/{item}/complete", {}, token=o.token)
    assert r.status == 404
    # ... and our treatment id in their body is an unknown treatment
    r = o.api.post(
        f"/patients/{own_pid}/chart/plan",
        {"treatment_id": ids["fill"], "tooth": 36, "surfaces": ["O"]},
        token=o.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "treatment_id"
    r = o.api.post(f"/patients/{own_pid}/chart/plan/budget", {"item_ids": [item]}, token=o.token)
    assert r.status == 422
    # their uninvoiced list holds none of ours; ours still holds it
    assert o.get("/charting/uninvoiced")["items"] == []
    assert len(billing.get("/charting/uninvoiced")["items"]) == 1
    assert billing.get(f"/patients/{pid}/chart") == before
