"""SES bounce and complaint documents, in the three envelopes they arrive in, without AWS (the
undeliverable store is an in-memory fake)."""

from __future__ import annotations

import json

import pytest

from chalicelib.comms import notifications
from chalicelib.core import mail

# The shapes of AWS's "Amazon SES notification examples" (SNS) and of SES event publishing.
BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "gone@example.com", "action": "failed"}],
        "timestamp": "2026-03-10T08:00:00.000Z",
        "feedbackId": "0000-1",
    },
    "mail": {"messageId": "m-1", "destination": ["gone@example.com"]},
}
COMPLAINT = {
    "eventType": "Complaint",
    "complaint": {
        "complainedRecipients": [{"emailAddress": "angry@example.com"}],
        "complaintFeedbackType": "abuse",
        "timestamp": "2026-03-10T08:00:00.000Z",
        "feedbackId": "0000-2",
    },
    "mail": {"messageId": "m-2"},
}


@pytest.fixture
def marked(monkeypatch):
    calls: list[tuple[str, str, str | None]] = []
    monkeypatch.setattr(mail, "mark_undeliverable", lambda *a: calls.append(a))
    return calls


def test_envelopes():
    sns = json.dumps({"Type": "Notification", "Message": json.dumps(BOUNCE)})
    eventbridge = json.dumps(
        {"source": "aws.ses", "detail-type": "Email Complaint Received", "detail": COMPLAINT}
    )
    assert notifications.ses_notifications(sns) == [BOUNCE]
    assert notifications.ses_notifications(json.dumps(BOUNCE)) == [BOUNCE]
    assert notifications.ses_notifications(eventbridge) == [COMPLAINT]
    for junk in ("", "not json", "[1, 2]", json.dumps({"Type": "Notification", "Message": "{"})):
        assert notifications.ses_notifications(junk) == []


def test_permanent_bounce_and_complaint_mark_the_address(marked):
    assert notifications.handle_ses_feedback(BOUNCE) == 1
    assert notifications.handle_ses_feedback(COMPLAINT) == 1
    assert marked == [
        ("gone@example.com", "bounce", "General"),
        ("angry@example.com", "complaint", "abuse"),
    ]


def test_transient_bounce_and_other_notifications_mark_nothing(marked):
    soft = {**BOUNCE, "bounce": {**BOUNCE["bounce"], "bounceType": "Transient"}}
    assert notifications.handle_ses_feedback(soft) == 0
    assert notifications.handle_ses_feedback({"notificationType": "Delivery"}) == 0
    assert notifications.handle_ses_feedback({}) == 0
    assert marked == []


def test_address_hash_ignores_case_and_spaces():
    assert mail.address_hash(" Gone@Example.com ") == mail.address_hash("gone@example.com")
