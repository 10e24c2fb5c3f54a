"""boto3 clients, created lazily once per process.

Every client honours ``AWS_ENDPOINT_URL`` (botocore reads it), which is how the local stack and
the tests point them at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core.config import settings


@cache
def client(service: str) -> Any:
    extra: dict[str, Any] = {}
    if service == "s3":
        # Path-style keeps presigned URLs valid against a loopback endpoint.
        extra["config"] = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
    return boto3.client(service, region_name=settings().region, **extra)
