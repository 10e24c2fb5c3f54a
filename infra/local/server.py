"""The local HTTP front door: ``/api/*`` to the Chalice app (through Chalice's own
LocalGateway, which builds the same Lambda proxy events API Gateway does), everything else to
the built SPA (``frontend/dist``), with the SPA fallback to ``index.html``; the live-notifications
WebSocket (``/live``) and the stand-in of its Management API (``/_live``) are served by
``infra/local/live.py``, as API Gateway serves them on AWS.

API Gateway answers 403 "Missing Authentication Token" for a path no route matches; the
deployed stack maps that to 404 (a gateway response in infra/stack.py) and this server does the
same, in the API's envelope.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hmac
import json
import mimetypes
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from chalice.config import Config
from chalice.local import ForbiddenError, LocalGateway, NotAuthorizedError

from infra.headers import local_spa_headers
from infra.local.live import LiveHub
from infra.resources import LiveSocket

ROOT = Path(__file__).resolve().parents[2]
SPA_DIR = ROOT / "frontend" / "dist"

PLACEHOLDER = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Cúspide</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>Cúspide</h1><p>The API is running at <a href="/api/v1/health">/api/v1</a>
(<a href="/api/v1/openapi.json">OpenAPI</a>). The staff app has not been built yet:
<code>make run</code> builds it when <code>frontend/</code> has one.</p></body></html>"""


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


KEY_COOKIE = "cuspide_local_key"


@dataclass(frozen=True)
class Private:
    """Local-only pages under ``prefix`` (the developer outbox shows invitation and password
    links) open only with the key the runner printed: ``?key=...`` once, then a cookie
    scoped to ``prefix``. Anyone else on the machine, or a web page the developer visits,
    gets 403."""

    prefix: str
    key: str

    def covers(self, path: str) -> bool:
        bare = path.split("?")[0]
        return bare == self.prefix or bare.startswith(self.prefix + "/")

    def check(self, path: str, cookie_header: str | None) -> tuple[bool, dict[str, str]]:
        """(allowed, headers to add): a valid ``?key=`` also sets the cookie."""
        query = parse_qs(path.partition("?")[2])
        given = (query.get("key") or [""])[0]
        if given and hmac.compare_digest(given.encode(), self.key.encode()):
            cookie = f"{KEY_COOKIE}={self.key}; Path={self.prefix}; HttpOnly; SameSite=Strict"
            return True, {"Set-Cookie": cookie}
        try:
            jar = SimpleCookie(cookie_header or "")
        except CookieError:
            return False, {}
        sent = jar[KEY_COOKIE].value if KEY_COOKIE in jar else ""
        return bool(sent) and hmac.compare_digest(sent.encode(), self.key.encode()), {}

    def refused(self) -> HttpResponse:
        text = (
            f"{self.prefix} is private to whoever runs the stack: open the link that "
            "`make run` printed (it carries ?key=...)."
        )
        return HttpResponse(403, {"Content-Type": "text/plain; charset=utf-8"}, text.encode())


def _not_found(path: str) -> HttpResponse:
    body = {
        "data": None,
        "message": f"No API route matches {path.split('?')[0]}.",
        "code": "NOT_FOUND",
        "errors": [],
    }
    return HttpResponse(404, {"Content-Type": "application/json"}, json.dumps(body).encode())


def make_gateway(app: Any) -> LocalGateway:
    config = Config.create(
        chalice_stage="local", app_name="cuspide", lambda_timeout=29, lambda_memory_size=512
    )
    return LocalGateway(app, config)


def dispatch_api(
    gateway: LocalGateway,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
) -> HttpResponse:
    try:
        resp = gateway.handle_request(method=method, path=path, headers=headers, body=body)
    except (ForbiddenError, NotAuthorizedError):
        return _not_found(path)
    raw = resp.get("body") or b""
    if resp.get("isBase64Encoded"):
        data = base64.b64decode(raw)
    else:
        data = raw.encode() if isinstance(raw, str) else raw
    out_headers = dict(resp.get("headers") or {})
    for k, vs in (resp.get("multiValueHeaders") or {}).items():
        out_headers[k] = ", ".join(vs)
    return HttpResponse(int(resp["statusCode"]), out_headers, data)


# What CloudFront compresses (text types; images and fonts are compressed already).
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@functools.lru_cache(maxsize=256)
def _gzipped(target: Path, mtime_ns: int) -> bytes:
    """The file gzipped once per version (the mtime keys the cache: a rebuild is seen)."""
    return gzip.compress(target.read_bytes(), compresslevel=6, mtime=0)


