"""Live push: the clinic's domain events (EventBridge rule -> the ``live`` SQS queue) -> its
open WebSocket connections, through API Gateway's Management API (``post_to_connection``).
Partial batch responses; idempotent on ``event_id`` (a redelivery sends nothing twice).

``expire`` is the ``live-expiry`` schedule: ``live.expiring`` before a connection's access
token expires, and the connection closed by then (docs/adr/1101-live-notifications.md).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.consumers import EventConsumer
from chalicelib.core.observability import logger
from chalicelib.live import service

consumer = EventConsumer(
    "live event",
    lambda _kind, _detail, record: service.push(json.loads(record.body)),
    quiet=True,
    around_batch=service.batch,  # each clinic's connections read once per batch
)
record_handler, handler = consumer.record_handler, consumer.handler


@logger.inject_lambda_context(clear_state=True)
def expire(event: dict[str, Any], context: Any) -> dict[str, int]:
    return service.expire()
