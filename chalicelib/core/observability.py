"""Powertools Logger, Tracer and Metrics, shared by the API and every function.

Log lines carry ``clinic_id`` and ``correlation_id`` (appended per request); callers must never
pass PHI, passwords or tokens to the logger.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "cuspide"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Cuspide", service=SERVICE)
