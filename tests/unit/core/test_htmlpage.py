from __future__ import annotations

from chalicelib.core import htmlpage


def test_escape_covers_attributes_and_none():
    assert htmlpage.esc('<a href="x">\'') == "&lt;a href=&quot;x&quot;&gt;&#x27;"
    assert htmlpage.esc(None) == ""


def test_csp_allows_a_script_only_by_its_nonce_and_fetches_only_where_asked():
    plain = htmlpage.csp()
    assert "script-src" not in plain and "connect-src" not in plain
    assert "default-src 'none'" in plain and "img-src data:" in plain
    page = htmlpage.csp(nonce="n0nce", connect="https://bucket.example", img="https: data:")
    assert "script-src 'nonce-n0nce'" in page
    assert "connect-src 'self' https://bucket.example" in page
    assert "img-src https: data:" in page
    assert htmlpage.csp(connect="").endswith("connect-src 'self'")
