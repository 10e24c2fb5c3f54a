"""Follow-ups kept from events: budgets sent and not answered, treatments planned and not
scheduled, no-shows not rebooked; the lists wait the clinic's delay; staff record a call;
automatic messages by the daily job, once (ADR 1404)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.recalls import followups, reminders
from chalicelib.recalls.models import FollowUp
from tests.integration.agenda.conftest import Agenda, at, booked
from tests.integration.conftest import mails_to
from tests.integration.recalls.conftest import Desk, Queue, plan, today, treatment


def age(desk: Desk, pid: str, fid: str, days: int) -> None:
    """Move a follow-up's start ``days`` back (as if the budget had been sent then)."""
    f = FollowUp.get(*FollowUp.key(desk.clinic_id, pid, fid))
    f.since = (today() - timedelta(days=days)).isoformat()
    followups.save(desk.clinic_id, f, int(f.version))


def listed(desk: Desk, kind: str) -> list[str]:
    return [f["patient_id"] for f in desk.data("get", f"/followups/{kind}?limit=100")["items"]]


def sent_budget(desk: Desk, pid: str) -> str:
    tid = treatment(desk, "LIMP")
    b = desk.data(
        "post", "/billing/budgets", {"patient_id": pid, "lines": [{"treatment_id": tid}]}, 201
    )
    desk.data("post", f"/billing/budgets/{b['budget_id']}/send", {"valid_days": 30})
    return b["budget_id"]


def test_an_unanswered_budget_is_listed_after_the_delay_until_answered(
    desk: Desk, queue: Queue
) -> None:
    pid = desk.patient()
    bid = sent_budget(desk, pid)
    queue.deliver()
    fid = f"budget-{bid}"
    assert listed(desk, "budget") == []  # sent today: not yet (14 days by default)
    age(desk, pid, fid, 15)
    (f,) = desk.data("get", "/followups/budget")["items"]
    assert f["patient_id"] == pid and f["ref_id"] == bid and f["days"] == 15
    assert queue.again("budget.sent") == {"batchItemFailures": []}  # a redelivery: unchanged
    assert listed(desk, "budget") == [pid]
    desk.data("post", f"/billing/budgets/{bid}/accept", {"signer_name": "Ana"})
    queue.deliver()
    assert listed(desk, "budget") == []
    assert (
        FollowUp.count(f"C#{desk.clinic_id}", FollowUp.SK.startswith(f"PAT#{pid}#FU#budget")) == 0
    )
    # the budget.sent delivered late (after the acceptance) opens nothing: the budget decides
    assert queue.again("budget.sent") == {"batchItemFailures": []}
    assert listed(desk, "budget") == []


def test_contacted_stays_done_leaves(desk: Desk, queue: Queue, reception: Desk) -> None:
    pid = desk.patient()
    bid = sent_budget(desk, pid)
    queue.deliver()
    fid = f"budget-{bid}"
    age(desk, pid, fid, 20)
    f = reception.data(
        "post", f"/patients/{pid}/followups/{fid}", {"outcome": "contacted", "note": "lo piensa"}
    )
    assert f["contacted_at"] and f["notes"][0]["note"] == "lo piensa"
    assert listed(desk, "budget") == [pid]
    reception.data("post", f"/patients/{pid}/followups/{fid}", {"outcome": "done"})
    assert listed(desk, "budget") == []
    r = reception.call("post", f"/patients/{pid}/followups/{fid}", {"outcome": "done"}, 409)
    assert r["code"] == "FOLLOWUP_DONE"
    reception.call("post", f"/patients/{pid}/followups/{fid}", {"outcome": "maybe"}, 422)
    desk.call("get", "/followups/everything", None, 404)
    view = desk.data("get", f"/patients/{pid}/recalls")
    assert [x["status"] for x in view["followups"]] == ["done"]


def test_planned_and_not_scheduled_until_booked(
    api, desk: Desk, queue: Queue, agenda: Agenda
) -> None:
    pid = agenda.patient_id
    plan(desk, pid, "OBT1")
    queue.deliver()
    age(desk, pid, "plan", 40)
    assert listed(desk, "plan") == [pid]
    booked(api, agenda, at(agenda.monday, "09:30"))
    queue.deliver()
    assert listed(desk, "plan") == []


def test_a_cancelled_plan_item_ends_it(desk: Desk, queue: Queue) -> None:
    pid = desk.patient()
    it = plan(desk, pid, "OBT1")
    queue.deliver()
    assert followups.get(desk.clinic_id, pid, "plan") is not None
    desk.data("post", f"/patients/{pid}/chart/plan/{it['item_id']}/cancel")
    queue.deliver()
    assert followups.get(desk.clinic_id, pid, "plan") is None


def test_a_no_show_is_listed_until_rebooked_and_the_job_messages_it_once(
    api, desk: Desk, queue: Queue, agenda: Agenda
) -> None:
    pid = agenda.patient_id
    email = f"noshow-{today().toordinal()}@example.com"
    desk.call("patch", f"/patients/{pid}", {"email": email})
    desk.consent(pid)
    a = booked(api, agenda, at(agenda.monday, "10:00"))
    r = api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "no_show"}, token=desk.token
    )
    assert r.status == 200, r.body
    queue.deliver()
    f = followups.get(desk.clinic_id, pid, "noshow")
    assert f is not None and f.ref_id == a["appointment_id"]
    age(desk, pid, "noshow", 5)
    assert listed(desk, "noshow") == [pid]
    # automatic messages are off by default
    reminders.run()
    assert not mails_to(email)
    s = desk.data("get", "/recalls/settings")
    desk.data("put", "/recalls/settings", {**s, "auto_noshow": True})
    age(desk, pid, "noshow", 5)  # re-indexed (as the consumer would write it)
    reminders.run()
    (mail,) = mails_to(email)
    assert "/api/v1/public/booking/" in str(mail.body) and "followup%3Anoshow" in str(mail.body)
    reminders.run()
    assert len(mails_to(email)) == 1
    msgs = desk.data("get", f"/patients/{pid}/recalls")["followups"][0]["messages"]
    assert msgs[0]["auto"] is True and msgs[0]["status"] == "sent"
    # rebooked: off the list
    booked(api, agenda, at(agenda.monday + timedelta(days=2), "10:00"))
    queue.deliver()
    assert listed(desk, "noshow") == []


def test_settings_validation(desk: Desk, reception: Desk) -> None:
    s = desk.data("get", "/recalls/settings")
    assert s["recall_reminder_days"] == [0, 21] and s["budget_days"] == 14
    desk.call("put", "/recalls/settings", {**s, "recall_reminder_days": [21, 0]}, 422)
    desk.call("put", "/recalls/settings", {**s, "recall_reminder_days": []}, 422)
    desk.call("put", "/recalls/settings", {**s, "budget_days": 0}, 422)
    reception.call("put", "/recalls/settings", s, 403)
    out = desk.data("put", "/recalls/settings", {**s, "budget_days": 7})
    assert out["budget_days"] == 7
