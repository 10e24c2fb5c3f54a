"""Signed, expiring patient links: one signer for every module that mails a link to a patient
(appointment confirm/cancel in comms, budget acceptance in billing). ADR 0007.

Token: ``<link_id>.<action>.<subject_id>.<expires>.<kid>.<sig>``, where ``sig`` is base64url
HMAC-SHA256 under the link key ``kid`` of :func:`chalicelib.core.keys.link_keys` over
``"<purpose>|<link_id>|<action>|<subject_id>|<expires>"``. The purpose keeps each module's
tokens apart (an appointment link never verifies as a budget link). A token is verified with
``hmac.compare_digest`` before anything is read from the table; single use is the caller's
conditional write on its own link item.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from chalicelib.core import keys

_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SIG = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, base64url without padding
MAX_TOKEN = 256


class InvalidLink(Exception):  # noqa: N818 - a reason, not an error of ours
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # malformed | tampered | expired


@dataclass(frozen=True)
class LinkClaims:
    link_id: str
    action: str
    subject_id: str  # what the link acts on: an appointment, a budget
    expires: int  # unix seconds, exclusive


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class LinkSigner:
    purpose: str
    actions: tuple[str, ...]

    def _sig(self, key: bytes, link_id: str, action: str, subject_id: str, expires: int) -> str:
        msg = f"{self.purpose}|{link_id}|{action}|{subject_id}|{expires}".encode()
        return _b64(hmac.new(key, msg, hashlib.sha256).digest())

    def sign(self, link_id: str, action: str, subject_id: str, expires: int) -> str:
        if action not in self.actions:
            raise ValueError(f"{action!r} is not an action of {self.purpose} links")
        ring = keys.link_keys()
        key = ring.get(ring.active)
        if key is None:
            raise RuntimeError("the active link key is missing from the key ring")
        sig = self._sig(key, link_id, action, subject_id, expires)
        return f"{link_id}.{action}.{subject_id}.{expires}.{ring.active}.{sig}"

    def verify(self, token: str, at: float | None = None) -> LinkClaims:
        """The claims of a genuine, unexpired token; :class:`InvalidLink` otherwise."""
        parts = token.split(".") if isinstance(token, str) and len(token) <= MAX_TOKEN else []
        if len(parts) != 6:
            raise InvalidLink("malformed")
        link_id, action, subject_id, exp_text, kid, sig = parts
        if not (
            _ID.match(link_id)
            and action in self.actions
            and _ID.match(subject_id)
            and exp_text.isdigit()
            and len(exp_text) <= 12
            and _KID.match(kid)
            and _SIG.match(sig)
        ):
            raise InvalidLink("malformed")
        expires = int(exp_text)
        key = keys.link_keys().get(kid)
        # Compare against something even for an unknown kid, so timing does not tell them apart.
        expected = self._sig(key or b"\0" * 32, link_id, action, subject_id, expires)
        if not hmac.compare_digest(expected.encode(), sig.encode()) or key is None:
            raise InvalidLink("tampered")
        if (at if at is not None else time.time()) >= expires:
            raise InvalidLink("expired")
        return LinkClaims(link_id, action, subject_id, expires)
