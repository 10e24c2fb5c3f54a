"""Powertools Logger, Tracer and Metrics, shared by the API and every function.

Log lines carry ``clinic_id`` and ``correlation_id`` (appended per request, with the logger's
thread-safe keys: the local server serves requests on threads of one process); callers must
never pass PHI, passwords or tokens to the logger.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics

SERVICE = "cuspide"
NAMESPACE = "Cuspide"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def record_request(status_code: int) -> None:
    """Count one API request and its status class, in a buffer of its own: the shared Metrics
    buffer would mix (or flush) the metrics of requests served at the same time."""
    request_metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    request_metrics.add_metric(name="Requests", unit="Count", value=1)
    request_metrics.add_metric(name=f"Status{status_code // 100}xx", unit="Count", value=1)
    request_metrics.flush_metrics()
