"""Each patient's timeline, written from domain events by ``functions/timeline_consumer``.

An event lands on a patient's timeline when it names a ``patient_id`` of the clinic in its own
``clinic_id``: the entry's key is built from that clinic id only, and an id that is not a
patient of that clinic is ignored, so no event can write into another clinic. Only the event
types of ``catalog.FIELDS`` are kept, each with its listed fields only; the same filter applies
when entries are read, so nothing stored before the catalog existed shows more.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import SENSITIVE_FIELDS
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import BadRequest
from chalicelib.core.i18n import tr
from chalicelib.core.observability import logger
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient
from chalicelib.timeline import catalog, schemas
from chalicelib.timeline.models import EventSeen, TimelineEntry, entry_key, prefix, seen_key

ENVELOPE_KEYS = frozenset({"event_id", "clinic_id", "occurred_at", "actor"})


def _already_seen(exc: TransactWriteError) -> bool:
    reasons = exc.cancellation_reasons or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def record(event_type: str, detail: dict[str, Any]) -> str:
    """Write the timeline entry of one event. Returns ``written``, ``duplicate`` or ``skipped``
    (the event is not about a patient of its clinic)."""
    clinic_id = detail.get("clinic_id")
    patient_id = detail.get("patient_id")
    event_id = detail.get("event_id")
    occurred_at = detail.get("occurred_at")
    if not all(isinstance(v, str) and v for v in (clinic_id, patient_id, event_id, occurred_at)):
        return "skipped"
    assert isinstance(clinic_id, str) and isinstance(patient_id, str)
    if not catalog.known(event_type):
        logger.warning(
            "timeline: event type not in the catalog",
            extra={"event_id": event_id, "event_type": event_type},
        )
        return "skipped"
    try:
        p = Patient.get(*Patient.key(clinic_id, patient_id))
    except DoesNotExist:
        logger.warning(
            "timeline: no such patient in the event's clinic",
            extra={"event_id": event_id, "event_type": event_type},
        )
        return "skipped"
    if p.blocked:  # an erasure request erased the timeline; nothing new is added (ADR 1405)
        return "skipped"
    actor = detail.get("actor") if isinstance(detail.get("actor"), dict) else None
    entry = TimelineEntry(
        *entry_key(clinic_id, patient_id, str(occurred_at), str(event_id)),
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        patient_id=patient_id,
        actor={k: actor.get(k) for k in ("type", "id", "name")} if actor else None,
        data={
            k: v
            for k, v in catalog.shown(event_type, detail).items()
            if k not in ENVELOPE_KEYS and k not in SENSITIVE_FIELDS
        },
    )
    seen = EventSeen(*seen_key(clinic_id, str(event_id)), patient_id=patient_id)
    try:
        with transaction() as tx:
            tx.save(seen, condition=EventSeen.SK.does_not_exist())
            tx.save(entry, condition=TimelineEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        if _already_seen(exc):
            return "duplicate"
        raise
    return "written"


def list_entries(principal: Principal, patient_id: str, q: schemas.TimelineQuery) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = clinic_pk(cid)
    start = decode_cursor(q.cursor, partition=("PK", pk))
    if start and not start.get("SK", {}).get("S", "").startswith(prefix(patient_id)):
        raise BadRequest(
            tr(
                "The cursor belongs to a different listing; start again without it.",
                "El cursor es de otro listado; empieza de nuevo sin él.",
            )
        )
    result = TimelineEntry.query(
        pk,
        TimelineEntry.SK.startswith(prefix(patient_id)),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=start,
    )
    items = [
        schemas.TimelineItem(
            event_id=e.event_id,
            type=e.event_type,
            occurred_at=e.occurred_at,  # type: ignore[arg-type]
            actor=e.actor,  # type: ignore[arg-type]
            data=catalog.shown(e.event_type, e.data or {}),
        )
        for e in result
        if isinstance(e, TimelineEntry) and catalog.known(e.event_type)
    ]
    return Page(items, encode_cursor(result.last_evaluated_key))
