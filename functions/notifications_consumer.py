"""Notifications consumer: appointment events (EventBridge -> SQS) -> reminders planned and
notices sent (email with ICS, or WhatsApp). Partial batch responses; idempotent on event_id.
See ``chalicelib/comms/notifications.py``."""

from __future__ import annotations

from chalicelib.comms import notifications
from chalicelib.core.consumers import EventConsumer

consumer = EventConsumer(
    "event handled", lambda kind, detail, _r: notifications.handle_event(kind, detail)
)
record_handler, handler = consumer.record_handler, consumer.handler
