"""Timeline consumer: domain events (SQS, fed by the bus rule) -> each patient's timeline.
Partial batch responses: a record that fails is reported and retried alone (then the DLQ).
Idempotent on event_id: the entry's key comes from the event, written with a conditional put.
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.timeline import service

consumer = EventConsumer("timeline event", lambda kind, detail, _r: service.record(kind, detail))
record_handler, handler = consumer.record_handler, consumer.handler
