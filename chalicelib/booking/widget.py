"""The booking widget: a small script a clinic pastes into its own website
(``<script src=".../public/booking/<clinic_id>/widget.js" async></script>``). It inserts a
"Book an appointment" button after itself; on a site the clinic listed in its settings
(``embed_origins``, which the page's CSP ``frame-ancestors`` allows) the button opens the
booking page in an accessible dialog with an iframe, anywhere else in a new tab (ADR 1403).
"""

from __future__ import annotations

import json
from pathlib import Path

from chalice import Response

from chalicelib.booking import abuse, service
from chalicelib.booking.invites import booking_page_url
from chalicelib.core import scoping
from chalicelib.core.errors import TooManyRequests

SCRIPT = (Path(__file__).parent / "static" / "widget.js").read_text()


def _js(body: str, status: int = 200, extra: dict[str, str] | None = None) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            **(extra or {}),
        },
    )


def script(clinic_id: str, ip: str | None) -> Response:
    try:
        abuse.limit("view-ip", ip or "")
    except TooManyRequests as exc:
        return _js("/* too many requests */", 429, {"Retry-After": str(exc.retry_after)})
    if not scoping.is_plain_id(clinic_id):
        return _js("/* unknown clinic */", 404)
    scoping.adopt(clinic_id)
    try:
        ctx = service.context(clinic_id)
    except service.Closed as exc:
        # The clinic's website stays intact: no button while booking is off.
        return _js(f"/* online booking {exc.reason} */", 404 if exc.reason == "unknown" else 200)
    b = ctx.clinic.branding or {}
    colour = b.get("color") or b.get("colour") or "#0f766e"
    body = (
        SCRIPT.replace("__URL__", json.dumps(booking_page_url(clinic_id)))
        .replace("__ORIGINS__", json.dumps(list(ctx.settings.embed_origins or [])))
        .replace("__LABELS__", json.dumps({"es": "Pedir cita", "en": "Book an appointment"}))
        .replace("__COLOUR__", json.dumps(colour if isinstance(colour, str) else "#0f766e"))
    )
    return _js(body)
