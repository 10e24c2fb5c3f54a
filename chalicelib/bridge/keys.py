"""Device API keys: generating them, and turning one presented by a Bridge into a
:class:`~chalicelib.core.api.DevicePrincipal` (the device resolver of ``core.api``).

Format ``cbk_<prefix>.<secret>``: the prefix is 12 random base32 characters (lowercase, 60
bits), the global lookup of the key; the secret is 32 random bytes, base64url (256 bits). Only
the SHA-256 of the whole key is stored: the secret has full entropy, so a slow KDF would add
nothing but latency. Verification is one consistent GetItem of the prefix's lookup item, a
constant-time comparison of the hashes (``hmac.compare_digest``) and one consistent GetItem of
the device (status, current and previous prefix, rotation grace): a revoked device or a key
past its grace fails on the very next call.

Every failure (malformed, unknown prefix, wrong secret, revoked, rotated out, a lookup that
points at another clinic's device) is the same 401 ``DEVICE_KEY_INVALID``. Failures are
counted per address (429 once too many); a valid key is rate-limited per key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.bridge.models import Device, DeviceKey
from chalicelib.core import ratelimit, scoping
from chalicelib.core.api import DEVICE_KEY_PREFIX, DevicePrincipal, device_key_invalid
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now

KEY_RE = re.compile(r"^cbk_(?P<prefix>[a-z2-7]{12})\.(?P<secret>[A-Za-z0-9_-]{43})$")
MAX_KEY_LENGTH = 100

DEVICE_CALLS_PER_MINUTE = 300
"""Calls one key may make per minute: a Bridge uploading a 100-file study makes about 300
(request, upload report, status); above that it is told to wait (429, Retry-After)."""
BAD_KEYS_PER_ADDRESS = 20
BAD_KEY_WINDOW_S = 300
"""Failed device authentications one address may make per window before a 429."""
SEEN_EVERY_S = 60
"""How stale ``last_seen_at`` may get before a device call (other than the heartbeat, which
always records it) refreshes it."""


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix: ``(prefix, "cbk_<prefix>.<secret>")``."""
    prefix = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return prefix, f"{DEVICE_KEY_PREFIX}{prefix}.{secret}"


def key_hash(key: str) -> str:
    """What is stored of a key: its SHA-256 (hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse(token: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    if len(token) > MAX_KEY_LENGTH:
        return None
    m = KEY_RE.match(token)
    return m["prefix"] if m else None


def lookup_item(prefix: str, clinic_id: str, device_id: str, key: str) -> DeviceKey:
    return DeviceKey(
        *DeviceKey.key(prefix),
        clinic_id=clinic_id,
        device_id=device_id,
        key_hash=key_hash(key),
        created_at=now(),
    )


def _failed(ip: str | None) -> Exception:
    ratelimit.add(ratelimit.Window("bridge-bad-key", ip or "-", BAD_KEY_WINDOW_S))
    return device_key_invalid()


def _verify(token: str) -> tuple[Device, str] | None:
    prefix = parse(token)
    if prefix is None:
        return None
    try:
        lookup = DeviceKey.get(*DeviceKey.key(prefix), consistent_read=True)
    except DoesNotExist:
        return None
    if not hmac.compare_digest(lookup.key_hash, key_hash(token)) or not scoping.is_plain_id(
        lookup.clinic_id
    ):
        return None
    scoping.adopt(lookup.clinic_id)  # the device's clinic signs from here on (ADR 0012)
    try:
        device = Device.get(*Device.key(lookup.clinic_id, lookup.device_id), consistent_read=True)
    except DoesNotExist:
        return None
    if device.status != "active" or device.device_id != lookup.device_id:
        return None
    if prefix == device.key_prefix:
        return device, prefix
    expires = device.previous_key_expires_at
    if prefix == device.previous_key_prefix and expires is not None and now() < expires:
        return device, prefix
    return None


def resolve_device(token: str, ip: str | None, user_agent: str | None) -> DevicePrincipal:
    """The device a key belongs to, or the one 401 (429 for too many failures or calls)."""
    ratelimit.check(
        "bridge-bad-key",
        ip or "-",
        limit=BAD_KEYS_PER_ADDRESS,
        window_s=BAD_KEY_WINDOW_S,
        message=tr(
            "Too many invalid device keys from this address; wait and check the key.",
            "Demasiadas claves de dispositivo no válidas desde esta dirección; espera y "
            "revisa la clave.",
        ),
    )
    found = _verify(token)
    if found is None:
        raise _failed(ip)
    device, prefix = found
    ratelimit.hit(
        "bridge-key",
        prefix,
        limit=DEVICE_CALLS_PER_MINUTE,
        window_s=60,
        message=tr(
            "This device is making too many calls; wait and try again.",
            "Este dispositivo está haciendo demasiadas llamadas; espera y vuelve a intentarlo.",
        ),
    )
    _touch(device, ip)
    clinic_id = device.PK[2:]
    return DevicePrincipal(
        device_id=device.device_id,
        clinic_id=clinic_id,
        name=device.name,
        key_prefix=prefix,
        key_expires_at=device.previous_key_expires_at
        if prefix == device.previous_key_prefix
        else None,
        ip=ip,
        user_agent=user_agent,
    )


def _touch(device: Device, ip: str | None) -> None:
    """Record that the device was seen (at most once a minute outside the heartbeat)."""
    at = now()
    if device.last_seen_at and at - device.last_seen_at < timedelta(seconds=SEEN_EVERY_S):
        return
    actions = [Device.last_seen_at.set(at)]
    if ip:
        actions.append(Device.last_ip.set(ip))
    # Best effort: revoked meanwhile (the next call fails) or a hiccup (the next call records it).
    with contextlib.suppress(UpdateError):
        device.update(actions=actions, condition=Device.status == "active")
