"""Scheduled job (every minute): publish again the domain events the bus refused.

``chalicelib.core.events.publish`` parks an event in the table when PutEvents fails after the
write it reports was committed; this job sends the parked ones, oldest first, and keeps those
the bus still refuses for the next run (docs/adr/0008-unsent-events-are-parked-and-redriven.md).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import events
from chalicelib.core.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = events.redrive_unsent()
    if result["still_unsent"]:
        logger.error("events still unsent after redrive", extra=result)
    else:
        logger.info("events redrive done", extra=result)
    metrics.add_metric(name="UnsentEvents", unit="Count", value=result["still_unsent"])
    metrics.flush_metrics()
    return result
