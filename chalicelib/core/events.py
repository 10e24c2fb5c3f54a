"""Domain events on the EventBridge bus.

``source`` = ``cuspide``, ``detail-type`` = the event name, ``detail`` =
``{event_id, clinic_id, occurred_at, actor, ...payload}``. Publish only after the write that the
event reports has succeeded. Delivery is at least once: consumers are idempotent on event_id.
The catalog lives in docs/events.md.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.ids import iso, new_id, now
from chalicelib.core.observability import logger

SOURCE = "cuspide"


class PublishError(Exception):
    pass


def build(name: str, clinic_id: str, actor: dict[str, Any], payload: dict[str, Any]) -> dict:
    return {
        "event_id": new_id(),
        "clinic_id": clinic_id,
        "occurred_at": iso(now()),
        "actor": actor,
        **payload,
    }


def publish(name: str, clinic_id: str, actor: dict[str, Any], **payload: Any) -> dict:
    detail = build(name, clinic_id, actor, payload)
    resp = aws.client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": name,
                "Detail": json.dumps(detail, default=str),
                "EventBusName": settings().event_bus,
            }
        ]
    )
    if resp.get("FailedEntryCount"):
        logger.error("event publish failed", extra={"event": name, "event_id": detail["event_id"]})
        raise PublishError(f"could not publish {name}")
    logger.debug("event published", extra={"event": name, "event_id": detail["event_id"]})
    return detail
