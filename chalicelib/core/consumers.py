"""Domain-event queue consumers: the shape every ``functions/*`` event consumer shares.

A consumer's SQS queue is fed by a bus rule, so each record's body is an EventBridge event.
For each record: the event's clinic's scoped credentials (ADR 0012) and its id on the log
lines, one call to the module's handler with ``(detail-type, detail, record)``, and one log
line with the event's type, id and outcome plus the detail keys the consumer names (ids only,
never PHI). Partial batch responses (Powertools ``BatchProcessor``), reported record by record
even when the whole batch failed: a failing record is retried alone, then goes to the DLQ.
The handlers are idempotent, because delivery is at least once.

    consumer = EventConsumer("reports event", lambda kind, detail, _r: figures(kind, detail))
    record_handler, handler = consumer.record_handler, consumer.handler
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core import scoping
from chalicelib.core.observability import logger

Handle = Callable[[str, dict[str, Any], SQSRecord], str]


class EventConsumer:
    def __init__(
        self,
        name: str,
        handle: Handle,
        *,
        log_keys: Sequence[str] = (),
        quiet: bool = False,
        around_batch: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        self.name = name
        self.handle = handle
        self.log_keys = tuple(log_keys)
        self.quiet = quiet  # log at debug level (a consumer that sees every event)
        self.around_batch = around_batch
        self.processor = BatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False
        )
        self.handler = logger.inject_lambda_context(clear_state=True)(self._handle_batch)

    def record_handler(self, record: SQSRecord) -> str:
        event = json.loads(record.body)
        detail = event.get("detail") or {}
        kind = str(event.get("detail-type") or "")
        logger.thread_safe_append_keys(clinic_id=detail.get("clinic_id"))
        try:
            with scoping.for_event(detail):  # the event's clinic's credentials (ADR 0012)
                outcome = self.handle(kind, detail, record)
            extra = {"event_type": kind, "event_id": detail.get("event_id"), "outcome": outcome}
            extra |= {key: detail.get(key) for key in self.log_keys}
            (logger.debug if self.quiet else logger.info)(self.name, extra=extra)
            return outcome
        finally:
            logger.thread_safe_remove_keys(["clinic_id"])

    def _handle_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.around_batch():
            return process_partial_response(
                event=event,
                record_handler=self.record_handler,
                processor=self.processor,
                context=context,
            )
