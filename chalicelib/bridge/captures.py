"""Captures, the device side: request an upload (matching the patient, or the inbox), report
its outcome, and read its status. A capture is an imaging ``Image`` (``source: "bridge"``)
that goes through the same presigned POST and image worker as a staff upload.

* Dedupe: the SHA-256 the Bridge declares is claimed per clinic (``CaptureDigest``, written
  with ``attribute_not_exists`` in the capture's own transaction). The same bytes again answer
  200 ``duplicate: true`` with the earlier capture; if that one is still ``pending`` (never
  uploaded: the Bridge died mid-upload), 200 ``duplicate: false`` with a fresh presigned POST
  for the same image id, so a restarted Bridge resumes and nothing is stored twice. The worker
  checks the uploaded bytes against the declared SHA-256.
* ``capture.received`` is published once per capture, when it is first requested.
* A device reads and reports only its own captures (another device's, or another clinic's,
  are 404).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.bridge import devices, matching, schemas
from chalicelib.bridge.models import CaptureDigest, Device
from chalicelib.core import audit, events
from chalicelib.core.api import DevicePrincipal, envelope
from chalicelib.core.crypto import seal
from chalicelib.core.db import transaction
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.imaging import uploads
from chalicelib.imaging.models import INBOX, ORIGINAL_TAG, Image, ImageRef, original_key
from chalicelib.imaging.service import MB, effective_settings, find_image, place

DICOM_TYPES = frozenset({"application/dicom", "application/octet-stream"})


# --- helpers -------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."),
        errors=[{"field": field, "message": message}],
    )


def _resolve_kind(d: Device, data: schemas.CaptureIn) -> tuple[str, str | None, str | None]:
    """The capture's kind, X-ray type and category: what the Bridge sent, else what the file
    is (DICOM by its type or extension), else the device's defaults."""
    defaults = d.defaults or {}
    if data.kind:
        kind = data.kind
    elif data.content_type in DICOM_TYPES or data.filename.lower().endswith(".dcm"):
        kind = "dicom"
    else:
        kind = defaults.get("kind", "xray")
        if kind == "dicom":  # a raster file from a DICOM device is an X-ray
            kind = "xray"
    xray_type = data.xray_type or (defaults.get("xray_type") if kind != "photo" else None)
    category = data.category or (defaults.get("category") if kind == "photo" else None)
    try:
        schemas.check_kind(kind, data.content_type, xray_type, category)
    except ValueError as exc:
        raise _invalid("content_type" if "content_type" in str(exc) else "kind", str(exc)) from exc
    return kind, xray_type, category


def _upload(clinic_id: str, img: Image) -> schemas.UploadOut:
    """The capture's presigned POST: at most the declared size, with the slot's token (the
    worker checks both; docs/adr/0014-upload-integrity-and-expiry.md)."""
    size = int(img.declared_size)
    form = uploads.form(
        original_key(clinic_id, img.image_id),
        content_type=img.declared_type,
        size=size,
        token=img.upload_token,
        tags=dict([ORIGINAL_TAG]),
    )
    return schemas.UploadOut(
        url=form["url"],
        fields=form["fields"],
        expires_at=now() + timedelta(seconds=int(form["expires_in"])),
        max_bytes=size,
    )


def _match_out(img: Image) -> schemas.CaptureMatch:
    m = img.match or {}
    return schemas.CaptureMatch(
        patient_id=None if img.in_inbox else img.patient_id, by=m.get("by"), reason=m.get("reason")
    )


def _hints(data: schemas.CaptureIn) -> str | None:
    """The DICOM patient fields the Bridge sent, sealed (PHI)."""
    h = data.dicom
    if h is None or not (h.patient_name or h.patient_id or h.birth_date):
        return None
    return json.dumps(
        {
            "dicom_patient_name": h.patient_name,
            "dicom_patient_id": h.patient_id,
            "dicom_birth_date": h.birth_date,
        }
    )


def _not_found() -> NotFound:
    return NotFound(
        tr(
            "No capture with that id from this device.",
            "No hay ninguna captura con ese id de este dispositivo.",
        ),
        code="CAPTURE_NOT_FOUND",
    )


def _own(device: DevicePrincipal, image_id: str) -> Image:
    img = find_image(device.clinic_id, image_id)
    if img is None or img.device_id != device.device_id:
        raise _not_found()
    return img


# --- request -------------------------------------------------------------------------------


def _earlier(device: DevicePrincipal, sha256: str) -> Any:
    """The answer for bytes this clinic already received, or None."""
    cid = device.clinic_id
    try:
        digest = CaptureDigest.get(*CaptureDigest.key(cid, sha256), consistent_read=True)
    except DoesNotExist:
        return None
    img = find_image(cid, digest.image_id)
    if img is None:  # a digest without its image (should not happen): let it be claimed again
        digest.delete()
        return None
    resume = img.status == "pending" and not img.deleted and img.device_id == device.device_id
    out = schemas.CaptureUploadOut(
        image_id=img.image_id,
        status=img.status,  # type: ignore[arg-type]
        duplicate=not resume,
        upload=_upload(cid, img) if resume else None,
        match=_match_out(img),
    )
    logger.info("bridge capture seen before", extra={"image_id": img.image_id, "resume": resume})
    return envelope(out.model_dump(mode="json"), 200)


