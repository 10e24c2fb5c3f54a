"""Signing keys, loaded from Secrets Manager (never from code or the repository).

The secret is JSON::

    {"jwt": {"active": "<kid>", "keys": {"<kid>": "<base64 256-bit key>", ...}},
     "links": {"active": "<kid>", "keys": {...}}}

Rotation: add a new kid, make it active, keep the old one until every token signed with it has
expired (15 minutes for access tokens, 48 hours for patient links). The local stack generates
this secret once and keeps it; the CDK stack creates it in Secrets Manager.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from aws_lambda_powertools.utilities import parameters

from chalicelib.core.config import settings


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: dict[str, bytes]

    def get(self, kid: str) -> bytes | None:
        return self.keys.get(kid)


def _ring(section: str) -> KeyRing:
    raw = parameters.get_secret(settings().signing_secret, max_age=300)
    data = json.loads(raw)[section]
    return KeyRing(
        active=data["active"],
        keys={k: base64.b64decode(v) for k, v in data["keys"].items()},
    )


def jwt_keys() -> KeyRing:
    return _ring("jwt")


def link_keys() -> KeyRing:
    return _ring("links")


def generate_secret_value() -> str:
    """A fresh secret document (used by the local stack and the deploy bootstrap)."""

    def ring() -> dict:
        kid = secrets.token_hex(4)
        return {"active": kid, "keys": {kid: base64.b64encode(secrets.token_bytes(32)).decode()}}

    return json.dumps({"jwt": ring(), "links": ring()})
