"""Recalls consumer: completed treatments, finished orthodontic cases, appointments and budgets
(SQS, fed by the bus rule) -> each patient's recalls and the front desk's follow-ups.

Partial batch responses: a record that fails is reported and retried alone (then the DLQ).
Idempotent and order-proof: the handlers write what the records' current state implies
(chalicelib/recalls/consumer.py, ADR 1404).
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
from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib.core import scoping
from chalicelib.core.observability import logger
from chalicelib.recalls import consumer

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
        outcome = consumer.handle(str(event.get("detail-type") or ""), detail)
    logger.info(
        "recalls event",
        extra={
            "event_type": event.get("detail-type"),
            "event_id": detail.get("event_id"),
            "outcome": outcome,
        },
    )
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
