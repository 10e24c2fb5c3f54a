"""GDPR erasure worker: ``gdpr.erasure_requested`` (SQS, fed by the bus rule) -> the patient's
data erased or kept blocked, per kind, and the erasure's report (chalicelib/gdpr, ADR 1405).

Partial batch responses, batch size 1. Idempotent and resumable: the erasure is claimed with
a lease owned by the SQS message id and every step is recorded as it finishes, so a
redelivered message does nothing twice and an interrupted run resumes where it stopped.
Logs ids and outcomes only, never a name or contact detail.
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
from chalicelib.gdpr import erasure

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    event = json.loads(record.body)
    detail = event.get("detail") or {}
    with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
        outcome = erasure.run(detail["clinic_id"], detail["patient_id"], record.message_id)
    logger.info(
        "gdpr erasure",
        extra={
            "event_id": detail.get("event_id"),
            "erasure_id": detail.get("erasure_id"),
            "outcome": outcome,
        },
    )
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
