"""Runtime configuration, read once from the environment.

The CDK stack sets these variables on every function; the local stack and the test suite set
them from the same resource definitions (``infra/resources.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, lru_cache

VERSION = "0.1.0"
LOCAL_APP_URL = "http://127.0.0.1:8000"


@cache
def _parameter(name: str) -> str:
    """An SSM parameter's value, read once per process (a cold start pays one call)."""
    from chalicelib.core import aws  # noqa: PLC0415 - aws reads this module's settings

    return str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


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
    # The staff SPA's public URL, which every emailed link starts with: APP_URL, or the SSM
    # parameter named by APP_URL_PARAMETER (the deployed API: it cannot reference the CloudFront
    # distribution that routes to it, so the stack writes the URL there; docs/deploy.md).
    app_url_env: str | None = None
    app_url_parameter: str | None = None
    # SES configuration set that reports this stage's bounces and complaints (the CDK stack's);
    # unset locally, where moto's SES has none.
    mail_configuration_set: str | None = None
    # The VERI*FACTU WORM archive (Object Lock): every record's XML as sent to the AEAT.
    archive_bucket: str = ""
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

    @property
    def app_url(self) -> str:
        if self.app_url_env:
            url = self.app_url_env
        elif self.app_url_parameter:
            url = _parameter(self.app_url_parameter)
        elif self.stage == "local":
            url = LOCAL_APP_URL
        else:  # a deployed stage must never mail links to a laptop
            raise RuntimeError(
                f"Stage {self.stage} has neither APP_URL nor APP_URL_PARAMETER: emailed links "
                "would be wrong. The CDK stack sets one on every function (infra/stack.py)."
            )
        return url.rstrip("/")


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
        archive_bucket=_env("ARCHIVE_BUCKET", f"{prefix}-verifactu-archive"),
        event_bus=_env("EVENT_BUS_NAME", prefix),
        kms_alias=_env("KMS_KEY_ALIAS", f"alias/{prefix}"),
        signing_secret=_env("SIGNING_SECRET_NAME", f"{prefix}/signing-keys"),
        mail_sender=_env("MAIL_SENDER", "no-reply@cuspide.local"),
        app_url_env=os.environ.get("APP_URL") or None,
        app_url_parameter=os.environ.get("APP_URL_PARAMETER") or None,
        mail_configuration_set=os.environ.get("MAIL_CONFIGURATION_SET") or None,
        trusted_proxy_hops=int(_env("TRUSTED_PROXY_HOPS", "0")),
        queue_names=tuple(q for q in _env("QUEUE_NAMES", "").split(",") if q),
    )
