"""Alerts from the sparse due-date index, reminders once a day, constant DynamoDB calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.agenda.conftest import booked, make_agenda
from tests.integration.conftest import mails_to
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.ortho.conftest import Ortho, ago, today


def alerts(o: Ortho) -> list[dict[str, Any]]:
    return o.call("get", "/ortho/alerts?limit=50")["data"]["items"]


def test_overdue_alerts_and_the_reminder(admin_ortho: Ortho, api: Any, published) -> None:
    o = admin_ortho
    email = f"orto-{today().toordinal()}@example.com"
    pid = o.patient(email=email)
    c = o.start(pid)["data"]
    mine = {a["kind"]: a for a in alerts(o) if a["case_id"] == c["case_id"]}
    assert set(mine) == {"visit", "tray"}
    assert mine["tray"]["days_overdue"] == 60 - 14
    path = o.case_path(pid, c["case_id"]) + "/reminders"
    # no consent yet: refused with words
    r = o.call("post", path, {"kind": "tray"}, 409)
    assert r["code"] == "ORTHO_NO_CHANNEL" and r["message"]
    o.call(
        "put",
        f"/comms/patients/{pid}/consents/email",
        {"granted": True, "source": "paper_form"},
    )
    sent = o.call("post", path, {"kind": "tray"}, 201)["data"]
    assert sent["channel"] == "email"
    assert mails_to(email), "the reminder reached SES"
    r = o.call("post", path, {"kind": "tray"}, 409)
    assert r["code"] == "ORTHO_REMINDER_SENT_TODAY"
    mine = {a["kind"]: a for a in alerts(o) if a["case_id"] == c["case_id"]}
    assert mine["tray"]["reminded_today"] is True and mine["visit"]["reminded_today"] is False
    ev = next(d for n, d in published if n == "ortho.reminder_sent")
    assert ev["kind"] == "tray" and ev["message_id"] == sent["message_id"]
    assert email not in str(ev)
    # a tray change today clears the tray alert
    o.call("post", o.case_path(pid, c["case_id"]) + "/tray-changes", {"tray": 2, "date": ago(0)})
    kinds = {a["kind"] for a in alerts(o) if a["case_id"] == c["case_id"]}
    assert kinds == {"visit"}
    r = o.call("post", path, {"kind": "tray"}, 409)
    assert r["code"] == "ORTHO_ALERT_NOT_DUE"


def test_a_booked_appointment_silences_the_visit_alert(api: Any, clinic: Any) -> None:
    ag = make_agenda(api, clinic)
    o = Ortho(api, clinic.admin_token)
    c = o.start(ag.patient_id, appliance="brackets", total_trays=None, days_per_tray=None)["data"]
    assert any(a["case_id"] == c["case_id"] and a["kind"] == "visit" for a in alerts(o))
    booked(api, ag, f"{ag.monday.isoformat()}T10:00:00")
    assert not any(a["case_id"] == c["case_id"] for a in alerts(o))


def test_retention_phase_gives_a_retention_check(admin_ortho: Ortho) -> None:
    pid = admin_ortho.patient()
    c = admin_ortho.start(
        pid,
        appliance="retainer",
        total_trays=None,
        days_per_tray=None,
        phases=[{"kind": "retention", "actual_start": ago(60)}],
    )["data"]
    kinds = {a["kind"] for a in alerts(admin_ortho) if a["case_id"] == c["case_id"]}
    assert kinds == {"retention"}


def test_future_dues_are_not_alerts(admin_ortho: Ortho) -> None:
    pid = admin_ortho.patient()
    c = admin_ortho.start(pid, start_date=today().isoformat(), phases=[], milestones=[])["data"]
    assert not any(a["case_id"] == c["case_id"] for a in alerts(admin_ortho))


def test_alert_list_costs_the_same_for_more_cases(admin_ortho: Ortho) -> None:
    o = admin_ortho
    for _ in range(2):
        o.start(o.patient(), appliance="retainer", total_trays=None, days_per_tray=None)
    with dynamodb_calls() as small:
        o.call("get", "/ortho/alerts?limit=2")
        o.call("get", "/ortho/figures")
        o.call("get", "/ortho/cases?limit=2")
    for _ in range(4):
        o.start(o.patient(), appliance="retainer", total_trays=None, days_per_tray=None)
    with dynamodb_calls() as big:
        o.call("get", "/ortho/alerts?limit=2")
        o.call("get", "/ortho/figures")
        o.call("get", "/ortho/cases?limit=2")
    assert big.count == small.count
    assert "Scan" not in big.ops


def test_alerts_page(admin_ortho: Ortho) -> None:
    o = admin_ortho
    for _ in range(3):
        o.start(o.patient(), start_date=(today() - timedelta(days=100)).isoformat())
    p1 = o.call("get", "/ortho/alerts?limit=2")["data"]
    assert p1["next_cursor"]
    p2 = o.call("get", f"/ortho/alerts?limit=2&cursor={p1['next_cursor']}")["data"]
    keys1 = {(a["case_id"], a["kind"]) for a in p1["items"]}
    keys2 = {(a["case_id"], a["kind"]) for a in p2["items"]}
    assert not keys1 & keys2
