"""The treatment plan: placement checked against the catalog's scope (surface, tooth, sextant,
quadrant, mouth); plan -> budget (lines linked both ways) -> invoice -> completed on the chart;
the front desk's uninvoiced list (and off it once invoiced); treatment.completed."""

from __future__ import annotations

import pytest


def _plan(b, pid, body, status=201):
    r = b.api.post(f"/patients/{pid}/chart/plan", body, token=b.token)
    assert r.status == status, r.body[:2000]
    return r.json()["data"] if status < 300 else r.json()


def _uninvoiced(b):
    return b.get("/charting/uninvoiced")["items"]


def test_scopes_are_validated(billing):
    pid = billing.patient()
    fill = billing.treatment("OBT", "60.00", scope="surface")
    crown = billing.treatment("COR", "400.00", scope="tooth")
    rasp = billing.treatment("RAS", "50.00", scope="sextant")
    quad = billing.treatment("RAQ", "70.00", scope="quadrant")
    clean = billing.treatment("LIM", "45.00", scope="mouth")
    bad = [
        ({"treatment_id": fill, "tooth": 36}, "surfaces"),
        ({"treatment_id": fill, "surfaces": ["O"]}, "tooth"),
        ({"treatment_id": fill, "tooth": 36, "surfaces": ["R"]}, "surfaces"),
        ({"treatment_id": crown}, "tooth"),
        ({"treatment_id": crown, "tooth": 36, "surfaces": ["O"]}, "tooth"),
        ({"treatment_id": rasp}, "sextant"),
        ({"treatment_id": rasp, "tooth": 16, "sextant": 1}, "tooth"),
        ({"treatment_id": rasp, "sextant": 7}, "sextant"),
        ({"treatment_id": quad, "sextant": 1}, "quadrant"),
        ({"treatment_id": clean, "quadrant": 1}, "quadrant"),
        ({"treatment_id": clean, "tooth": 11}, "tooth"),
        ({"treatment_id": "nope"}, "treatment_id"),
        ({"treatment_id": crown, "tooth": 36, "result_code": "caries"}, "result_code"),
        ({"treatment_id": clean, "result_code": "crown"}, "result_code"),
    ]
    for body, field in bad:
        e = _plan(billing, pid, body, 422)
        assert any(x["field"].startswith(field) for x in e["errors"]), (body, e)
    s = _plan(billing, pid, {"treatment_id": rasp, "sextant": 1})
    assert s["teeth"] == [14, 15, 16, 17, 18] and s["region"] == "Sextant 1"
    q = _plan(billing, pid, {"treatment_id": quad, "quadrant": 3})
    assert q["teeth"][0] == 31 and len(q["teeth"]) == 8
    f = _plan(billing, pid, {"treatment_id": fill, "tooth": 36, "surfaces": ["O"]})
    assert f["result_code"] == "filling" and f["status"] == "planned"
    assert {p["item_id"] for p in billing.get(f"/patients/{pid}/chart")["plan"]} == {
        s["item_id"],
        q["item_id"],
        f["item_id"],
    }


