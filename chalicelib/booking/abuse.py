"""Anti-abuse of the public booking page (docs/adr/1402-online-booking-anti-abuse.md):

- rate limits per client address and per clinic on every public route, and per contact on the
  code mail (:func:`limit`, fixed windows of :mod:`chalicelib.core.ratelimit`);
- a proof of work before a code is sent: the server issues a challenge (a ``LinkSigner`` token
  of purpose ``booking-pow``, HMAC-signed, expiring in :data:`POW_TTL_S`), the page's script
  finds a nonce whose ``SHA-256(challenge ":" clinic_id ":" nonce)`` starts with
  :data:`POW_BITS` zero bits, the server checks it in one hash and spends the challenge once.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from chalicelib.booking.models import BookingPowUsed
from chalicelib.core import ratelimit
from chalicelib.core.ids import new_id
from chalicelib.core.links import InvalidLink, LinkSigner

POW = LinkSigner("booking-pow", ("pow",))
POW_BITS = 16  # ~65,000 hashes: a second or two in a phone's browser, costly by the thousand
POW_TTL_S = 600

# bucket: (limit, window seconds); "ip" per client address, "clinic" per clinic
LIMITS: dict[str, tuple[int, int]] = {
    "view-ip": (240, 3600),
    "view-clinic": (5000, 3600),
    "post-ip": (60, 3600),
    "post-clinic": (1000, 3600),
    "code-ip": (10, 3600),
    "code-clinic": (200, 3600),
    "code-contact": (5, 3600),
    "verify-ip": (30, 3600),
    "book-ip": (20, 3600),
    "book-clinic": (300, 3600),
}


class PowProblem(Exception):
    """The proof of work is missing, wrong, expired or spent (the page asks to try again)."""


def limit(bucket: str, subject: str) -> None:
    """Count one request; 429 (``TooManyRequests`` with ``retry_after``) past the limit."""
    n, window = LIMITS[bucket]
    ratelimit.hit(
        f"booking-{bucket}",
        subject or "unknown",
        limit=n,
        window_s=window,
        message="Too many requests; try again later.",
    )


def challenge() -> str:
    cid = new_id()
    return POW.sign(cid, "pow", cid, int(time.time()) + POW_TTL_S)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solves(token: str, clinic_id: str, nonce: str, bits: int | None = None) -> bool:
    digest = hashlib.sha256(f"{token}:{clinic_id}:{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= (POW_BITS if bits is None else bits)


def solve(token: str, clinic_id: str, bits: int | None = None) -> str:
    """What the page's script does (tests and the demo use it)."""
    n = 0
    while not solves(token, clinic_id, str(n), bits):
        n += 1
    return str(n)


def spend(clinic_id: str, token: str, nonce: str) -> None:
    """Verify the proof of work and spend its challenge; :class:`PowProblem` otherwise."""
    if not token or not nonce or len(nonce) > 20 or not nonce.isdigit():
        raise PowProblem("missing")
    try:
        claims = POW.verify(token)
    except InvalidLink as exc:
        raise PowProblem(exc.reason) from exc
    if not solves(token, clinic_id, nonce):
        raise PowProblem("wrong")
    try:
        BookingPowUsed(
            *BookingPowUsed.key(clinic_id, claims.link_id),
            expires_at=datetime.fromtimestamp(claims.expires + 60, UTC),
        ).save(condition=BookingPowUsed.SK.does_not_exist())
    except PutError as exc:
        raise PowProblem("spent") from exc
