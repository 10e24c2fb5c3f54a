"""The staff app's security headers, one definition for CloudFront (``infra/stack.py``) and the
local server (``infra/local/server.py``), so that the app is tried locally under the policy it
gets in production.

Scripts only from the app's own origin (no ``unsafe-inline``: Vite's build has no inline script),
never framed (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older browsers).
Styles keep ``unsafe-inline``: PrimeVue positions overlays with inline ``style`` attributes,
which a nonce cannot cover. Images and uploads go straight to S3 with presigned URLs, and the
live notifications open a WebSocket on their own API Gateway domain, so those origins are named.
A patient's PDF documents open in the browser's own viewer in a frame of their presigned S3 URL,
so ``frame-src`` names the same S3 origins as ``img-src``, and ``blob:`` for the PDFs the API
renders (a receipt, an invoice) fetched with the session's token and shown from memory (and
nothing else; ``object-src`` stays ``'none'``).
"""

from __future__ import annotations

from collections.abc import Iterable


def spa_csp(*, connect: Iterable[str] = (), images: Iterable[str] = ()) -> str:
    extra_connect = "".join(f" {o}" for o in connect)
    extra_images = "".join(f" {o}" for o in images)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{extra_images}; "
        f"frame-src 'self' blob:{extra_images}; "
        f"connect-src 'self'{extra_connect}; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )


# S3 presigned URLs, on the deployed stack (the WebSocket origin is added by the stack).
AWS_ORIGINS = ("https://*.amazonaws.com",)


def local_spa_headers(*, s3_endpoint: str | None, live_url: str | None) -> dict[str, str]:
    """What the local server adds to every SPA answer: the deployed policy, with the local
    stand-ins' origins (moto's S3 endpoint, the live socket on the server's own port) in place
    of AWS's. No HSTS: the local stack speaks plain HTTP."""
    s3 = [s3_endpoint] if s3_endpoint else []
    live = [live_url.rsplit("/", 1)[0]] if live_url else []
    return {
        "Content-Security-Policy": spa_csp(connect=[*s3, *live], images=s3),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
