"""The live-notifications WebSocket API's handler (API Gateway WebSocket, Lambda proxy):

- ``$connect`` with ``?ticket=<ticket>`` (from ``POST /api/v1/live/tickets``): consumes the
  ticket and stores the connection under its clinic; any other ticket is refused (401) and
  API Gateway closes the handshake. ``live.ready`` follows a second later (no message can be
  sent during ``$connect``).
- ``$disconnect``: forgets the connection.
- ``$default``: a ``ping`` (plain or ``{"type": "ping"}``) is answered ``{"type": "pong"}``
  (the route's response); anything else is ignored. Clients send nothing else.

The local server (``infra/local/live.py``) calls this same handler with the same events.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import scoping
from chalicelib.core.observability import logger
from chalicelib.live import service

PONG = json.dumps({"type": "pong"})


def _is_ping(body: str | None) -> bool:
    text = (body or "").strip()
    if text == "ping":
        return True
    try:
        msg = json.loads(text)
    except ValueError:
        return False
    return isinstance(msg, dict) and "ping" in (msg.get("type"), msg.get("action"))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The ticket or the connection names the clinic; from there the work runs with that
    # clinic's credentials (scoping.adopt in the service), and the scope ends here (ADR 0012).
    with scoping.adoptable():
        return _handle(event)


def _handle(event: dict[str, Any]) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    route, connection_id = ctx.get("routeKey"), str(ctx.get("connectionId") or "")
    if route == "$connect":
        ticket = (event.get("queryStringParameters") or {}).get("ticket") or ""
        try:
            conn = service.connect(connection_id, ticket)
        except service.TicketRefused:
            logger.info("live ticket refused")
            return {"statusCode": 401, "body": "ticket refused"}
        service.announce_ready(conn)
        return {"statusCode": 200}
    if route == "$disconnect":
        service.disconnect(connection_id)
        return {"statusCode": 200}
    if _is_ping(event.get("body")):
        return {"statusCode": 200, "body": PONG}
    return {"statusCode": 200}