def test_budget_lines_for_a_sextant_carry_no_tooth(billing):
    """The billing side of the new scopes: a budget line of a sextant treatment names no
    tooth (its region goes in the description)."""
    rasp = billing.treatment("RAS", "50.00", scope="sextant")
    pid = billing.patient()
    r = billing.api.post(
        "/billing/budgets",
        {"patient_id": pid, "lines": [{"treatment_id": rasp, "tooth": 16}]},
        token=billing.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "lines.0.tooth"
    assert billing.budget(pid, [{"treatment_id": rasp}])["lines"][0]["tooth"] is None


def test_plan_budget_invoice_complete(billing, published):
    pid = billing.patient_with_nif()
    fill = billing.treatment("OBT", "60.00", scope="surface")
    rasp = billing.treatment("RAS", "50.00", scope="sextant")
    caries = billing.post(
        f"/patients/{pid}/chart/findings",
        {"code": "caries", "tooth": 36, "surfaces": ["O"]},
        201,
    )
    a = _plan(
        billing,
        pid,
        {"treatment_id": fill, "tooth": 36, "surfaces": ["O"], "material": "composite"},
    )
    b = _plan(billing, pid, {"treatment_id": rasp, "sextant": 4})
    made = billing.post(
        f"/patients/{pid}/chart/plan/budget", {"item_ids": [a["item_id"], b["item_id"]]}, 201
    )
    assert made["number"].startswith("PRES-") and made["total"] == "110.00"
    assert {i["budget_id"] for i in made["items"]} == {made["budget_id"]}
    budget = billing.get(f"/billing/budgets/{made['budget_id']}")
    assert [ln["plan_item_id"] for ln in budget["lines"]] == [a["item_id"], b["item_id"]]
    assert budget["lines"][0]["tooth"] == 36 and budget["lines"][0]["surfaces"] == ["O"]
    assert (
        "Sextant 4" in budget["lines"][1]["description"]
        or "Sextante 4" in (budget["lines"][1]["description"])
    )
    # the same item cannot go into a second budget
    r = billing.api.post(
        f"/patients/{pid}/chart/plan/budget", {"item_ids": [a["item_id"]]}, token=billing.token
    )
    assert r.status == 422

    # complete the filling before invoicing: on the chart, and on the front desk's list
    done = billing.post(f"/patients/{pid}/chart/plan/{a['item_id']}/complete", {})
    assert done["status"] == "completed" and done["result_finding_id"]
    chart = billing.get(f"/patients/{pid}/chart")
    codes = {f["code"]: f for f in chart["findings"]}
    assert codes["filling"]["surfaces"] == ["O"] and codes["filling"]["material"] == "composite"
    assert "caries" not in codes  # treated by the filling, still in the history:
    assert caries["finding_id"] not in {f["finding_id"] for f in chart["findings"]}
    listed = _uninvoiced(billing)
    assert [x["item_id"] for x in listed] == [a["item_id"]]
    assert listed[0]["patient_id"] == pid and listed[0]["budget_number"] == made["number"]
    patient = billing.get(f"/patients/{pid}")
    assert listed[0]["patient_name"].startswith(f"{patient['first_name']} {patient['last_name']}")
    ev = [p for n, p in published if n == "treatment.completed"]
    assert ev and ev[-1]["plan_item_id"] == a["item_id"] and ev[-1]["tooth"] == 36
    # completing twice is a conflict
    r = billing.api.post(
        f"/patients/{pid}/chart/plan/{a['item_id']}/complete", {}, token=billing.token
    )
    assert r.status == 409

    # the budget is accepted and invoiced: the issued invoice takes the item off the list
    billing.post(f"/billing/budgets/{made['budget_id']}/send", {})
    billing.post(f"/billing/budgets/{made['budget_id']}/accept", {"signer_name": "Paciente"})
    inv = billing.post(
        "/billing/invoices", {"patient_id": pid, "budget_id": made["budget_id"]}, 201
    )
    assert _uninvoiced(billing)  # a draft is not an invoice yet
    issued = billing.issue(inv["invoice_id"])
    assert issued["status"] == "issued"
    assert _uninvoiced(billing) == []
    plan = {p["item_id"]: p for p in billing.get(f"/patients/{pid}/chart")["plan"]}
    assert plan[a["item_id"]]["invoiced"] and plan[a["item_id"]]["invoice_id"] == inv["invoice_id"]
    # the sextant item, invoiced before it was done, is never listed once completed
    billing.post(f"/patients/{pid}/chart/plan/{b['item_id']}/complete", {})
    assert _uninvoiced(billing) == []


def test_cancel_and_budget_permission(billing, api, clinic):
    from tests.integration.conftest import add_member

    pid = billing.patient()
    fill = billing.treatment("OBT", "60.00", scope="surface")
    a = _plan(billing, pid, {"treatment_id": fill, "tooth": 26, "surfaces": ["M", "O"]})
    c = billing.post(f"/patients/{pid}/chart/plan/{a['item_id']}/cancel")
    assert c["status"] == "cancelled"
    assert billing.get(f"/patients/{pid}/chart")["plan"] == []
    r = billing.api.post(
        f"/patients/{pid}/chart/plan/budget", {"item_ids": [a["item_id"]]}, token=billing.token
    )
    assert r.status == 422
    # a hygienist reads the chart but writes no plan; receptionist neither
    for role in ("hygienist", "receptionist"):
        m = add_member(api, clinic, role, f"Staff {role}")
        r = api.post(
            f"/patients/{pid}/chart/plan",
            {"treatment_id": fill, "tooth": 26, "surfaces": ["O"]},
            token=m["token"],
        )
        assert r.status == 403
        # the list of what is done and not invoiced is the front desk's (billing.invoices.read)
        listed = api.get("/charting/uninvoiced", token=m["token"]).status
        assert listed == (200 if role == "receptionist" else 403)


def test_uninvoiced_pages(billing):
    fill = billing.treatment("OBT", "60.00", scope="surface")
    pid = billing.patient()
    ids = []
    for tooth in (16, 26, 36):
        it = _plan(billing, pid, {"treatment_id": fill, "tooth": tooth, "surfaces": ["O"]})
        billing.post(f"/patients/{pid}/chart/plan/{it['item_id']}/complete", {})
        ids.append(it["item_id"])
    first = billing.get("/charting/uninvoiced?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = billing.get(f"/charting/uninvoiced?limit=2&cursor={first['next_cursor']}")
    assert [x["item_id"] for x in first["items"] + rest["items"]] == ids
    r = billing.api.get("/charting/uninvoiced?cursor=garbage", token=billing.token)
    assert r.status == 400


@pytest.mark.parametrize("n", [1])
def test_complete_without_tooth_leaves_no_finding(billing, n):
    clean = billing.treatment("LIM", "45.00", scope="mouth")
    pid = billing.patient()
    it = _plan(billing, pid, {"treatment_id": clean})
    done = billing.post(f"/patients/{pid}/chart/plan/{it['item_id']}/complete", {"note": "ok"})
    assert done["status"] == "completed" and done["result_finding_id"] is None
    assert billing.get(f"/patients/{pid}/chart")["findings"] == []
