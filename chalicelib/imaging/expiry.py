"""The ``upload-expiry`` job: upload slots (images, Bridge captures, documents) whose file never
came become ``expired`` (docs/adr/0014-upload-integrity-and-expiry.md).

* Reads only the GSI1 hours ``UPLEXP#<UTC hour>`` from :data:`LOOKBACK_H` ago to now (a slot
  carries the entry only while pending); never scans. Each run also catches up the hours a
  missed run left.
* A slot is expired when its form expired more than :data:`~chalicelib.imaging.uploads.GRACE_S`
  ago, it is still ``pending`` (conditional write: a worker's claim or a ``complete`` that
  lands meanwhile wins) and no file is at its key (an image whose file arrived is the worker's,
  even if its queue is slow).
* The record stays, ``expired`` with a reason, and is audited; listings never show it. A Bridge
  capture's SHA-256 is released so the same file can be sent again; a document's stray object
  (uploaded, never completed) is removed.
* Running it twice is harmless: an expired slot has no index entry and fails the condition.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, scoping, storage
from chalicelib.core.db import Item, transaction
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.imaging import uploads
from chalicelib.imaging.models import (
    CaptureDigest,
    Document,
    Image,
    ToothXray,
    document_key,
    original_key,
)
from chalicelib.imaging.service import tooth_keys

LOOKBACK_H = 48
ACTOR = {"type": "system", "id": "upload-expiry", "name": "Upload expiry"}
REASON = "The file never arrived before the upload form expired: start the upload again."


def expire_due(at: datetime | None = None) -> dict[str, int]:
    at = at or now()
    counts = {"expired": 0, "skipped": 0}
    hour = (at - timedelta(hours=LOOKBACK_H)).replace(minute=0, second=0, microsecond=0)
    while hour <= at:
        for ref in Item.gsi1.query(uploads.expiry_bucket(hour)):
            if isinstance(ref, Image | Document):
                with scoping.for_partition(ref.PK):  # the slot's clinic's credentials (ADR 0012)
                    counts["expired" if _expire(ref, at) else "skipped"] += 1
        hour += timedelta(hours=1)
    return counts


def _expire(ref: Image | Document, at: datetime) -> bool:
    model: Any = type(ref)
    try:
        item = model.get(ref.PK, ref.SK, consistent_read=True)
    except DoesNotExist:
        return False
    clinic_id = item.PK[2:]
    if item.status != "pending" or item.deleted:
        _unindex(model, item)  # left behind by a path that does not clear it (soft delete)
        return False
    if uploads.expires_at(item.created_at) > at:
        return False  # due later in this hour: the next run
    is_image = isinstance(item, Image)
    key = (
        original_key(clinic_id, item.image_id)
        if is_image
        else document_key(clinic_id, item.document_id)
    )
    found = _exists(key)
    if found and is_image:
        return False  # the file came: the worker decides (ready, failed or rejected)
    entity_id = item.image_id if is_image else item.document_id
    try:
        with transaction() as tx:
            tx.update(
                item,
                actions=[
                    model.status.set("expired"),
                    *([model.reason.set(REASON)] if is_image else []),
                    model.updated_at.set(at),
                    model.GSI1PK.remove(),
                    model.GSI1SK.remove(),
                ],
                condition=(model.status == "pending") & (model.deleted == False),  # noqa: E712
            )
            if is_image:  # a tooth's X-rays are the ones whose file came
                for pk, sk in tooth_keys(clinic_id, item):
                    tx.delete(ToothXray(pk, sk))
            if is_image and item.sha256:  # the same file may be sent by the Bridge again
                tx.delete(CaptureDigest(*CaptureDigest.key(clinic_id, item.sha256)))
            tx.save(
                audit.entry(
                    clinic_id,
                    ACTOR,
                    "image.expired" if is_image else "document.expired",
                    "image" if is_image else "document",
                    entity_id,
                    before={"status": "pending"},
                    after={"status": "expired"},
                )
            )
    except TransactWriteError:
        return False  # claimed, completed or deleted meanwhile
    if found:
        storage.delete(key)  # a document uploaded but never completed: never verified
    logger.info("upload slot expired", extra={"clinic_id": clinic_id, "id": entity_id})
    return True


def _exists(key: str) -> bool:
    try:
        storage.head(key)
    except storage.ObjectMissing:
        return False
    return True


def _unindex(model: Any, item: Any) -> None:
    try:
        item.update(
            actions=[model.GSI1PK.remove(), model.GSI1SK.remove()],
            condition=(model.status != "pending") | (model.deleted == True),  # noqa: E712
        )
    except Exception:  # noqa: BLE001 - only tidying: the entry is skipped again next time
        logger.warning("could not clear an upload-expiry entry")
