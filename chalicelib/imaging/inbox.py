"""The clinic's inbox of unassigned captures: Bridge captures that matched no patient (or more
than one) wait here, as images under the sentinel patient :data:`~chalicelib.imaging.models.INBOX`,
until staff assign them to a patient (the whole DICOM study at once) or discard them.

* Listing is one Query on GSI2 ``C#<cid>#INBOX`` (newest first), never a scan.
* Assigning moves each image item under the patient in one transaction per batch (the image,
  its ImageRef, its tooth index and an audit entry), conditioned on it still being in the
  inbox and done processing: an image still ``pending``/``processing`` answers 409, since the
  worker is writing to it. A study larger than one transaction allows moves in consecutive
  transactions, the chosen image first; assigning again moves whatever is left.
* Discarding is a soft delete, audited, that frees the file's SHA-256 so it may be sent again.

docs/adr/1001-bridge-devices.md.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.crypto import open_sealed
from chalicelib.core.db import Item, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.imaging import schemas
from chalicelib.imaging.models import INBOX, CaptureDigest, Image, ImageRef
from chalicelib.imaging.service import (
    find_image,
    listed,
    place,
    reindex,
    to_out,
    tooth_keys,
)
from chalicelib.patients import service as patients

BUSY = frozenset({"pending", "processing"})
MAX_TX_ITEMS = 100
"""DynamoDB's limit of items in one transaction."""


# --- shaping -------------------------------------------------------------------------------


def hints_of(clinic_id: str, img: Image) -> schemas.HintsOut:
    """The capture's hints (the DICOM patient fields are sealed at rest)."""
    hints: dict[str, Any] = {}
    if img.hints_sealed:
        try:
            hints = json.loads(open_sealed(clinic_id, img.hints_sealed))
        except Exception:  # noqa: BLE001 - hints are a help, never a reason to fail a read
            logger.warning("could not open the hints of a capture")
    return schemas.HintsOut(
        filename=img.filename,
        dicom_patient_name=hints.get("dicom_patient_name"),
        dicom_patient_id=hints.get("dicom_patient_id"),
        dicom_birth_date=hints.get("dicom_birth_date"),
    )


def capture_out(principal: Principal, img: Image) -> schemas.CaptureOut:
    m = img.match or {}
    return schemas.CaptureOut(
        **to_out(principal, img).model_dump(),
        device_id=img.device_id,
        device_name=img.device_name,
        match=schemas.MatchOut(
            by=m.get("by"), reason=m.get("reason"), candidates=list(m.get("candidates") or [])
        ),
        hints=hints_of(principal.clinic_id, img),
    )


# --- reads ---------------------------------------------------------------------------------


def list_inbox(principal: Principal, q: schemas.InboxQuery) -> Page:
    """The inbox, newest capture first."""
    pk = Image.inbox_pk(principal.clinic_id)
    cond = listed(now())  # not deleted, not an expired (or stale pending) slot
    if q.status:
        cond &= Image.status == q.status
    result = Item.gsi2.query(
        pk,
        filter_condition=cond,
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk)),
    )
    items = [capture_out(principal, i) for i in result if isinstance(i, Image)]
    return Page(items, encode_cursor(result.last_evaluated_key))


def _not_in_inbox() -> NotFound:
    return NotFound(
        tr(
            "No capture with that id in this clinic's inbox.",
            "No hay ninguna captura con ese id en la bandeja de entrada de esta clínica.",
        ),
        code="CAPTURE_NOT_FOUND",
    )


def load_inbox_image(clinic_id: str, image_id: str) -> Image:
    img = find_image(clinic_id, image_id)
    if img is None or img.deleted or not img.in_inbox:
        raise _not_in_inbox()
    return img


def study_siblings(clinic_id: str, img: Image) -> list[Image]:
    """The other inbox images of the same DICOM study (one Query on the inbox)."""
    if not img.study_uid:
        return []
    pk = Image.inbox_pk(clinic_id)
    # Expired slots (and pending ones whose form expired) never hold an assignment back.
    cond = (Image.study_uid == img.study_uid) & listed(now())
    return [
        i
        for i in Item.gsi2.query(pk, filter_condition=cond)
        if isinstance(i, Image) and i.image_id != img.image_id
    ]


# --- assign --------------------------------------------------------------------------------


