"""Permissions (403) and tenancy for every recalls route: clinic B can neither read nor change
clinic A's rules, recalls or follow-ups, and B's events never touch A (ADR 1404)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.recalls import consumer, followups
from tests.integration.conftest import add_member
from tests.integration.recalls.conftest import Desk, Queue, today


def _setup(desk: Desk, queue: Queue) -> tuple[str, str, str]:
    pid = desk.patient()
    rule = desk.checkup_rule()
    desk.data("put", f"/patients/{pid}/recalls/{rule}", {"due": today().isoformat()})
    b = desk.data(
        "post",
        "/billing/treatments",
        {
            "code": "LIMPX",
            "name_es": "Limpieza",
            "price": "60.00",
            "scope": "mouth",
            "vat_code": "EXENTO_SANITARIO",
            "category": ["Test"],
        },
        201,
    )
    bud = desk.data(
        "post",
        "/billing/budgets",
        {"patient_id": pid, "lines": [{"treatment_id": b["treatment_id"]}]},
        201,
    )
    desk.data("post", f"/billing/budgets/{bud['budget_id']}/send", {"valid_days": 30})
    queue.deliver()
    return pid, rule, f"budget-{bud['budget_id']}"


def test_clinic_b_cannot_reach_clinic_a(desk: Desk, other_desk: Desk, queue: Queue) -> None:
    pid, rule, fid = _setup(desk, queue)
    b = other_desk
    until = (today() + timedelta(days=30)).isoformat()
    for method, path, body in (
        ("get", f"/patients/{pid}/recalls", None),
        ("put", f"/patients/{pid}/recalls/{rule}", {"due": until}),
        ("post", f"/patients/{pid}/recalls/{rule}/snooze", {"until": until}),
        ("post", f"/patients/{pid}/recalls/{rule}/dismiss", {}),
        ("post", f"/patients/{pid}/recalls/{rule}/send", None),
        ("post", f"/patients/{pid}/followups/{fid}", {"outcome": "done"}),
        ("post", f"/patients/{pid}/followups/{fid}/send", None),
        ("patch", f"/recalls/rules/{rule}", {"interval_months": 1}),
    ):
        b.call(method, path, body, 404)
    assert rule not in {r["rule_id"] for r in b.rules()}
    assert b.due(f"&until={until}") == []
    assert b.data("get", "/followups/budget?limit=100")["items"] == []
    # A is untouched
    (r,) = desk.recalls(pid)
    assert r["status"] == "due" and r["due"] == today().isoformat()
    assert desk.rules()[0]["interval_months"] in (6, 12)
    assert followups.get(desk.clinic_id, pid, fid).status == "open"
    # B's cursor is refused by A's list
    desk.data("put", f"/patients/{desk.patient()}/recalls/{rule}", {"due": today().isoformat()})
    page = desk.data("get", "/recalls/due?limit=1")
    b.call("get", f"/recalls/due?limit=1&cursor={page['next_cursor']}", None, 400)


def test_events_of_clinic_b_never_touch_clinic_a(
    desk: Desk, other_desk: Desk, queue: Queue
) -> None:
    pid, rule, fid = _setup(desk, queue)
    before = desk.recalls(pid)
    detail = {
        "event_id": "x1",
        "clinic_id": other_desk.clinic_id,
        "occurred_at": "2099-01-01T10:00:00.000Z",
        "patient_id": pid,  # A's patient named in B's event
        "code": "REV",
        "plan_item_id": "P1",
    }
    assert consumer.handle("treatment.completed", detail) == "ignored"
    assert consumer.handle("budget.accepted", {**detail, "budget_id": fid[7:]}) == "ignored"
    assert (
        consumer.handle(
            "appointment.scheduled", {**detail, "appointment_id": "01HXXXXXXXXXXXXXXXXXXXXXXX"}
        )
        == "ignored"
    )
    assert desk.recalls(pid) == before
    assert followups.get(desk.clinic_id, pid, fid).status == "open"
    assert other_desk.due("&until=2100-01-01") == []


def test_permissions(api, clinic, desk: Desk, queue: Queue, reception: Desk) -> None:
    pid, rule, fid = _setup(desk, queue)
    until = (today() + timedelta(days=30)).isoformat()
    # the front desk reads and acts, but does not set rules or messages
    reception.data("get", "/recalls/due")
    reception.data("get", "/recalls/rules")
    reception.data("get", f"/patients/{pid}/recalls")
    reception.data("post", f"/patients/{pid}/recalls/{rule}/snooze", {"until": until})
    rule_body = {"name_es": "Flúor", "codes": ["FLUOR"], "interval_months": 12}
    reception.call("post", "/recalls/rules", rule_body, 403)
    reception.call("patch", f"/recalls/rules/{rule}", {"active": False}, 403)
    reception.call("put", "/recalls/settings", desk.data("get", "/recalls/settings"), 403)
    # a hygienist reads; an assistant has no recalls at all
    hyg = Desk(api, add_member(api, clinic, "hygienist")["token"], clinic.clinic_id)
    hyg.data("get", "/recalls/due")
    hyg.call("put", f"/patients/{pid}/recalls/{rule}", {"due": until}, 403)
    hyg.call("post", f"/patients/{pid}/recalls/{rule}/send", None, 403)
    hyg.call("post", f"/patients/{pid}/followups/{fid}", {"outcome": "done"}, 403)
    hyg.call("post", f"/patients/{pid}/followups/{fid}/send", None, 403)
    hyg.call("post", f"/patients/{pid}/recalls/{rule}/dismiss", {}, 403)
    asst = Desk(api, add_member(api, clinic, "assistant")["token"], clinic.clinic_id)
    for path in ("/recalls/due", "/recalls/rules", "/followups/budget", f"/patients/{pid}/recalls"):
        asst.call("get", path, None, 403)


def test_rules_crud_and_bad_input(desk: Desk) -> None:
    made = desk.data(
        "post",
        "/recalls/rules",
        {
            "name_es": "Flúor",
            "name_en": "Fluoride",
            "codes": ["fluor", "FLUOR"],
            "interval_months": 12,
        },
        201,
    )
    assert made["codes"] == ["FLUOR"] and made["active"] is True
    off = desk.data(
        "patch", f"/recalls/rules/{made['rule_id']}", {"active": False, "booking_type_id": "T1"}
    )
    assert off["active"] is False and off["booking_type_id"] == "T1"
    r = desk.call("post", "/recalls/rules", {"name_es": "Nada", "interval_months": 6}, 422)
    assert r["code"] == "RECALL_RULE_NO_TRIGGER"
    desk.call("post", "/recalls/rules", {"name_es": "X", "codes": ["A"], "interval_months": 0}, 422)
    desk.call(
        "post", "/recalls/rules", {"name_es": "X", "codes": ["a b"], "interval_months": 6}, 422
    )
    desk.call(
        "post",
        "/recalls/rules",
        {"name_es": "X", "codes": ["A"], "interval_months": 6, "x": 1},
        422,
    )
    desk.call(
        "patch", f"/recalls/rules/{made['rule_id']}", {"codes": [], "ortho_finished": False}, 422
    )
    desk.call("patch", "/recalls/rules/NOPE", {"active": False}, 404)
