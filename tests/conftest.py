"""Test environment: every test process talks to its own moto server (started on demand by
the integration fixtures), provisioned from infra/resources.py exactly as the local stack is.

The environment is set here, at import, before any product module is imported: PynamoDB and
boto3 read it when they first build a client.
"""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MOTO_PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{MOTO_PORT}"

from infra.local.provision import env_for  # noqa: E402
from infra.resources import for_stage  # noqa: E402

RESOURCES = for_stage("test")
os.environ.update(env_for(RESOURCES, ENDPOINT))
# Tests send X-Forwarded-For to act as different client addresses (rate limits per address).
os.environ["TRUSTED_PROXY_HOPS"] = "1"
os.environ["APP_URL"] = "http://app.test"
os.environ.pop("AWS_PROFILE", None)