def _busy(images: list[Image]) -> Conflict:
    return Conflict(
        tr(
            f"{len(images)} file(s) of this capture are still being uploaded or processed; "
            "assign it when they are ready (or discard the ones that never arrive).",
            f"{len(images)} archivo(s) de esta captura aún se están subiendo o procesando; "
            "asígnala cuando estén listos (o descarta los que no lleguen).",
        ),
        code="CAPTURE_NOT_READY",
        data={"image_ids": [i.image_id for i in images]},
    )


def _moved(clinic_id: str, img: Image, patient_id: str, principal: Principal) -> Image:
    """A copy of ``img`` placed under ``patient_id`` (not saved)."""
    values = {
        k: v
        for k, v in img.attribute_values.items()
        if k not in ("PK", "SK", "entity") and v is not None
    }
    values.update(
        patient_id=patient_id,
        assigned_at=now(),
        assigned_by=principal.user_id,
        updated_at=now(),
    )
    for k in ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"):
        values.pop(k, None)
    new = Image(*Image.key(clinic_id, patient_id, img.image_id), **values)
    new.deleted = bool(img.deleted)
    new.event_published = bool(img.event_published)
    place(clinic_id, new)
    return new


def _items_for(img: Image) -> int:
    return 4 + len(img.teeth or [])  # delete, put, ref, audit, tooth index entries


def _move(principal: Principal, batch: list[Image], patient_id: str) -> list[Image]:
    cid = principal.clinic_id
    out = []
    with transaction() as tx:
        for img in batch:
            new = _moved(cid, img, patient_id, principal)
            tx.delete(
                img,
                condition=Image.status.is_in("ready", "failed") & (Image.deleted == False),  # noqa: E712
            )
            tx.save(new, condition=Image.SK.does_not_exist())
            tx.update(
                ImageRef(*ImageRef.key(cid, img.image_id)),
                actions=[ImageRef.patient_id.set(patient_id)],
                condition=ImageRef.patient_id == INBOX,
            )
            reindex(tx, cid, new, tooth_keys(cid, img))
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "capture.assigned",
                    "image",
                    img.image_id,
                    before={"patient_id": None, "inbox": True},
                    after={"patient_id": patient_id, "inbox": False},
                )
            )
            out.append(new)
    return out


def assign(principal: Principal, image_id: str, patient_id: str) -> schemas.ImageOut:
    """Move the capture, and every other inbox capture of its DICOM study, to the patient."""
    cid = principal.clinic_id
    img = load_inbox_image(cid, image_id)
    patients.load(cid, patient_id)  # 404 for another clinic's (or no) patient
    group = [img, *study_siblings(cid, img)]
    busy = [i for i in group if i.status in BUSY]
    if busy:
        raise _busy(busy)
    batches: list[list[Image]] = [[]]
    used = 0
    for i in group:
        if used + _items_for(i) > MAX_TX_ITEMS:
            batches.append([])
            used = 0
        batches[-1].append(i)
        used += _items_for(i)
    moved: list[Image] = []
    for n, batch in enumerate(batches):
        try:
            moved += _move(principal, batch, patient_id)
        except TransactWriteError as exc:
            if n == 0:
                raise Conflict(
                    tr(
                        "The capture changed meanwhile (assigned, discarded or processing "
                        "again); reload the inbox.",
                        "La captura ha cambiado mientras tanto (asignada, descartada o en "
                        "proceso); vuelve a cargar la bandeja.",
                    ),
                    code="CAPTURE_CHANGED",
                ) from exc
            logger.warning("part of a study could not be moved; it stays in the inbox")
            break
    events.publish(
        "capture.assigned",
        cid,
        principal.actor,
        image_id=image_id,
        patient_id=patient_id,
        study_uid=img.study_uid,
        count=len(moved),
    )
    return to_out(principal, moved[0], detail=True)


# --- discard -------------------------------------------------------------------------------


def discard(principal: Principal, image_id: str) -> None:
    cid = principal.clinic_id
    img = load_inbox_image(cid, image_id)
    at = now()
    try:
        with transaction() as tx:
            tx.update(
                img,
                actions=Image.deletion(principal.user_id, at),
                condition=(Image.deleted == False) & Image.SK.exists(),  # noqa: E712
            )
            if img.sha256:
                tx.delete(CaptureDigest(*CaptureDigest.key(cid, img.sha256)))
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "capture.discarded",
                    "image",
                    image_id,
                    before={"deleted": False, "kind": img.kind, "filename": img.filename},
                    after={"deleted": True, "kind": img.kind, "filename": img.filename},
                )
            )
    except TransactWriteError as exc:
        raise _not_in_inbox() from exc
