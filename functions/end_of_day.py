"""Scheduled job (every 15 minutes): end-of-day emails of the clinics whose 16:00 local time is
now. Reads only the due time buckets (docs/adr/0702); at most one email per clinic and day."""

from __future__ import annotations

from typing import Any

from chalicelib.comms import scheduling
from chalicelib.core.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return scheduling.run_end_of_day()
