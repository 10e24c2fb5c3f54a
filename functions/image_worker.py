"""Image worker: S3 ``Object Created`` (EventBridge -> SQS) for uploaded originals ->
renditions, a ready/failed record, an audit entry and ``image.processed``.

Thin handler: partial batch responses (Powertools BatchProcessor). A record whose processing
raised (only transient AWS errors do) is reported in ``batchItemFailures`` and retried; bad
files are marked ``failed`` by the worker and count as processed. See
``chalicelib/imaging/worker.py``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.observability import logger
from chalicelib.imaging import worker

# Report failures item by item even when every record of the batch failed (batch size 1).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    upload = worker.parse(record.body)
    if upload is None:
        logger.warning("not an upload original; ignored", extra={"message_id": record.message_id})
        return "ignored"
    logger.thread_safe_append_keys(clinic_id=upload.clinic_id)
    try:
        return worker.process(upload, record.message_id)
    finally:
        logger.thread_safe_remove_keys(["clinic_id"])


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
