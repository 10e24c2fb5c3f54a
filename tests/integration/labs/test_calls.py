"""The lab routes' DynamoDB calls do not grow with the clinic's data (no scan, nothing read
to be discarded): the same routes with 2 and with 8 cases make the same calls."""

from __future__ import annotations

from datetime import date, timedelta

from tests.integration.ddb_calls import dynamodb_calls


def _ops(labs, paths):
    out = {}
    for p in paths:
        with dynamodb_calls() as calls:
            labs.call("get", p)
        assert "Scan" not in calls.ops, p
        out[p] = calls.by_op()
    return out


def test_list_routes_make_the_same_calls_with_more_data(labs):
    pid = labs.patient()
    lab = labs.lab()["lab_id"]
    past = (date.today() - timedelta(days=3)).isoformat()
    for _ in range(2):
        labs.case(pid, lab, due_date=past)
    paths = [
        "/labs/cases?limit=5",
        "/labs/cases?status=draft&limit=5",
        f"/labs/cases?lab_id={lab}&limit=5",
        "/labs/alerts?limit=5",
        f"/patients/{pid}/lab-cases?limit=5",
        "/labs",
    ]
    small = _ops(labs, paths)
    for i in range(6):
        labs.case(labs.patient(first_name=f"P{i}"), lab, due_date=past)
    big = _ops(labs, paths)
    assert small == big


def test_alerts_read_only_due_items(labs):
    pid = labs.patient()
    lab = labs.lab()["lab_id"]
    with dynamodb_calls() as before:
        assert labs.call("get", "/labs/alerts")["items"] == []
    for _ in range(4):
        labs.case(pid, lab, due_date="2030-01-01")  # not due: never read by the alert query
    with dynamodb_calls() as after:
        assert labs.call("get", "/labs/alerts")["items"] == []
    assert after.read_items == before.read_items
