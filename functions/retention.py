"""Retention job (daily schedule): a blocked patient's kept data whose legal period ended is
erased (chalicelib/gdpr/retention.py, ADR 1405). Reads only the expiry index's days since its
last run: its cost grows with what expires, not with the data."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chalicelib.core.observability import logger
from chalicelib.gdpr import retention


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return retention.run_job()
