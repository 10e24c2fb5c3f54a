"""GDPR export worker: ``gdpr.export_requested`` (SQS, fed by the bus rule) -> the patient's
data as a ZIP in S3, the export marked ``ready`` or ``failed`` (chalicelib/gdpr, ADR 1401).

Partial batch responses (batch size 1: an export can take minutes). Idempotent: a redelivered
message finds the export claimed or finished and builds nothing twice.
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.gdpr import worker

consumer = EventConsumer(
    "gdpr export",
    lambda _kind, detail, record: worker.on_requested(detail, record.message_id),
    log_keys=("export_id",),
)
record_handler, handler = consumer.record_handler, consumer.handler
