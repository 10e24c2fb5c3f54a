"""GDPR export worker: ``gdpr.export_requested`` (SQS, fed by the bus rule) -> the patient's
data as a ZIP in S3, the export marked ``ready`` or ``failed`` (chalicelib/gdpr, ADR 1401).

Partial batch responses (batch size 1: an export can take minutes). Idempotent: a redelivered
message finds the export claimed or finished and builds nothing twice.
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
from chalicelib.gdpr import worker

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
        outcome = worker.on_requested(detail, record.message_id)
    logger.info(
        "gdpr export",
        extra={
            "event_type": event.get("detail-type"),
            "event_id": detail.get("event_id"),
            "export_id": detail.get("export_id"),
            "outcome": outcome,
        },
    )
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
