"""Cúspide API: wires the routers, the middleware and the principal resolver. No logic here."""

from __future__ import annotations

from typing import Any

from chalicelib.core import api, route_table
from chalicelib.core.observability import logger, record_request, request_segment

# Logging is Powertools' (observability.py): Chalice must not configure the shared "cuspide"
# logger, or it sets it to ERROR whenever its stdout check misses the Powertools handler.
# api.App keeps each request's state per thread (the local server serves requests on threads).
app = api.App(app_name="cuspide", configure_logs=False)
app.log = logger  # type: ignore[assignment]

# Every route, from the route table: a module's routes, schemas and services are imported the
# first time one of its routes is called, not on every cold start (ADR 0017).
route_table.register(app)


def _resolve_principal(token: str, ip: str | None, user_agent: str | None) -> Any:
    from chalicelib.identity import sessions  # its models and hashing: on the first signed call

    return sessions.resolve_principal(token, ip, user_agent)


api.set_principal_resolver(_resolve_principal)


def __getattr__(name: str) -> Any:
    # ``app.ROUTERS``: every module's router, imported (the OpenAPI document, tests, bench).
    if name == "ROUTERS":
        return route_table.load_routers()
    raise AttributeError(name)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@app.middleware("http")
def observe(event: Any, get_response: Any) -> Any:
    """Correlation id, structured request log, metrics and security headers."""
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    ctx = event.context or {}
    correlation_id = headers.get("x-correlation-id") or ctx.get("requestId") or "local"
    # Per-request keys live in the request's own context, never on the shared logger.
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(correlation_id=correlation_id[:64])
    with request_segment(str(ctx.get("resourcePath"))):
        response = api.framework_error_in_envelope(event.headers, get_response(event))
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    response.headers["X-Correlation-Id"] = correlation_id[:64]
    logger.info(
        "request",
        extra={
            "method": event.method,
            "route": ctx.get("resourcePath"),
            "status": response.status_code,
        },
    )
    record_request(response.status_code)
    return response
