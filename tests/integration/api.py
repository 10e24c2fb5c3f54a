"""A small client for the API, going through the same dispatch as the local server."""

from __future__ import annotations

import itertools
import json
from typing import Any

from infra.local.server import HttpResponse, dispatch_api, make_gateway

_ips = itertools.count(1)


def fresh_ip() -> str:
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class Api:
    def __init__(self, app: Any) -> None:
        self.gateway = make_gateway(app)
        self.ip = fresh_ip()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        ip: str | None = None,
    ) -> HttpResponse:
        h = {
            "Content-Type": "application/json",
            "X-Forwarded-For": ip or self.ip,
            "User-Agent": "pytest",
        }
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        url = path if path.startswith("/api/") else "/api/v1" + path
        return dispatch_api(self.gateway, method, url, h, data)

    def get(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> HttpResponse:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> HttpResponse:
        return self.request("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> HttpResponse:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> HttpResponse:
        return self.request("DELETE", path, **kw)
