"""The staff app, as the local server serves it, carries the security headers CloudFront adds
in production (one definition: infra/headers.py), and the built app runs under them: no inline
script that ``script-src 'self'`` would block."""

from __future__ import annotations

import gzip
import os
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import requests

from infra.local import server
from tests.conftest import free_port


@pytest.fixture(scope="module")
def base(app: Any) -> Any:
    port = free_port()
    srv = server.start(app, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    srv.shutdown()


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}


@pytest.mark.parametrize("path", ["/", "/patients/123", "/inbox"])
def test_spa_pages_carry_the_deployed_security_headers(base: str, path: str) -> None:
    r = requests.get(base + path, timeout=10)
    assert r.status_code == 200
    csp = _directives(r.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # the local stand-ins the app talks to: moto's S3 (images, uploads) and the live socket
    port = base.rsplit(":", 1)[1]
    assert f"ws://127.0.0.1:{port}" in csp["connect-src"]
    s3 = os.environ["AWS_ENDPOINT_URL"]
    assert s3 in csp["connect-src"] and s3 in csp["img-src"]
    # a document's PDF in the browser's viewer; a PDF the API rendered, from memory
    assert csp["frame-src"] == ["'self'", "blob:", s3]


def test_assets_carry_them_too(base: str) -> None:
    index = requests.get(base + "/", timeout=10).text
    src = re.search(r'<script[^>]+src="([^"]+)"', index)
    if src is None:  # the SPA is not built: the placeholder page is served, with the headers
        assert "Cúspide" in index
        return
    r = requests.get(base + src.group(1), timeout=10)
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._open: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.handlers += [k for k in names if k.startswith("on")]
        self._open = tag == "script" and not names.get("src")

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(data.strip()[:60])

    def handle_endtag(self, tag: str) -> None:
        self._open = False


def test_the_app_has_no_inline_script_the_policy_would_block(base: str) -> None:
    parser = _Scripts()
    parser.feed(requests.get(base + "/", timeout=10).text)
    assert parser.inline == [] and parser.handlers == []


def test_bundles_are_served_compressed_like_cloudfront_serves_them(base: str) -> None:
    index = requests.get(base + "/", timeout=10, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in index.headers
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', index.text)
    if not assets:  # the SPA is not built: the placeholder page alone
        return
    for asset in assets:
        plain = requests.get(base + asset, timeout=10, headers={"Accept-Encoding": "identity"})
        zipped = requests.get(
            base + asset, timeout=10, headers={"Accept-Encoding": "gzip, br"}, stream=True
        )
        raw = zipped.raw.read()
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["Vary"] == "Accept-Encoding"
        assert int(zipped.headers["Content-Length"]) == len(raw) < len(plain.content)
        assert gzip.decompress(raw) == plain.content