def request(device: DevicePrincipal, data: schemas.CaptureIn) -> Any:
    """201 with a presigned POST for a new capture; 200 for one already received."""
    cid = device.clinic_id
    d = devices.load(cid, device.device_id)
    kind, xray_type, category = _resolve_kind(d, data)
    max_bytes = effective_settings(cid).max_bytes(kind)
    if data.size > max_bytes:
        raise _invalid(
            "size",
            tr(
                f"{data.size / MB:.1f} MB is over the {max_bytes // MB} MB limit for {kind}",
                f"{data.size / MB:.1f} MB supera el límite de {max_bytes // MB} MB para {kind}",
            ),
        )
    earlier = _earlier(device, data.sha256)
    if earlier is not None:
        return earlier
    at = now()
    found = matching.find(cid, d.cabinet_id, data, at)
    image_id = new_id()
    dicom = data.dicom
    acquired = data.acquired_at or (
        date.fromisoformat(dicom.study_date) if dicom and dicom.study_date else None
    )
    hints = _hints(data)
    img = Image(
        *Image.key(cid, found.patient_id or INBOX, image_id),
        image_id=image_id,
        patient_id=found.patient_id or INBOX,
        kind=kind,
        category=category,
        xray_type=xray_type,
        acquired_on=acquired.isoformat() if acquired else None,
        filename=data.filename,
        declared_type=data.content_type,
        declared_size=data.size,
        status="pending",
        upload_token=uploads.new_token(),
        created_at=at,
        created_by=device.device_id,
        updated_at=at,
        source="bridge",
        device_id=device.device_id,
        device_name=d.name,
        sha256=data.sha256,
        match=found.stored(),
        hints_sealed=seal(cid, hints) if hints else None,
        study_uid=dicom.study_instance_uid if dicom else None,
        series_uid=dicom.series_instance_uid if dicom else None,
        sop_uid=dicom.sop_instance_uid if dicom else None,
        series_number=dicom.series_number if dicom else None,
        instance_number=dicom.instance_number if dicom else None,
    )
    place(cid, img)
    uploads.index_slot(img, cid, "IMG", image_id)
    try:
        with transaction() as tx:
            tx.save(
                CaptureDigest(
                    *CaptureDigest.key(cid, data.sha256),
                    image_id=image_id,
                    device_id=device.device_id,
                    created_at=at,
                ),
                condition=CaptureDigest.SK.does_not_exist(),
            )
            tx.save(img, condition=Image.SK.does_not_exist())
            tx.save(
                ImageRef(
                    *ImageRef.key(cid, image_id), image_id=image_id, patient_id=img.patient_id
                ),
                condition=ImageRef.SK.does_not_exist(),
            )
            tx.save(
                audit.entry(
                    cid,
                    device.actor,
                    "capture.requested",
                    "image",
                    image_id,
                    after={
                        "patient_id": found.patient_id,
                        "inbox": found.patient_id is None,
                        "kind": kind,
                        "match_by": found.by,
                        "match_reason": found.reason,
                    },
                )
            )
    except TransactWriteError:
        # The same bytes were claimed a moment ago (two Bridges, or a retry racing itself).
        earlier = _earlier(device, data.sha256)
        if earlier is not None:
            return earlier
        raise
    _uploaded_now(d)
    events.publish(
        "capture.received",
        cid,
        device.actor,
        image_id=image_id,
        device_id=device.device_id,
        patient_id=found.patient_id,
        inbox=found.patient_id is None,
        kind=kind,
    )
    logger.info(
        "bridge capture requested",
        extra={"image_id": image_id, "inbox": found.patient_id is None, "by": found.by},
    )
    out = schemas.CaptureUploadOut(
        image_id=image_id,
        status="pending",
        duplicate=False,
        upload=_upload(cid, img),
        match=schemas.CaptureMatch(
            patient_id=found.patient_id,
            by=found.by,  # type: ignore[arg-type]
            reason=found.reason,  # type: ignore[arg-type]
        ),
    )
    return out


def _uploaded_now(d: Device) -> None:
    try:
        d.update(actions=[Device.last_upload_at.set(now())], condition=Device.SK.exists())
    except UpdateError:
        logger.warning("could not record the device's last upload")


# --- outcome and status --------------------------------------------------------------------


def reported(
    device: DevicePrincipal, image_id: str, data: schemas.UploadedIn
) -> schemas.CaptureStatusBrief:
    """The Bridge says how the upload to S3 went. A failure marks a still-pending capture
    ``failed`` with the Bridge's reason; a success changes nothing (the worker takes over)."""
    img = _own(device, image_id)
    if not data.ok and img.status == "pending" and not img.deleted:
        at = now()
        reason = "The Bridge could not upload the file" + (f": {data.error}" if data.error else ".")
        try:
            with transaction() as tx:
                tx.update(
                    img,
                    actions=[
                        Image.status.set("failed"),
                        Image.reason.set(reason[:500]),
                        Image.processed_at.set(at),
                        Image.updated_at.set(at),
                        Image.GSI1PK.remove(),  # no longer a slot waiting for its file
                        Image.GSI1SK.remove(),
                    ],
                    condition=Image.status == "pending",
                )
                tx.save(
                    audit.entry(
                        device.clinic_id,
                        device.actor,
                        "capture.upload_failed",
                        "image",
                        image_id,
                        before={"status": "pending"},
                        after={"status": "failed"},
                    )
                )
        except TransactWriteError:
            pass  # the upload arrived after all: the worker has it
        img.refresh(consistent_read=True)
    return schemas.CaptureStatusBrief(image_id=image_id, status=img.status)  # type: ignore[arg-type]


def status(device: DevicePrincipal, image_id: str) -> schemas.CaptureStatusOut:
    img = _own(device, image_id)
    if img.deleted:
        raise _not_found()
    return schemas.CaptureStatusOut(
        image_id=image_id,
        status=img.status,  # type: ignore[arg-type]
        reason=img.reason,
        inbox=img.in_inbox,
        patient_id=None if img.in_inbox else img.patient_id,
    )
