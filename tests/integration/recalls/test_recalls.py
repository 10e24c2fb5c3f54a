"""Recalls from completed treatments (clinic's day), redelivered and late events, booking stops
a recall and a cancellation reopens it, the due list by index (ADR 1404)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.recalls import consumer
from chalicelib.recalls.models import Recall
from tests.integration.agenda.conftest import Agenda, at, booked
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.recalls.conftest import (
    Desk,
    Queue,
    complete_treatment,
    in_months,
    today,
)


def test_default_rules_are_written_once(desk: Desk) -> None:
    rules = desk.rules()
    assert {r["name_es"] for r in rules} == {
        "Revisión y limpieza",
        "Revisión de retención de ortodoncia",
    }
    checkup = next(r for r in rules if r["name_es"] == "Revisión y limpieza")
    assert checkup["codes"] == ["REV", "LIMP"] and checkup["interval_months"] == 6
    ortho = next(r for r in rules if r["ortho_finished"])
    assert ortho["interval_months"] == 12
    assert [r["rule_id"] for r in desk.rules()] == [r["rule_id"] for r in rules]  # not twice


def test_a_completed_checkup_sets_the_recall_six_months_on(desk: Desk, queue: Queue) -> None:
    pid = desk.patient()
    complete_treatment(desk, pid, "REV")
    assert queue.deliver() == {"batchItemFailures": []}
    (r,) = desk.recalls(pid)
    assert r["status"] == "due" and r["source"] == "treatment"
    assert r["due"] == in_months(today(), 6).isoformat()  # the clinic's day, not UTC's
    assert r["last_done"] == today().isoformat()
    assert r["rule_name"] == "Check-up and cleaning"  # the request's language
    # on the due list when looking far enough ahead, not this week
    far = (today() + timedelta(days=200)).isoformat()
    assert [x["patient_id"] for x in desk.due(f"&until={far}")] == [pid]
    assert desk.due() == []
    # a redelivery changes nothing
    item = Recall.get(*Recall.key(desk.clinic_id, pid, r["rule_id"]))
    assert queue.again("treatment.completed") == {"batchItemFailures": []}
    assert Recall.get(*Recall.key(desk.clinic_id, pid, r["rule_id"])).version == item.version


def test_a_treatment_no_rule_names_sets_nothing(desk: Desk, queue: Queue) -> None:
    pid = desk.patient()
    complete_treatment(desk, pid, "OBT9")
    queue.deliver()
    assert desk.recalls(pid) == []


def test_a_later_completion_moves_the_recall_an_older_one_does_not(
    desk: Desk, queue: Queue, published: list
) -> None:
    pid = desk.patient()
    complete_treatment(desk, pid, "LIMP")
    queue.deliver()
    (detail,) = [d for n, d in published if n == "treatment.completed"]
    rule = desk.checkup_rule()
    later = {**detail, "event_id": "later", "occurred_at": "2099-01-10T23:30:00.000Z"}
    assert consumer.handle("treatment.completed", later) == "set"
    (r,) = desk.recalls(pid)
    # 23:30 UTC on 10 January is already the 11th in Madrid
    assert r["last_done"] == "2099-01-11" and r["due"] == "2099-07-11"
    older = {**detail, "event_id": "older", "occurred_at": "2030-01-01T10:00:00.000Z"}
    assert consumer.handle("treatment.completed", older) == "unchanged"
    assert desk.recalls(pid)[0]["due"] == "2099-07-11"
    assert desk.recalls(pid)[0]["rule_id"] == rule


def test_month_ends_are_kept_in_range() -> None:
    from datetime import date

    from chalicelib.recalls.common import add_months

    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)


def test_booking_stops_the_recall_and_cancelling_reopens_it(
    api, desk: Desk, queue: Queue, agenda: Agenda
) -> None:
    pid = agenda.patient_id
    rule = desk.checkup_rule()
    desk.data("put", f"/patients/{pid}/recalls/{rule}", {"due": today().isoformat()})
    assert [x["patient_id"] for x in desk.due()] == [pid]
    a = booked(api, agenda, at(agenda.monday, "10:00"))
    queue.deliver()
    (r,) = desk.recalls(pid)
    assert r["status"] == "booked" and r["appointment_id"] == a["appointment_id"]
    assert desk.due() == []  # off the list
    r2 = api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=desk.token
    )
    assert r2.status == 200, r2.body
    queue.deliver()
    (r,) = desk.recalls(pid)
    assert r["status"] == "due" and r["appointment_id"] is None
    assert [x["patient_id"] for x in desk.due()] == [pid]


def test_a_cancellation_delivered_before_the_booking_books_nothing(
    api, desk: Desk, queue: Queue, agenda: Agenda, published: list
) -> None:
    pid = agenda.patient_id
    rule = desk.checkup_rule()
    desk.data("put", f"/patients/{pid}/recalls/{rule}", {"due": today().isoformat()})
    a = booked(api, agenda, at(agenda.monday, "11:00"))
    api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=desk.token
    )
    events = [(n, d) for n, d in published if n.startswith("appointment.")]
    for n, d in reversed(events):  # out of order: cancelled first, then scheduled
        consumer.handle(n, d)
    (r,) = desk.recalls(pid)
    assert r["status"] == "due"


def test_no_show_reopens_and_another_booking_keeps_it_booked(
    api, desk: Desk, queue: Queue, agenda: Agenda
) -> None:
    pid = agenda.patient_id
    rule = desk.checkup_rule()
    desk.data("put", f"/patients/{pid}/recalls/{rule}", {"due": today().isoformat()})
    a = booked(api, agenda, at(agenda.monday, "10:00"))
    b = booked(api, agenda, at(agenda.monday + timedelta(days=1), "10:00"))
    queue.deliver()
    assert desk.recalls(pid)[0]["appointment_id"] == a["appointment_id"]
    api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=desk.token
    )
    queue.deliver()
    (r,) = desk.recalls(pid)
    assert r["status"] == "booked" and r["appointment_id"] == b["appointment_id"]


def test_snooze_dismiss_and_the_rule_filter(desk: Desk) -> None:
    p1, p2 = desk.patient(), desk.patient()
    rules = desk.rules()
    checkup = desk.checkup_rule()
    ortho = next(r["rule_id"] for r in rules if r["ortho_finished"])
    desk.data(
        "put",
        f"/patients/{p1}/recalls/{checkup}",
        {"due": (today() - timedelta(days=3)).isoformat()},
    )
    desk.data("put", f"/patients/{p2}/recalls/{ortho}", {"due": today().isoformat()})
    got = desk.due()
    assert [x["patient_id"] for x in got] == [p1, p2]  # most overdue first
    assert got[0]["days_overdue"] == 3
    assert [x["patient_id"] for x in desk.due(f"&rule={ortho}")] == [p2]
    until = (today() + timedelta(days=30)).isoformat()
    s = desk.data(
        "post", f"/patients/{p1}/recalls/{checkup}/snooze", {"until": until, "note": "de viaje"}
    )
    assert s["effective_due"] == until and s["note"] == "de viaje"
    assert [x["patient_id"] for x in desk.due()] == [p2]
    assert [x["patient_id"] for x in desk.due(f"&until={until}")] == [p2, p1]
    d = desk.data("post", f"/patients/{p2}/recalls/{ortho}/dismiss", {})
    assert d["status"] == "dismissed"
    assert [x["patient_id"] for x in desk.due(f"&until={until}")] == [p1]
    # bad input: a snooze in the past, an unknown rule, a foreign cursor
    r = desk.call("post", f"/patients/{p1}/recalls/{checkup}/snooze", {"until": "2020-01-01"}, 422)
    assert r["code"] == "RECALL_SNOOZE_PAST"
    desk.call("put", f"/patients/{p1}/recalls/NOPE", {"due": until}, 404)
    desk.call("get", "/recalls/due?cursor=eyJHU0kxUEsiOiJ4In0", None, 400)
    desk.call("get", "/recalls/due?until=yesterday", None, 422)


def test_due_list_pages_with_constant_calls(desk: Desk) -> None:
    rule = desk.checkup_rule()
    pids = [desk.patient() for _ in range(7)]
    for i, pid in enumerate(pids):
        desk.data(
            "put",
            f"/patients/{pid}/recalls/{rule}",
            {"due": (today() - timedelta(days=i)).isoformat()},
        )
    seen, cursor, calls = [], None, []
    while True:
        q = "/recalls/due?limit=3" + (f"&cursor={cursor}" if cursor else "")
        with dynamodb_calls() as c:
            page = desk.data("get", q)
        calls.append(c)
        seen += [x["patient_id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(pids))
    assert all(c.of("Scan") == 0 for c in calls)
    # a full page reads its 3 recalls from the index, never more (no reading and discarding)
    assert max(c.read_items for c in calls[:2]) <= 3 + 3 + 3 + 5  # recalls, patients, rules, auth
    assert len({c.count for c in calls[:2]}) == 1


def test_a_finished_orthodontic_case_sets_the_retention_recall(desk: Desk) -> None:
    pid = desk.patient()
    detail = {
        "event_id": "o1",
        "clinic_id": desk.clinic_id,
        "occurred_at": "2031-03-31T10:00:00.000Z",
        "case_id": "C1",
        "patient_id": pid,
        "status": "finished",
    }
    assert consumer.handle("ortho.case_finished", detail) == "set"
    (r,) = desk.recalls(pid)
    assert r["source"] == "ortho" and r["due"] == "2032-03-31"
    assert consumer.handle("ortho.case_finished", detail) == "unchanged"  # redelivered
    # a switched-off rule sets nothing
    ortho = r["rule_id"]
    desk.data("patch", f"/recalls/rules/{ortho}", {"active": False})
    other = desk.patient()
    assert consumer.handle("ortho.case_finished", {**detail, "patient_id": other}) == "no_rule"
