"""Recalls consumer: completed treatments, finished orthodontic cases, appointments and budgets
(SQS, fed by the bus rule) -> each patient's recalls and the front desk's follow-ups.

Partial batch responses: a record that fails is reported and retried alone (then the DLQ).
Idempotent and order-proof: the handlers write what the records' current state implies
(chalicelib/recalls/consumer.py, ADR 1404).
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.recalls import consumer as recalls

consumer = EventConsumer("recalls event", lambda kind, detail, _r: recalls.handle(kind, detail))
record_handler, handler = consumer.record_handler, consumer.handler
