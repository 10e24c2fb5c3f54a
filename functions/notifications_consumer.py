"""Notifications consumer: appointment events (EventBridge -> SQS) -> reminders planned and
notices sent (email with ICS, or WhatsApp). Partial batch responses; idempotent on event_id.
See ``chalicelib/comms/notifications.py``."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.comms import notifications
from chalicelib.core import scoping
from chalicelib.core.observability import logger

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    logger.thread_safe_append_keys(clinic_id=detail.get("clinic_id"))
    try:
        with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
            outcome = notifications.handle_event(str(event.get("detail-type") or ""), detail)
        logger.info("event handled", extra={"event_id": detail.get("event_id"), "outcome": outcome})
        return outcome
    finally:
        logger.thread_safe_remove_keys(["clinic_id"])


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
