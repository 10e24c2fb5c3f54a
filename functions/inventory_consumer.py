"""Inventory consumer: ``treatment.completed`` (SQS, fed by the bus rule) -> the materials the
treatment's catalog entry lists are consumed from stock.
Partial batch responses: a record that fails is reported and retried alone (then the DLQ).
Idempotent on the treatment: its consumption movements are keyed by the completed item.
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.inventory import consumption

consumer = EventConsumer(
    "inventory event", lambda _kind, detail, _r: consumption.on_treatment_completed(detail)
)
record_handler, handler = consumer.record_handler, consumer.handler
