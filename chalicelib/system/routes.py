from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Response
from pydantic import BaseModel

from chalicelib.core import aws, ratelimit, scoping
from chalicelib.core.api import PUBLIC, Req, Router, envelope
from chalicelib.core.config import settings
from chalicelib.core.i18n import tr
from chalicelib.core.observability import logger

router = Router("system")
HEALTH_CHECKS_PER_MINUTE = 30

_openapi: dict[str, Any] | None = None


class Health(BaseModel):
    status: str
    version: str


class Check(BaseModel):
    name: str
    ok: bool
    detail: str | None = None


class DetailedHealth(BaseModel):
    status: str
    version: str
    stage: str
    checks: list[Check]


@router.route(
    "/health", "GET", permission=PUBLIC, response=Health, summary="Liveness", tags=("system",)
)
def health(req: Req) -> Health:
    return Health(status="ok", version=settings().version)


def _check(name: str, fn) -> Check:  # type: ignore[no-untyped-def]
    try:
        fn()
        return Check(name=name, ok=True)
    except (ClientError, BotoCoreError) as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return Check(name=name, ok=False, detail=str(code))
    except RuntimeError:  # a setting the stage lacks (config.Settings says which)
        return Check(name=name, ok=False, detail="not configured")


def _media_bucket_reachable() -> None:
    # A bucket-level call the API's own role may make (s3:GetBucketVersioning on the bucket,
    # infra/stack.py): its role reaches no object, and HeadBucket would need s3:ListBucket,
    # which lists every clinic's keys (ADR 0012).
    with scoping.bucket_level():
        aws.client("s3").get_bucket_versioning(Bucket=settings().media_bucket)


@router.route(
    "/health/detailed",
    "GET",
    permission=PUBLIC,
    response=DetailedHealth,
    summary="Checks the table, buckets, event bus, queues and the public URL",
    tags=("system",),
)
def health_detailed(req: Req) -> Any:
    """Public, for monitors: which kind of dependency fails and AWS's error code, never the
    names of the stage's resources (those go to the log). Each call fans out to AWS, so it is
    rate-limited per client address."""
    ratelimit.hit(
        "health-detailed",
        req.ip or "unknown",
        limit=HEALTH_CHECKS_PER_MINUTE,
        window_s=60,
        message=tr(
            "Too many health checks from this address; try again in a minute.",
            "Demasiadas comprobaciones de estado desde esta dirección; "
            "vuelve a intentarlo en un minuto.",
        ),
    )
    cfg = settings()
    checks = [
        _check("table", lambda: aws.client("dynamodb").describe_table(TableName=cfg.table_name)),
        _check("media_bucket", _media_bucket_reachable),
        _check("event_bus", lambda: aws.client("events").describe_event_bus(Name=cfg.event_bus)),
        _check("app_url", lambda: cfg.app_url),  # emailed links need it
    ]
    queues = [
        (q, _check("queue", lambda q=q: aws.client("sqs").get_queue_url(QueueName=q)))
        for q in cfg.queue_names
    ]
    failed_queues = [(q, c) for q, c in queues if not c.ok]
    checks.append(
        Check(
            name="queues",
            ok=not failed_queues,
            detail=f"{len(failed_queues)} of {len(queues)} missing" if failed_queues else None,
        )
    )
    ok = all(c.ok for c in checks)
    if not ok:
        logger.warning(
            "health check degraded",
            extra={
                "failed": [c.name for c in checks if not c.ok],
                "failed_queues": [q for q, _ in failed_queues],
            },
        )
    result = DetailedHealth(
        status="ok" if ok else "degraded", version=cfg.version, stage=cfg.stage, checks=checks
    )
    # 503 when degraded, so a monitor needs only the status code.
    return envelope(result.model_dump(mode="json"), 200 if ok else 503)


@router.route(
    "/openapi.json",
    "GET",
    permission=PUBLIC,
    summary="This API's OpenAPI 3.1 document",
    tags=("system",),
)
def openapi(req: Req) -> Any:
    global _openapi
    if _openapi is None:
        from chalicelib.core import openapi as oa
        from chalicelib.core import route_table

        _openapi = oa.build(route_table.load_routers())

    return Response(
        body=json.dumps(_openapi), status_code=200, headers={"Content-Type": "application/json"}
    )
