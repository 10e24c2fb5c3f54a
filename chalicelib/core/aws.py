"""boto3 clients, created lazily once per process.

Every client honours ``AWS_ENDPOINT_URL`` (botocore reads it), which is how the local stack and
the tests point them at moto. A client, once made, is safe to share between threads; making
one is not (boto3's default session is not thread-safe), so creation holds a lock: the local
server's threads may ask for the same client at once.

DynamoDB and S3 clients sign with the clinic-scoped credentials of ``chalicelib.core.scoping``
(ADR 0012): inside ``scoping.clinic(cid)`` their calls reach only that clinic's data; other
services (EventBridge, KMS, SES, STS, ...) always use the function's own credentials.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core import scoping
from chalicelib.core.config import settings

SCOPED_SERVICES = frozenset({"dynamodb", "s3"})

_lock = threading.Lock()


def client(service: str) -> Any:
    with _lock:
        return _client(service)


@cache
def _client(service: str) -> Any:
    extra: dict[str, Any] = {}
    if service == "s3":
        # Path-style keeps presigned URLs valid against a loopback endpoint.
        extra["config"] = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
    if service in SCOPED_SERVICES:
        session = boto3.Session(botocore_session=scoping.session(service))
        return session.client(service, region_name=settings().region, **extra)
    return boto3.client(service, region_name=settings().region, **extra)
