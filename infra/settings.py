"""Per-stage deployment knobs (what differs between dev and prod), read from CDK context.

Everything that names a resource comes from ``infra/resources.py``; this file only holds the
operational settings that the local stack has no use for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STAGES = ("dev", "prod")
DEFAULT_REGION = "eu-west-3"  # Paris: EU data residency, and SES exists there (not in eu-south-2)

# Environment variables the product reads that have a default in the code: a deployment sets
# them with ``-c NAME=value`` (e.g. ``-c IMAGING_MAX_DICOM_MB=200``), and the stack passes them
# to every function; unset, the code's default applies.
PRODUCT_OVERRIDES = (
    "IMAGING_MAX_PHOTO_MB",
    "IMAGING_MAX_DICOM_MB",
    "IMAGING_MAX_DOCUMENT_MB",
    "IMAGING_XRAY_FULL_FORMAT",
    "WHATSAPP_GRAPH_URL",  # Meta Graph API base URL with its version (code default v21.0)
    "VERIFACTU_PRODUCER_NAME",  # the SIF producer in every VERI*FACTU record (ADR 0202)
    "VERIFACTU_PRODUCER_NIF",  # required in prod: the code's default is a placeholder
)
REQUIRED_IN_PROD = ("VERIFACTU_PRODUCER_NIF",)

# Environment variables the product reads that the stack never sets, and why.
NOT_SET_ON_LAMBDA = {
    "AWS_REGION": "set by the Lambda runtime (reserved)",
    "AWS_DEFAULT_REGION": "set by the Lambda runtime (reserved)",
    "AEAT_ENDPOINT_OVERRIDE": "tests and the local stack only (the AEAT stub): deployed stages "
    "send to the AEAT's own endpoint for each clinic's environment",
    "AEAT_CA_BUNDLE": "tests only (the stub's private CA); Lambda trusts the system CAs",
}


@dataclass(frozen=True)
class StageSettings:
    stage: str
    region: str = DEFAULT_REGION
    account: str | None = None
    # Retain data on stack deletion and refuse table deletion (prod only).
    protect_data: bool = False
    api_memory_mb: int = 512
    # Baseline rate limit of the API stage (per account-region, all clients together); the
    # application's own per-address / per-account limits sit behind it.
    api_rate_limit: float = 50
    api_burst_limit: int = 100
    log_retention_days: int = 30
    # The staff SPA's public URL when it has a custom domain (https://app.example.com), with the
    # ACM certificate (us-east-1) for CloudFront. Without it the SPA lives on the CloudFront
    # domain, which the API reads from an SSM parameter the stack writes (docs/deploy.md: a
    # Lambda cannot reference the distribution that routes to it).
    domain_name: str | None = None
    certificate_arn: str | None = None
    # Create the SES domain identity of MAIL_SENDER (with this stage's configuration set as its
    # default). Only one stack per account and region can own it: prod by default.
    manage_ses_identity: bool = False
    alarm_email: str | None = None
    # PRODUCT_OVERRIDES given as context, passed to every function's environment.
    product_env: tuple[tuple[str, str], ...] = ()

    @property
    def public_url(self) -> str | None:
        return f"https://{self.domain_name}" if self.domain_name else None


def _bool(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def from_context(get: Any, stage: str) -> StageSettings:
    """``get(key)`` reads a CDK context value (``-c key=value`` or cdk.json)."""
    if stage not in STAGES:
        raise SystemExit(f"stage must be one of {STAGES}, not {stage!r} (-c stage=dev)")
    prod = stage == "prod"
    ses = get("manageSesIdentity")
    product_env = tuple((k, str(get(k))) for k in PRODUCT_OVERRIDES if get(k) not in (None, ""))
    missing = [k for k in REQUIRED_IN_PROD if prod and k not in dict(product_env)]
    if missing:
        raise SystemExit(
            f"stage prod needs {', '.join(missing)}: the software producer's NIF that every "
            "VERI*FACTU record names (-c VERIFACTU_PRODUCER_NIF=... or cdk.json context); "
            "see docs/deploy.md"
        )
    return StageSettings(
        stage=stage,
        region=get("region") or DEFAULT_REGION,
        account=get("account"),
        protect_data=prod,
        api_memory_mb=1024 if prod else 512,
        api_rate_limit=float(get("apiRateLimit") or (100 if prod else 20)),
        api_burst_limit=int(get("apiBurstLimit") or (200 if prod else 40)),
        log_retention_days=365 if prod else 30,
        domain_name=get("domainName"),
        certificate_arn=get("certificateArn"),
        manage_ses_identity=_bool(ses) if ses is not None else prod,
        alarm_email=get("alarmEmail"),
        product_env=product_env,
    )
