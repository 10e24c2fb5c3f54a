"""Consent per channel (nothing goes out on a channel without it) and SES bounces and complaints
(the address is marked undeliverable and gets no more mail)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.comms import scheduling
from chalicelib.comms.models import Message
from chalicelib.core import aws
from chalicelib.core.db import clinic_pk
from chalicelib.core.mail import Undeliverable, address_hash
from tests.integration.comms.conftest import at, booked, consent, drain, mails_to
from tests.integration.comms.graph_stub import GraphStub
from tests.integration.comms.test_whatsapp import connect
from tests.integration.patients.helpers import create_patient


@pytest.fixture
def graph(monkeypatch):
    stub = GraphStub()
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", stub.url)
    yield stub
    stub.stop()


def _last_message(clinic_id: str, patient_id: str) -> Message:
    return next(
        iter(
            Message.gsi1.query(Message.patient_pk(clinic_id, patient_id), scan_index_forward=False)
        )
    )


def _templates(graph: GraphStub) -> list[dict]:
    return [q for q in graph.requests if (q["body"] or {}).get("type") == "template"]


def test_nothing_is_sent_without_email_consent(api, comms):
    t = comms.token
    p = create_patient(api, t, first_name="Sin", last_name="Consentimiento")
    pid = p["patient_id"]
    comms.ag.patient_id = pid
    r = api.get(f"/comms/patients/{pid}/consents", token=t).json()["data"]
    assert [(c["channel"], c["granted"]) for c in r] == [("email", False), ("whatsapp", False)]
    a = booked(api, comms.ag, at(comms.ag.monday, "09:00"))
    drain()
    assert mails_to(p["email"]) == []
    m = _last_message(comms.ag.clinic_id, pid)
    assert (m.status, m.channel, m.kind, m.error["code"]) == (
        "skipped",
        "none",
        "booking",
        "no_consent",
    )
    # consent recorded with time, source and who; then a reschedule notice goes out
    r = api.put(
        f"/comms/patients/{pid}/consents/email",
        {"granted": True, "source": "paper_form"},
        token=t,
    )
    c = r.json()["data"]
    assert c["granted"] and c["source"] == "paper_form" and c["by"] and c["at"]
    assert len(c["history"]) == 1
    r = api.patch(
        f"/appointments/{a['appointment_id']}", {"start": at(comms.ag.monday, "09:30")}, token=t
    )
    assert r.status == 200, r.body
    drain()
    assert len(mails_to(p["email"])) == 1
    # withdrawn: the cancellation notice is not sent
    api.put(
        f"/comms/patients/{pid}/consents/email", {"granted": False, "source": "phone_call"}, token=t
    )
    api.post(f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=t)
    drain()
    assert len(mails_to(p["email"])) == 1
    c = api.get(f"/comms/patients/{pid}/consents", token=t).json()["data"][0]
    assert c["granted"] is False and [h["granted"] for h in c["history"]] == [True, False]
    audit = api.get(f"/audit?entity_type=patient&entity_id={pid}", token=t).json()["data"]["items"]
    actions = [e["action"] for e in audit]
    assert "comms.consent.granted" in actions and "comms.consent.withdrawn" in actions


def test_whatsapp_needs_a_connected_number_and_its_own_consent(api, comms, graph):
    t, cid = comms.token, comms.ag.clinic_id
    p = create_patient(
        api,
        t,
        first_name="Wa",
        last_name="Paciente",
        whatsapp="+34600112233",
        preferred_channel="whatsapp",
    )
    pid = p["patient_id"]
    comms.ag.patient_id = pid
    consent(api, t, pid, "email")
    consent(api, t, pid, "whatsapp")
    # the clinic has not connected WhatsApp: nothing goes to the Graph API, mail instead
    booked(api, comms.ag, at(comms.ag.monday, "09:00"))
    drain()
    assert _templates(graph) == [] and len(mails_to(p["email"])) == 1
    connect(api, t, cid)
    booked(api, comms.ag, at(comms.ag.monday, "09:45"))
    drain()
    assert len(_templates(graph)) == 1 and len(mails_to(p["email"])) == 1
    assert _templates(graph)[0]["body"]["to"] == "34600112233"
    # WhatsApp consent withdrawn: back to email, never WhatsApp
    consent(api, t, pid, "whatsapp", granted=False)
    booked(api, comms.ag, at(comms.ag.monday, "10:30"))
    drain()
    assert len(_templates(graph)) == 1 and len(mails_to(p["email"])) == 2
    # and with neither consent, nothing at all
    consent(api, t, pid, "email", granted=False)
    booked(api, comms.ag, at(comms.ag.monday, "11:15"))
    drain()
    assert len(_templates(graph)) == 1 and len(mails_to(p["email"])) == 2
    assert _last_message(cid, pid).status == "skipped"


def _ses_event(detail_type: str, detail: dict) -> None:
    """What SES event publishing puts on the account's default bus."""
    resp = aws.client("events").put_events(
        Entries=[{"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    assert resp["FailedEntryCount"] == 0


def _bounce(address: str, kind: str = "Permanent") -> dict:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General" if kind == "Permanent" else "MailboxFull",
            "bouncedRecipients": [{"emailAddress": address}],
            "timestamp": "2026-03-10T08:00:00.000Z",
        },
        "mail": {"messageId": "0100-x", "destination": [address]},
    }


def test_bounce_and_complaint_stop_further_mail(api, comms, own_credentials):
    t, cid = comms.token, comms.ag.clinic_id
    email = comms.patient["email"]
    booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    drain()
    assert len(mails_to(email)) == 1
    # a soft bounce (mailbox full) changes nothing
    _ses_event("Email Bounced", _bounce(email, "Transient"))
    assert drain("ses-feedback") == 1
    booked(api, comms.ag, at(comms.ag.monday, "12:30"))
    drain()
    assert len(mails_to(email)) == 2
    # a hard bounce marks the address (stored hashed, never in clear)
    _ses_event("Email Bounced", _bounce(email.upper()))
    own_credentials.clear()
    assert drain("ses-feedback") == 1
    # the feedback worker writes a global item only: its role is the global path (ADR 0012)
    assert own_credentials and set(own_credentials) == {"global"}, own_credentials
    u = Undeliverable.get(f"UNDELIV#{address_hash(email)}", "UNDELIV")
    assert u.reason == "bounce" and email not in json.dumps(u.attribute_values, default=str)
    booked(api, comms.ag, at(comms.ag.monday, "13:00"))
    drain()
    assert len(mails_to(email)) == 2
    m = _last_message(cid, comms.patient["patient_id"])
    assert m.status == "skipped" and m.error["code"] == "undeliverable"

    # a complaint, as an SNS notification on the queue, does the same for another address
    p2 = create_patient(api, t, first_name="Queja")
    consent(api, t, p2["patient_id"])
    sns = {
        "Type": "Notification",
        "Message": json.dumps(
            {
                "notificationType": "Complaint",
                "complaint": {
                    "complainedRecipients": [{"emailAddress": p2["email"]}],
                    "complaintFeedbackType": "abuse",
                },
                "mail": {"messageId": "0100-y"},
            }
        ),
    }
    from tests.conftest import RESOURCES

    q = next(q for q in RESOURCES.queues if q.name == "ses-feedback")
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=RESOURCES.queue_name(q))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(sns))
    assert drain("ses-feedback") == 1
    comms.ag.patient_id = p2["patient_id"]
    booked(api, comms.ag, at(comms.ag.monday, "13:30"))
    drain()
    assert mails_to(p2["email"]) == []
    assert (
        Undeliverable.get(f"UNDELIV#{address_hash(p2['email'])}", "UNDELIV").reason == "complaint"
    )


def test_end_of_day_skips_a_bounced_owner(api, clinic):
    from chalicelib.comms.models import Due, JobCursor

    admin = clinic.admin_email
    _ses_event("Email Bounced", _bounce(admin))
    drain("ses-feedback")
    due = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 16:00 in Madrid
    scheduling.schedule_eod(clinic.clinic_id, "Europe/Madrid", due - timedelta(hours=1))
    JobCursor(
        *JobCursor.key("end-of-day"), last_bucket=scheduling.bucket(due - scheduling.BUCKET)
    ).save()
    out = scheduling.run_end_of_day(at=due + timedelta(seconds=5))
    assert out.get("sent", 0) == 0 and mails_to(admin) == []
    # still rescheduled for the next day
    assert Due.get(clinic_pk(clinic.clinic_id), "DUE#EOD").due_at == due + timedelta(days=1)
