"""Powertools Logger, Tracer and Metrics, shared by the API and every function.

Log lines carry ``clinic_id`` and ``correlation_id`` (appended per request, with the logger's
thread-safe keys: the local server serves requests on threads of one process); callers must
never pass PHI, passwords or tokens to the logger.

The Tracer is built on first use, and never while tracing is off: building one imports the
X-Ray SDK and makes its recorder even when tracing is disabled, which cost every cold start of
the API (issue 23) for nothing locally and in the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "cuspide"
NAMESPACE = "Cuspide"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def tracing_enabled() -> bool:
    """Powertools' own rule (``Tracer._is_tracer_disabled``): on in Lambda unless
    ``POWERTOOLS_TRACE_DISABLED`` says otherwise; off under SAM local, ``chalice local`` and
    anywhere outside Lambda (the local stack, the tests)."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    if os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV):
        return False
    return bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))


@cache
def get_tracer() -> Tracer:
    """The shared Tracer, built (and the X-Ray SDK imported, its clients patched) once."""
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - see the module docstring

    return Tracer(service=SERVICE)


@contextmanager
def request_segment(route: str) -> Iterator[None]:
    """An X-Ray subsegment around one API request, annotated with its route; nothing at all
    while tracing is off."""
    if not tracing_enabled():
        yield
        return
    with get_tracer().provider.in_subsegment("## request") as subsegment:
        subsegment.put_annotation("route", route)
        yield


def __getattr__(name: str) -> Any:
    # ``observability.tracer`` still names the shared Tracer, built when first read.
    if name == "tracer":
        return get_tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def record_request(status_code: int) -> None:
    """Count one API request and its status class, in a buffer of its own: the shared Metrics
    buffer would mix (or flush) the metrics of requests served at the same time."""
    request_metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    request_metrics.add_metric(name="Requests", unit="Count", value=1)
    request_metrics.add_metric(name=f"Status{status_code // 100}xx", unit="Count", value=1)
    request_metrics.flush_metrics()
