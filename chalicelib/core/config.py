"""Runtime configuration, read once from the environment.

The CDK stack sets these variables on every function; the local stack and the test suite set
them from the same resource definitions (``infra/resources.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

VERSION = "0.1.0"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    media_bucket: str
    event_bus: str
    kms_alias: str
    signing_secret: str
    mail_sender: str
    app_url: str
    # SES configuration set that reports this stage's bounces and complaints (the CDK stack's);
    # unset locally, where moto's SES has none.
    mail_configuration_set: str | None = None
    version: str = VERSION
    jwt_issuer: str = "cuspide"
    jwt_audience: str = "cuspide-api"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    invitation_ttl_s: int = 7 * 24 * 3600
    # How many proxies in front of the API append to X-Forwarded-For (CloudFront -> API
    # Gateway is 1). 0 trusts only the connection's source address.
    trusted_proxy_hops: int = 0
    queue_names: tuple[str, ...] = ()


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@lru_cache(maxsize=1)
def settings() -> Settings:
    stage = _env("CUSPIDE_STAGE", "local")
    prefix = f"cuspide-{stage}"
    return Settings(
        stage=stage,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-south-2")),
        table_name=_env("TABLE_NAME", prefix),
        media_bucket=_env("MEDIA_BUCKET", f"{prefix}-media"),
        event_bus=_env("EVENT_BUS_NAME", prefix),
        kms_alias=_env("KMS_KEY_ALIAS", f"alias/{prefix}"),
        signing_secret=_env("SIGNING_SECRET_NAME", f"{prefix}/signing-keys"),
        mail_sender=_env("MAIL_SENDER", "no-reply@cuspide.local"),
        app_url=_env("APP_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_configuration_set=os.environ.get("MAIL_CONFIGURATION_SET") or None,
        trusted_proxy_hops=int(_env("TRUSTED_PROXY_HOPS", "0")),
        queue_names=tuple(q for q in _env("QUEUE_NAMES", "").split(",") if q),
    )
