"""Live push: the clinic's domain events (EventBridge rule -> the ``live`` SQS queue) -> its
open WebSocket connections, through API Gateway's Management API (``post_to_connection``).
Partial batch responses; idempotent on ``event_id`` (a redelivery sends nothing twice).

``expire`` is the ``live-expiry`` schedule: ``live.expiring`` before a connection's access
token expires, and the connection closed by then (docs/adr/1101-live-notifications.md).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core import scoping
from chalicelib.core.observability import logger
from chalicelib.live import service

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    logger.thread_safe_append_keys(clinic_id=detail.get("clinic_id"))
    try:
        with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
            outcome = service.push(event)
        logger.debug(
            "live event",
            extra={
                "event_type": event.get("detail-type"),
                "event_id": detail.get("event_id"),
                "outcome": outcome,
            },
        )
        return outcome
    finally:
        logger.thread_safe_remove_keys(["clinic_id"])


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with service.batch():  # each clinic's connections read once per batch
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )


@logger.inject_lambda_context(clear_state=True)
def expire(event: dict[str, Any], context: Any) -> dict[str, int]:
    return service.expire()
