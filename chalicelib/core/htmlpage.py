"""The HTML pages the API serves to people who have no account (a patient's appointment and
budget links, a lab's case link): escaping, and the headers every such page carries.

Each page is a signed link's target, so it is never cached, never indexed, never framed
(unless the page names who may frame it), and sends no referrer (the token is in its URL). Its
Content-Security-Policy allows nothing but inline styles, the page's own forms, images from
``img`` and, when the page has a script, that script by its nonce and fetches to ``connect``.
"""

from __future__ import annotations

import html
from typing import Any

from chalice import Response


def esc(value: Any) -> str:
    """Text for HTML, attribute values included (``None`` is empty)."""
    return html.escape(str(value if value is not None else ""), quote=True)


def csp(
    *,
    nonce: str = "",
    img: str = "data:",
    connect: str | None = None,
    frame_ancestors: str = "'none'",
) -> str:
    directives = [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        f"img-src {img}",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
        "base-uri 'none'",
    ]
    if connect is not None:
        directives.append(f"connect-src 'self' {connect}".strip())
    if nonce:
        directives.append(f"script-src 'nonce-{nonce}'")
    return "; ".join(directives)


def response(
    doc: str,
    *,
    status: int = 200,
    nonce: str = "",
    img: str = "data:",
    connect: str | None = None,
    frame_ancestors: str = "'none'",
) -> Response:
    """``frame_ancestors``: the sites allowed to frame the page (the online booking page names
    the clinic's own website); X-Frame-Options DENY is sent only when none is."""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex, nofollow",
        "Content-Security-Policy": csp(
            nonce=nonce, img=img, connect=connect, frame_ancestors=frame_ancestors
        ),
    }
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    return Response(body=doc, status_code=status, headers=headers)
