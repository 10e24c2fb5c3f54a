"""Scheduled job (daily, 00:05 UTC): sent budgets whose validity date has passed become
expired. Reads only the expiry buckets of the last days (GSI3 ``BUDEXP#<date>``); never scans.
The logic lives in ``chalicelib.billing.budgets.expire_due``."""

from __future__ import annotations

from typing import Any

from chalicelib.billing import budgets
from chalicelib.core.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = budgets.expire_due()
    logger.info("budget expiry done", extra=result)
    return result
