"""The promises of an upload slot's form, checked against a stored object's head (no AWS):
the slot's token, at most the declared size, the declared type; and the expiry keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.storage import URL_TTL_S, Head
from chalicelib.imaging import uploads


def head(size: int = 100, ctype: str | None = "image/jpeg", token: str | None = "T") -> Head:
    return Head(
        size=size,
        content_type=ctype,
        etag="e",
        metadata={"slot": token} if token is not None else {},
    )


def check(h: Head, token: str | None = "T", size: int = 100, ctype: str = "image/jpeg"):
    return uploads.violation(h, token=token, declared_size=size, declared_type=ctype)


def test_the_slots_own_file_passes():
    assert check(head()) is None
    assert check(head(size=99)) is None  # smaller than declared: the renderer judges it
    assert check(head(ctype="image/jpeg; charset=binary")) is None


@pytest.mark.parametrize(
    ("h", "code"),
    [
        (head(token="other"), "foreign"),
        (head(token=None), "foreign"),
        (head(size=0), "empty"),
        (head(size=101), "size"),
        (head(size=5000), "size"),
        (head(ctype="text/html"), "type"),
        (head(ctype=None), "type"),
    ],
)
def test_what_the_form_did_not_allow(h, code):
    v = check(h)
    assert v is not None and v.code == code
    assert v.en and v.es and v.en != v.es


def test_foreign_is_judged_first_and_tokenless_slots_skip_it():
    assert check(head(token="other", size=5000)).code == "foreign"
    assert check(head(token=None), token=None) is None  # a slot made before tokens


def test_the_size_reason_names_both_sizes():
    v = check(head(size=5000))
    assert "too large" in v.en and "100 bytes were declared" in v.en and "5000" in v.en


def test_form_pins_the_declared_size_and_the_token(monkeypatch):
    seen = {}

    def fake(key, **kw):
        seen.update(kw, key=key)
        return {"url": "u", "fields": {}, "expires_in": 1}

    monkeypatch.setattr(uploads.storage, "presigned_post", fake)
    uploads.form("k", content_type="image/png", size=123, token="tok", tags={"a": "b"})
    assert seen == {
        "key": "k",
        "content_type": "image/png",
        "max_bytes": 123,
        "tags": {"a": "b"},
        "metadata": {"slot": "tok"},
    }


def test_tokens_are_random_and_long():
    tokens = {uploads.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 32 for t in tokens)


def test_expiry_bucket_is_the_utc_hour_after_the_form_and_the_grace():
    created = datetime(2026, 3, 9, 9, 59, tzinfo=UTC)
    exp = uploads.expires_at(created)
    assert exp - created == timedelta(seconds=URL_TTL_S + uploads.GRACE_S)
    assert uploads.expiry_bucket(exp) == "UPLEXP#2026-03-09T11"
    madrid = datetime(2026, 3, 9, 12, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Madrid"))
    assert uploads.expiry_bucket(madrid) == "UPLEXP#2026-03-09T12"  # always the UTC hour
    assert uploads.stale_before(created) == created - timedelta(seconds=URL_TTL_S)
