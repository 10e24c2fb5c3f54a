"""The daily reminder job: the consented channel only, a booking link, idempotent when it runs
twice, never past the last step, stops when the patient books, and reads only what is due
(ADR 1404)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from chalicelib.booking.invites import verify_invite
from chalicelib.recalls import reminders
from chalicelib.recalls.models import Recall
from tests.integration.agenda.conftest import Agenda, at, booked
from tests.integration.conftest import mails_to
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.recalls.conftest import Desk, Queue, today


def _link(mail) -> str:
    body = html.unescape(str(mail.body))
    return re.search(r"https?://[^\s\"<]+/api/v1/public/booking/[^\s\"<]+", body).group(0)


def _due_now(desk: Desk, pid: str, days_ago: int = 0) -> str:
    rule = desk.checkup_rule()
    desk.data(
        "put",
        f"/patients/{pid}/recalls/{rule}",
        {"due": (today() - timedelta(days=days_ago)).isoformat()},
    )
    return rule


def test_the_job_sends_once_on_the_consented_channel_with_a_booking_link(desk: Desk) -> None:
    email = f"recall-{today().toordinal()}-a@example.com"
    pid = desk.patient(email=email)
    desk.consent(pid)
    rule = _due_now(desk, pid)
    silent = desk.patient(email=f"recall-{today().toordinal()}-b@example.com")  # no consent
    _due_now(desk, silent)
    first = reminders.run()
    assert first["sent"] >= 1 and first["skipped"] >= 1
    (mail,) = mails_to(email)
    link = _link(mail)
    assert f"/api/v1/public/booking/{desk.clinic_id}?" in link
    q = parse_qs(urlparse(link).query)
    (r,) = desk.recalls(pid)
    assert q["ref"] == [f"recall:{r['recall_id']}"]
    assert verify_invite(q["invite"][0]).subject_id == pid
    assert r["reminder_count"] == 1 and r["last_outcome"] == "sent"
    (sent,) = r["reminders"]
    assert sent["status"] == "sent" and sent["channel"] == "email" and sent["step"] == 0
    # on the patient's record: the message, kind recall
    msgs = desk.data("get", f"/comms/patients/{pid}/messages")["items"]
    assert [m["kind"] for m in msgs] == ["recall"] and msgs[0]["message_id"] == sent["message_id"]
    # no consent: nothing sent, listed as such
    (s,) = desk.recalls(silent)
    assert s["last_outcome"] == "no_consent" and s["reminders"][0]["status"] == "skipped"
    assert not mails_to(f"recall-{today().toordinal()}-b@example.com")
    listed = {x["patient_id"]: x for x in desk.due()}
    assert listed[silent]["last_outcome"] == "no_consent"
    # the job again (same day): nothing new
    reminders.run()
    assert len(mails_to(email)) == 1
    assert desk.recalls(pid)[0]["reminder_count"] == 1
    # the next step waits 21 days: its bucket is in the future
    item = Recall.get(*Recall.key(desk.clinic_id, pid, rule))
    assert f"RECREM#{(today() + timedelta(days=21)).isoformat()}" == item.GSI3PK


def test_at_most_the_configured_steps(desk: Desk) -> None:
    email = f"recall-steps-{today().toordinal()}@example.com"
    pid = desk.patient(email=email)
    desk.consent(pid)
    rule = _due_now(desk, pid, days_ago=60)
    reminders.run()
    item = Recall.get(*Recall.key(desk.clinic_id, pid, rule))
    # the second step comes 21 days after the first was sent, not at once (overdue recall)
    assert f"RECREM#{(today() + timedelta(days=21)).isoformat()}" == item.GSI3PK
    item.not_before = today().isoformat()  # as if the 21 days had passed
    from chalicelib.recalls import service

    service.save(desk.clinic_id, item, int(item.version), [0, 21])
    reminders.run()
    assert len(mails_to(email)) == 2
    item = Recall.get(*Recall.key(desk.clinic_id, pid, rule))
    assert item.reminder_count == 2 and item.GSI3PK is None  # no step left
    reminders.run()
    assert len(mails_to(email)) == 2


def test_a_booked_patient_is_not_reminded(api, desk: Desk, agenda: Agenda, queue: Queue) -> None:
    pid = agenda.patient_id
    desk.consent(pid)
    rule = _due_now(desk, pid)
    # booked without the event reaching the recalls queue yet: the job checks the agenda
    a = booked(api, agenda, at(agenda.monday, "12:00"))
    counts = reminders.run()
    assert counts["booked"] >= 1
    (r,) = desk.recalls(pid)
    assert r["status"] == "booked" and r["appointment_id"] == a["appointment_id"]
    assert r["reminders"] == []
    assert Recall.get(*Recall.key(desk.clinic_id, pid, rule)).GSI3PK is None


def test_the_job_reads_only_the_due_buckets(desk: Desk) -> None:
    """Many recalls not yet due cost the job nothing: it queries the reminder buckets of the
    last days (one Query each, two kinds) and reads only what they hold."""
    rule = desk.checkup_rule()
    for i in range(6):
        pid = desk.patient()
        desk.data(
            "put",
            f"/patients/{pid}/recalls/{rule}",
            {"due": (today() + timedelta(days=40 + i)).isoformat()},
        )
    reminders.run()  # whatever earlier tests left due is handled now
    with dynamodb_calls() as c:
        counts = reminders.run()
    assert c.of("Scan") == 0
    buckets = 2 * (reminders.LOOKBACK_DAYS + 2)
    assert c.of("Query") == buckets and c.count == buckets  # nothing due: only the buckets
    assert counts["sent"] == 0


def test_send_now_once_a_day_and_no_channel(desk: Desk, reception: Desk) -> None:
    email = f"recall-now-{today().toordinal()}@example.com"
    pid = desk.patient(email=email)
    rule = _due_now(desk, pid)
    r = reception.call("post", f"/patients/{pid}/recalls/{rule}/send", None, 409)
    assert r["code"] == "RECALL_NO_CHANNEL" and r["message"]
    desk.consent(pid)
    out = reception.data("post", f"/patients/{pid}/recalls/{rule}/send")
    assert out["status"] == "sent" and out["channel"] == "email"
    assert len(mails_to(email)) == 1
    r = reception.call("post", f"/patients/{pid}/recalls/{rule}/send", None, 409)
    assert r["code"] == "RECALL_SENT_TODAY"
    (rec,) = desk.recalls(pid)
    assert rec["reminder_count"] == 1  # the first step is used: the job will not repeat it
    reminders.run()
    assert len(mails_to(email)) == 1
