"""GDPR erasure worker: ``gdpr.erasure_requested`` (SQS, fed by the bus rule) -> the patient's
data erased or kept blocked, per kind, and the erasure's report (chalicelib/gdpr, ADR 1405).

Partial batch responses, batch size 1. Idempotent and resumable: the erasure is claimed with
a lease owned by the SQS message id and every step is recorded as it finishes, so a
redelivered message does nothing twice and an interrupted run resumes where it stopped.
Logs ids and outcomes only, never a name or contact detail.
"""

from __future__ import annotations

from chalicelib.core.consumers import EventConsumer
from chalicelib.gdpr import erasure

consumer = EventConsumer(
    "gdpr erasure",
    lambda _kind, d, record: erasure.run(d["clinic_id"], d["patient_id"], record.message_id),
    log_keys=("erasure_id",),
)
record_handler, handler = consumer.record_handler, consumer.handler
