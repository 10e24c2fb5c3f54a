"""Domain events on the EventBridge bus.

``source`` = ``cuspide``, ``detail-type`` = the event name, ``detail`` =
``{event_id, clinic_id, occurred_at, actor, ...payload}``. Publish only after the write that the
event reports has succeeded. Delivery is at least once: consumers are idempotent on event_id.
The catalog lives in docs/events.md.

The write is already committed when an event is published, so a bus that refuses it must not
turn the request into a 500 (the caller would retry a change that happened) nor lose the event:
it is parked in the table and the ``events-redrive`` schedule publishes it again
(docs/adr/0008-unsent-events-are-parked-and-redriven.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.db import Item
from chalicelib.core.ids import iso, new_id, now
from chalicelib.core.observability import logger

SOURCE = "cuspide"
UNSENT_PK = "EVENTS#UNSENT"  # one system partition: only events the bus refused land here
PUT_EVENTS_MAX = 10  # entries per PutEvents call (EventBridge quota)


class UnsentEvent(Item, discriminator="UnsentEvent"):
    """An event the bus refused, kept until the redrive publishes it. ``SK`` is its event id
    (a ULID), so the partition reads oldest first."""

    name = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    detail = UnicodeAttribute()  # the JSON exactly as it would have been sent
    parked_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)


def build(name: str, clinic_id: str, actor: dict[str, Any], payload: dict[str, Any]) -> dict:
    return {
        "event_id": new_id(),
        "clinic_id": clinic_id,
        "occurred_at": iso(now()),
        "actor": actor,
        **payload,
    }


def _entry(name: str, detail_json: str) -> dict[str, str]:
    return {
        "Source": SOURCE,
        "DetailType": name,
        "Detail": detail_json,
        "EventBusName": settings().event_bus,
    }


def _put(entries: list[dict[str, str]]) -> list[str | None]:
    """PutEvents; per entry ``None`` when it was accepted, else the reason it was not."""
    try:
        resp = aws.client("events").put_events(Entries=entries)
    except (BotoCoreError, ClientError) as exc:
        return [type(exc).__name__] * len(entries)
    return [r.get("ErrorCode") for r in resp.get("Entries", [])] or [None] * len(entries)


# While ``batched()`` is open in this context: events waiting to go out together.
_pending: ContextVar[list[tuple[str, str, dict]] | None] = ContextVar(
    "events_pending", default=None
)


def publish(name: str, clinic_id: str, actor: dict[str, Any], **payload: Any) -> dict:
    detail = build(name, clinic_id, actor, payload)
    detail_json = json.dumps(detail, default=str)
    pending = _pending.get()
    if pending is not None:
        pending.append((name, detail_json, detail))
        if len(pending) >= PUT_EVENTS_MAX:
            _flush(pending)
        return detail
    error = _put([_entry(name, detail_json)])[0]
    _settle(name, detail, detail_json, error)
    return detail


def _settle(name: str, detail: dict, detail_json: str, error: str | None) -> None:
    if error is None:
        logger.debug("event published", extra={"event": name, "event_id": detail["event_id"]})
        return
    # Never the payload in the log: it can carry patient data.
    logger.error(
        "event publish failed; parked for redrive",
        extra={"event": name, "event_id": detail["event_id"], "error": error},
    )
    UnsentEvent(
        UNSENT_PK,
        detail["event_id"],
        name=name,
        clinic_id=str(detail["clinic_id"]),
        detail=detail_json,
        parked_at=iso(now()),
        last_error=error,
    ).save()  # if the table fails too, the request fails loudly: nothing is silently lost


def _flush(pending: list[tuple[str, str, dict]]) -> None:
    batch, pending[:] = list(pending), []
    errors = _put([_entry(name, detail_json) for name, detail_json, _d in batch])
    for (name, detail_json, detail), error in zip(batch, errors, strict=True):
        _settle(name, detail, detail_json, error)


@contextmanager
def batched() -> Iterator[None]:
    """Publish the events of the block up to ``PUT_EVENTS_MAX`` per PutEvents call instead of
    one call each (bulk work such as the local stack's demo seed); whatever is left goes out
    when the block ends, also when it fails, since the writes they report are committed."""
    if _pending.get() is not None:
        yield  # already inside a batch
        return
    pending: list[tuple[str, str, dict]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if pending:
            _flush(pending)


def redrive_unsent(limit: int = 1000) -> dict[str, int]:
    """Publish parked events again, oldest first, and forget those the bus accepts. The same
    event id goes out again, so a consumer that already saw it ignores the duplicate."""
    parked = list(UnsentEvent.query(UNSENT_PK, limit=limit))
    sent = 0
    for i in range(0, len(parked), PUT_EVENTS_MAX):
        chunk = parked[i : i + PUT_EVENTS_MAX]
        errors = _put([_entry(u.name, u.detail) for u in chunk])
        for unsent, error in zip(chunk, errors, strict=True):
            if error is None:
                unsent.delete()
                sent += 1
            else:
                unsent.update(
                    actions=[
                        UnsentEvent.attempts.add(1),
                        UnsentEvent.last_error.set(error),
                    ]
                )
    return {"sent": sent, "still_unsent": len(parked) - sent}
