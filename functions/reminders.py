"""Scheduled job (every 5 minutes): send the reminders due now. Reads only the time buckets
since its last run (docs/adr/0702); never scans."""

from __future__ import annotations

from typing import Any

from chalicelib.comms import scheduling
from chalicelib.core.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return scheduling.run_reminders()
