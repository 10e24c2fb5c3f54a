"""Reports consumer: the domain events that move a figure (SQS, fed by the bus rule) -> the
per-day figures of the clinic (chalicelib/reports).

Partial batch responses: a record that fails is reported and retried alone (then the DLQ).
Idempotent: a redelivered event changes no figure.
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.reports import consumer as figures

consumer = EventConsumer("reports event", lambda kind, detail, _r: figures.on_event(kind, detail))
record_handler, handler = consumer.record_handler, consumer.handler