def serve_static(path: str, accept_encoding: str = "") -> HttpResponse:
    """A file of the built SPA, gzipped when the browser accepts it, as CloudFront serves it
    (the distribution's behaviours compress; infra/stack.py)."""
    rel = path.split("?")[0].lstrip("/") or "index.html"
    headers = local_spa_headers(
        s3_endpoint=os.environ.get("AWS_ENDPOINT_URL"), live_url=os.environ.get("LIVE_URL")
    )
    if not SPA_DIR.is_dir():
        return HttpResponse(
            200, {**headers, "Content-Type": "text/html; charset=utf-8"}, PLACEHOLDER.encode()
        )
    target = (SPA_DIR / rel).resolve()
    if not target.is_relative_to(SPA_DIR.resolve()) or not target.is_file():
        target = SPA_DIR / "index.html"  # SPA fallback
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    cache = "no-cache" if target.name == "index.html" else "public, max-age=31536000, immutable"
    headers.update({"Content-Type": ctype, "Cache-Control": cache, "Vary": "Accept-Encoding"})
    if ctype.startswith(COMPRESSIBLE) and "gzip" in accept_encoding.lower():
        data = _gzipped(target, target.stat().st_mtime_ns)
        return HttpResponse(200, {**headers, "Content-Encoding": "gzip"}, data)
    return HttpResponse(200, headers, target.read_bytes())


class _Handler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    extra_routes: dict[str, Callable[[str, bytes], HttpResponse]] = {}
    private: tuple[Private, ...] = ()
    live: LiveHub | None = None
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the app logs each request itself (without PHI)

    def _websocket(self) -> bool:
        """A WebSocket handshake on the live path: served to its end on this thread."""
        live = self.live
        if live is None or self.command != "GET" or self.path.split("?")[0] != live.spec.local_path:
            return False
        if "websocket" not in (self.headers.get("Upgrade") or "").lower():
            return False
        self.close_connection = True
        live.serve(self.requestline, list(self.headers.items()), self.rfile, self.connection)
        return True

    def _handle(self) -> None:
        if self._websocket():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = self.path
        guard = next((p for p in self.private if p.covers(path)), None)
        allowed, extra_headers = (
            guard.check(path, self.headers.get("Cookie")) if guard else (True, {})
        )
        if guard is not None and not allowed:
            resp = guard.refused()
        elif self.live is not None and self.live.covers(path):
            status, headers, data = self.live.manage(
                self.command, path, dict(self.headers.items()), body or b""
            )
            resp = HttpResponse(status, headers, data)
        elif path.startswith("/api/"):
            headers = {k: v for k, v in self.headers.items()}
            resp = dispatch_api(self.gateway, self.command, path, headers, body)
        elif path.split("?")[0] in self.extra_routes:
            resp = self.extra_routes[path.split("?")[0]](self.command, body or b"")
        elif self.command in ("GET", "HEAD"):
            resp = serve_static(path, self.headers.get("Accept-Encoding") or "")
        else:
            resp = HttpResponse(405, {"Content-Type": "text/plain"}, b"Method not allowed")
        self.send_response(resp.status)
        for k, v in {**resp.headers, **extra_headers}.items():
            if k.lower() not in ("content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def start(
    app: Any,
    host: str,
    port: int,
    extra_routes: dict[str, Callable[[str, bytes], HttpResponse]] | None = None,
    private: tuple[Private, ...] = (),
    live: LiveSocket | None = None,
) -> ThreadingHTTPServer:
    """Serve on ``host:port``. ``live`` (the WebSocket API of infra/resources.py, by default)
    is served on the same port; ``LIVE_URL`` (what tickets point at) and ``LIVE_MANAGEMENT_URL``
    (where functions/live_push.py posts) are set to it: always this server's own port, never a
    value inherited from the environment of whoever started it (another local stack's)."""
    spec = live or LiveSocket()
    os.environ["LIVE_URL"] = f"ws://{host}:{port}{spec.local_path}"
    os.environ["LIVE_MANAGEMENT_URL"] = f"http://{host}:{port}{spec.local_management_path}"
    handler = type(
        "Handler",
        (_Handler,),
        {
            "gateway": make_gateway(app),
            "extra_routes": extra_routes or {},
            "private": private,
            "live": LiveHub(spec, domain=f"{host}:{port}"),
        },
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
