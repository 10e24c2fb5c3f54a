"""The pages a signed link opens (an appointment's, a budget's, a lab case's) carry the headers
of chalicelib/core/htmlpage.py, also when they say the link is not valid: never cached, never
indexed or framed, no referrer (the token is in the URL), and a CSP that allows no script but
the page's own."""

from __future__ import annotations

import pytest

PAGES = ("/public/appointments/{t}", "/public/budgets/{t}", "/public/lab-cases/{t}")


def _csp(value: str) -> dict[str, str]:
    return dict((d.strip().split(" ", 1) + [""])[:2] for d in value.split(";") if d.strip())


@pytest.mark.parametrize("page", PAGES)
def test_a_links_page_carries_the_public_page_headers(api, page):
    r = api.get(page.format(t="a.b.c.d.e.f"))
    assert r.status == 404
    h = {k.lower(): v for k, v in r.headers.items()}
    assert h["content-type"] == "text/html; charset=utf-8"
    assert h["referrer-policy"] == "no-referrer"
    assert h["cache-control"] == "no-store"
    assert h["x-frame-options"] == "DENY"
    assert "noindex" in h["x-robots-tag"]
    csp = _csp(h["content-security-policy"])
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "script-src" not in csp  # a page that says "not valid" runs nothing
    assert b"<script" not in r.body
