"""Cúspide API: wires the routers, the middleware and the principal resolver. No logic here."""

from __future__ import annotations

from typing import Any

from chalicelib.agenda.routes import router as agenda_router
from chalicelib.audit.routes import router as audit_router
from chalicelib.billing.routes import router as billing_router
from chalicelib.bridge.routes import router as bridge_router
from chalicelib.comms.routes import router as comms_router
from chalicelib.core import api
from chalicelib.core.observability import logger, record_request, request_segment
from chalicelib.identity import sessions
from chalicelib.identity.routes import router as identity_router
from chalicelib.imaging.routes import router as imaging_router
from chalicelib.live.routes import router as live_router
from chalicelib.patients.routes import router as patients_router
from chalicelib.system.routes import publish_routers
from chalicelib.system.routes import router as system_router
from chalicelib.timeline.routes import router as timeline_router
from chalicelib.verifactu.routes import router as verifactu_router

# Logging is Powertools' (observability.py): Chalice must not configure the shared "cuspide"
# logger, or it sets it to ERROR whenever its stdout check misses the Powertools handler.
# api.App keeps each request's state per thread (the local server serves requests on threads).
app = api.App(app_name="cuspide", configure_logs=False)
app.log = logger  # type: ignore[assignment]

ROUTERS = [
    system_router,
    identity_router,
    audit_router,
    patients_router,
    imaging_router,
    agenda_router,
    timeline_router,
    billing_router,
    verifactu_router,
    comms_router,
    bridge_router,
    live_router,
]
for router in ROUTERS:
    app.register_blueprint(router.blueprint, url_prefix="/api/v1")
publish_routers(ROUTERS)
api.set_principal_resolver(sessions.resolve_principal)

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
