"""Appointment events -> reminders planned and notices sent; SES feedback -> undeliverable.

Idempotent on event_id: a ``Claim`` is written first (conditional), so a duplicate delivery
sends nothing; if handling fails the claim is released and the message retried.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.agenda.models import Appointment
from chalicelib.comms import scheduling, service
from chalicelib.core import mail
from chalicelib.core.observability import logger

NOTICE = {
    "appointment.scheduled": "booking",
    "appointment.reinstated": "booking",  # booked again after a cancellation or a no-show
    "appointment.cancelled": "cancellation",
    "appointment.no_show": "missed",
}
DROP_REMINDERS = (
    "appointment.cancelled",
    "appointment.no_show",
    "appointment.completed",
    "appointment.checked_in",
)


def handle_event(detail_type: str, detail: dict[str, Any]) -> str:
    event_id, cid = str(detail.get("event_id") or ""), str(detail.get("clinic_id") or "")
    appointment_id = str(detail.get("appointment_id") or "")
    if not (event_id and cid and appointment_id) or not detail_type.startswith("appointment."):
        return "ignored"
    if not service.claim("comms-evt", event_id):
        return "duplicate"
    try:
        return _handle(detail_type, detail, cid, appointment_id)
    except Exception:
        service.release("comms-evt", event_id)
        raise


def _handle(detail_type: str, detail: dict[str, Any], cid: str, appointment_id: str) -> str:
    scheduling.ensure_eod(cid)
    try:
        a = Appointment.get(*Appointment.key(cid, appointment_id), consistent_read=True)
    except DoesNotExist:
        return "gone"
    if detail_type in DROP_REMINDERS:
        scheduling.drop_reminders(cid, appointment_id)
    kind = NOTICE.get(detail_type)
    if detail_type in ("appointment.scheduled", "appointment.reinstated"):
        scheduling.plan_reminders(cid, a)
    elif detail_type == "appointment.updated" and detail.get("rescheduled"):
        scheduling.plan_reminders(cid, a)
        kind = "reschedule"
    if kind is None:
        return "no_notice"
    if kind in ("booking", "reschedule") and service.start_utc(a) <= service.now():
        return "past"
    if kind == "booking" and a.status not in ("scheduled", "confirmed"):
        return "stale"
    service.notify_appointment(cid, a, kind)
    return kind


# --- SES feedback ------------------------------------------------------------------------------


def ses_notifications(body: str) -> list[dict[str, Any]]:
    """SES notification documents from an SQS body: SNS envelope, raw SES JSON, or an
    EventBridge event from SES event publishing."""
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
        try:
            doc = json.loads(doc["Message"])
        except (ValueError, TypeError):
            return []
    if (
        isinstance(doc, dict)
        and doc.get("source") == "aws.ses"
        and isinstance(doc.get("detail"), dict)
    ):
        doc = doc["detail"]
    return [doc] if isinstance(doc, dict) else []


def handle_ses_feedback(doc: dict[str, Any]) -> int:
    """Mark bounced (permanent) and complaining addresses undeliverable; returns how many."""
    kind = doc.get("notificationType") or doc.get("eventType")
    marked = 0
    if kind == "Bounce":
        bounce = doc.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return 0
        for r in bounce.get("bouncedRecipients") or []:
            if r.get("emailAddress"):
                mail.mark_undeliverable(r["emailAddress"], "bounce", bounce.get("bounceSubType"))
                marked += 1
    elif kind == "Complaint":
        complaint = doc.get("complaint") or {}
        for r in complaint.get("complainedRecipients") or []:
            if r.get("emailAddress"):
                mail.mark_undeliverable(
                    r["emailAddress"], "complaint", complaint.get("complaintFeedbackType")
                )
                marked += 1
    logger.info("ses feedback", extra={"kind": kind, "marked": marked})
    return marked
