"""Scheduled job (daily, 08:00 UTC, before clinics open in Spain): recall reminders and the
automatic follow-up messages that are due. Reads only the reminder buckets of the last days
(GSI3 ``RECREM#<date>``, ``FUREM#<date>``); never scans. The logic lives in
``chalicelib.recalls.reminders.run``."""

from __future__ import annotations

from typing import Any

from chalicelib.core.observability import logger
from chalicelib.recalls import reminders


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = reminders.run()
    logger.info("recall reminders done", extra=result)
    return result
