"""SES bounce and complaint notifications -> the address is marked undeliverable.

In the cloud SES publishes them to EventBridge (SES event publishing) or SNS, either feeding the
``ses-feedback`` queue; the body may be an SNS envelope, raw SES JSON or an EventBridge event.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.comms import notifications
from chalicelib.core.observability import logger

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> int:
    return sum(
        notifications.handle_ses_feedback(d) for d in notifications.ses_notifications(record.body)
    )  # noqa: E501


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
