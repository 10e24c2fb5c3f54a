"""Routes: tickets that open a live-notifications WebSocket."""

from __future__ import annotations

from chalicelib.core.api import AUTHENTICATED, Req, Router
from chalicelib.live import schemas, service

router = Router("live")


@router.route(
    "/live/tickets",
    "POST",
    permission=AUTHENTICATED,
    response=schemas.TicketOut,
    status=201,
    summary="A single-use, 60-second ticket that opens the clinic's live-notifications "
    "WebSocket (never the access token in a URL)",
)
def create_ticket(req: Req) -> schemas.TicketOut:
    token = req.headers.get("authorization", "").partition(" ")[2].strip()
    return service.issue_ticket(req.user, token)
