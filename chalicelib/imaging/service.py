"""Image rules: upload slots, records, reads with presigned URLs, metadata edits, soft delete,
before/after pairs, a tooth's X-rays over time and the clinic's imaging settings.

Services take the acting principal; every key is built from ``principal.clinic_id``. A
patient id from the path is checked against the clinic first, so another clinic's patient (or
image) is a 404, never an empty list that would confirm it exists.

Lean on purpose: this module is imported by the API and must not import Pillow, pydicom or
numpy (the worker, :mod:`chalicelib.imaging.worker`, does the rendering).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.agenda.models import Appointment
from chalicelib.billing.models import Treatment
from chalicelib.core import audit, storage
from chalicelib.core.api import Page, Principal
from chalicelib.core.crypto import open_sealed
from chalicelib.core.db import Item, clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.imaging import schemas, uploads
from chalicelib.imaging.models import (
    ORIGINAL_TAG,
    CaptureDigest,
    Image,
    ImagePair,
    ImageRef,
    ImagingSettings,
    ToothXray,
    original_key,
    upload_prefix,
)
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient

MB = 1024 * 1024
XRAY_KINDS = frozenset({"xray", "dicom"})
MAX_COMPARE = 200
#: The kinds, in plural, as the Spanish messages name them.
_KINDS_ES = {"photo": "fotos", "xray": "radiografías", "dicom": "estudios DICOM"}


# --- settings ------------------------------------------------------------------------------


def _env_mb(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Effective:
    """The limits and formats that apply to one clinic (its settings over the env defaults)."""

    xray_full_format: str
    max_photo_bytes: int
    max_dicom_bytes: int
    max_document_bytes: int

    def max_bytes(self, kind: str) -> int:
        return self.max_dicom_bytes if kind == "dicom" else self.max_photo_bytes

    def out(self) -> schemas.ImagingSettingsOut:
        return schemas.ImagingSettingsOut(
            xray_full_format=self.xray_full_format,  # type: ignore[arg-type]
            max_photo_mb=self.max_photo_bytes // MB,
            max_dicom_mb=self.max_dicom_bytes // MB,
            max_document_mb=self.max_document_bytes // MB,
        )


def effective_settings(clinic_id: str) -> Effective:
    try:
        s: ImagingSettings | None = ImagingSettings.get(*ImagingSettings.key(clinic_id))
    except DoesNotExist:
        s = None
    photo_mb = _env_mb("IMAGING_MAX_PHOTO_MB", 25)
    dicom_mb = _env_mb("IMAGING_MAX_DICOM_MB", 100)
    return Effective(
        xray_full_format=(s.xray_full_format if s else None)
        or os.environ.get("IMAGING_XRAY_FULL_FORMAT", "jpeg"),
        max_photo_bytes=int((s.max_photo_mb if s and s.max_photo_mb else photo_mb) * MB),
        max_dicom_bytes=int((s.max_dicom_mb if s and s.max_dicom_mb else dicom_mb) * MB),
        max_document_bytes=_env_mb("IMAGING_MAX_DOCUMENT_MB", 25) * MB,
    )


def get_settings(principal: Principal) -> schemas.ImagingSettingsOut:
    return effective_settings(principal.clinic_id).out()


def put_settings(
    principal: Principal, data: schemas.ImagingSettingsIn
) -> schemas.ImagingSettingsOut:
    cid = principal.clinic_id
    before = effective_settings(cid).out().model_dump()
    item = ImagingSettings(
        *ImagingSettings.key(cid),
        xray_full_format=data.xray_full_format,
        max_photo_mb=data.max_photo_mb,
        max_dicom_mb=data.max_dicom_mb,
        updated_at=now(),
        updated_by=principal.user_id,
    )
    item.save()
    after = effective_settings(cid).out()
    audit.record(
        cid,
        principal.actor,
        "imaging.settings.updated",
        "imaging_settings",
        cid,
        before=before,
        after=after.model_dump(),
    )
    return after


# --- loading -------------------------------------------------------------------------------


def patient_of(principal: Principal, patient_id: str) -> Patient:
    """The patient of the principal's clinic, or 404 (also for another clinic's id)."""
    return patients.load(principal.clinic_id, patient_id)


def _not_found() -> NotFound:
    return NotFound(
        tr(
            "No image with that id for this patient.",
            "No hay ninguna imagen con ese id para este paciente.",
        ),
        code="IMAGE_NOT_FOUND",
    )


def load_image(clinic_id: str, patient_id: str, image_id: str, *, consistent: bool = True) -> Image:
    try:
        img = Image.get(*Image.key(clinic_id, patient_id, image_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise _not_found() from exc
    if img.deleted:
        raise _not_found()
    return img


def find_image(clinic_id: str, image_id: str) -> Image | None:
    """An image by id alone (deleted ones included), through its ImageRef."""
    try:
        ref = ImageRef.get(*ImageRef.key(clinic_id, image_id), consistent_read=True)
        return Image.get(*Image.key(clinic_id, ref.patient_id, image_id), consistent_read=True)
    except DoesNotExist:
        return None


def check_links(
    clinic_id: str, patient_id: str, *, appointment_id: str | None, treatment_id: str | None
) -> None:
    """The ids a body links an image to, resolved within the clinic (422 naming the field
    otherwise), so another clinic's ids are never stored nor shown in the audit log.

    ``appointment_id`` must be an appointment of this patient; ``treatment_id`` a treatment
    of the clinic's catalog (the only treatment entity there is: budget and invoice lines
    point at it too; docs/adr/0014-upload-integrity-and-expiry.md).
    """
    errors = []
    if appointment_id:
        try:
            appt = Appointment.get(*Appointment.key(clinic_id, appointment_id))
        except DoesNotExist:
            appt = None
        if appt is None or appt.patient_id != patient_id:
            errors.append(
                {
                    "field": "appointment_id",
                    "message": tr(
                        "is not an appointment of this patient",
                        "no es una cita de este paciente",
                    ),
                }
            )
    if treatment_id:
        try:
            Treatment.get(*Treatment.key(clinic_id, treatment_id))
        except DoesNotExist:
            errors.append(
                {
                    "field": "treatment_id",
                    "message": tr(
                        "is not a treatment of this clinic's catalog",
                        "no es un tratamiento del catálogo de esta clínica",
                    ),
                }
            )
    if errors:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."), errors=errors
        )


def _require_kind_write(principal: Principal, kind: str) -> None:
    needed = "imaging.xrays.write" if kind in XRAY_KINDS else "imaging.images.write"
    if not principal.can(needed):
        raise Forbidden(
            tr(
                f"Your role does not allow this: it needs the '{needed}' permission.",
                f"Tu rol no permite hacer esto: hace falta el permiso '{needed}'.",
            ),
            code="FORBIDDEN",
            data={"permission": needed},
        )


# --- shaping -------------------------------------------------------------------------------


def sort_date(img: Image) -> str:
    return img.acquired_on or img.created_at.date().isoformat()


def place(clinic_id: str, img: Image) -> None:
    """Set the listing keys of an image from where it is: under its patient by acquisition
    date (GSI2), or in the inbox by arrival; a Bridge capture also under its device (GSI3)."""
    if img.in_inbox:
        img.GSI2PK, img.GSI2SK = Image.inbox_pk(clinic_id), img.image_id
    else:
        img.GSI2PK = Image.by_date_pk(clinic_id, img.patient_id)
        img.GSI2SK = Image.by_date_sk(sort_date(img), img.image_id)
    if img.device_id:
        img.GSI3PK, img.GSI3SK = Image.by_device_pk(clinic_id, img.device_id), img.image_id


def _dicom_info(clinic_id: str, img: Image, *, with_phi: bool) -> schemas.DicomInfo | None:
    md = img.metadata or {}
    if md.get("source_kind") != "dicom":
        return None
    info = schemas.DicomInfo.model_validate(
        {k: md.get(k) for k in schemas.DicomInfo.model_fields if k not in ("study_date",)}
        | {"study_date": md.get("acquisition_date")}
    )
    if with_phi and img.dicom_patient_sealed:
        try:
            who = json.loads(open_sealed(clinic_id, img.dicom_patient_sealed))
            info.patient_name, info.patient_id = who.get("name"), who.get("id")
        except Exception:  # noqa: BLE001 - a sealed value that no longer opens is not fatal
            logger.warning("could not open the DICOM patient of an image")
    return info


def _urls(principal: Principal, img: Image) -> dict[str, schemas.RenditionUrl]:
    out: dict[str, schemas.RenditionUrl] = {}
    cid = principal.clinic_id
    if img.status == "ready" and img.renditions:
        for name in ("thumb", "preview", "full"):
            r = img.renditions.get(name)
            if not r:
                continue
            url, exp = storage.presigned_get(
                upload_prefix(cid, img.image_id) + r["file"], content_type=r["content_type"]
            )
            out[name] = schemas.RenditionUrl(
                url=url,
                expires_at=exp,
                content_type=r["content_type"],
                width=r.get("width"),
                height=r.get("height"),
                size=r.get("size"),
            )
    needed = "imaging.xrays.write" if img.kind in XRAY_KINDS else "imaging.images.write"
    if img.status in ("ready", "failed") and principal.can(needed):
        # A failed upload's bytes were never verified: never let a browser render them as
        # the type the client declared.
        ctype = img.content_type or "application/octet-stream"
        url, exp = storage.presigned_get(
            original_key(cid, img.image_id),
            content_type=ctype,
            cache_control="private, max-age=3600",
            filename=img.filename,
            attachment=True,
        )
        out["original"] = schemas.RenditionUrl(
            url=url, expires_at=exp, content_type=ctype, size=img.original_bytes
        )
    return out


def _num(v: Any) -> int | None:
    return int(v) if v is not None else None


def to_out(principal: Principal, img: Image, *, detail: bool = False) -> schemas.ImageOut:
    return schemas.ImageOut(
        image_id=img.image_id,
        patient_id=None if img.in_inbox else img.patient_id,
        inbox=img.in_inbox,
        source=img.source or "staff",  # type: ignore[arg-type]
        study_uid=img.study_uid,
        series_uid=img.series_uid,
        series_number=_num(img.series_number),
        instance_number=_num(img.instance_number),
        kind=img.kind,  # type: ignore[arg-type]
        status=img.status,  # type: ignore[arg-type]
        reason=img.reason,
        reason_es=img.reason_es,
        reason_code=img.reason_code,
        category=img.category,  # type: ignore[arg-type]
        xray_type=img.xray_type,  # type: ignore[arg-type]
        teeth=[int(t) for t in (img.teeth or [])],
        acquired_at=date.fromisoformat(img.acquired_on) if img.acquired_on else None,
        appointment_id=img.appointment_id,
        treatment_id=img.treatment_id,
        notes=img.notes,
        filename=img.filename,
        content_type=img.content_type,
        width=int(img.width) if img.width is not None else None,
        height=int(img.height) if img.height is not None else None,
        original_bytes=int(img.original_bytes) if img.original_bytes is not None else None,
        hot_bytes=int(img.hot_bytes) if img.hot_bytes is not None else None,
        compression_ratio=float(img.compression_ratio)
        if img.compression_ratio is not None
        else None,
        dicom=_dicom_info(principal.clinic_id, img, with_phi=detail),
        patient_mismatch=bool(img.patient_mismatch),
        patient_mismatch_fields=list(img.patient_mismatch_fields or []),
        urls=_urls(principal, img),
        created_at=img.created_at,
        created_by=img.created_by,
        updated_at=img.updated_at,
        processed_at=img.processed_at,
    )


def _fields(img: Image) -> dict[str, Any]:
    """The editable fields, for audit diffs."""
    return {
        "category": img.category,
        "xray_type": img.xray_type,
        "teeth": [int(t) for t in (img.teeth or [])],
        "acquired_at": img.acquired_on,
        "appointment_id": img.appointment_id,
        "treatment_id": img.treatment_id,
        "notes": img.notes,
    }


# --- the tooth index -----------------------------------------------------------------------


def tooth_keys(clinic_id: str, img: Image) -> set[tuple[str, str]]:
    """Keys of the ToothXray items an image should have: X-rays with teeth, not deleted, and
    whose file is coming or came (not one that failed or never arrived)."""
    if img.kind not in XRAY_KINDS or img.deleted or not img.teeth or img.in_inbox:
        return set()
    if img.status in ("failed", "expired"):
        return set()
    day = sort_date(img)
    return {ToothXray.key(clinic_id, img.patient_id, int(t), day, img.image_id) for t in img.teeth}


def reindex(tx: Any, clinic_id: str, img: Image, old_keys: set[tuple[str, str]]) -> None:
    """Add to ``tx`` the puts and deletes that move the tooth index from ``old_keys`` to the
    image's current teeth and date."""
    new_keys = tooth_keys(clinic_id, img)
    for pk, sk in old_keys - new_keys:
        tx.delete(ToothXray(pk, sk))
    day = sort_date(img)
    for pk, sk in new_keys - old_keys:
        tooth = int(sk.split("#XRT#", 1)[1].split("#", 1)[0])
        tx.save(ToothXray(pk, sk, image_id=img.image_id, tooth=tooth, acquired_on=day))


# --- upload --------------------------------------------------------------------------------


def create_upload(
    principal: Principal, patient_id: str, data: schemas.ImageIn
) -> schemas.ImageUploadOut:
    _require_kind_write(principal, data.kind)
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    check_links(cid, patient_id, appointment_id=data.appointment_id, treatment_id=data.treatment_id)
    limits = effective_settings(cid)
    max_bytes = limits.max_bytes(data.kind)
    if data.size > max_bytes:
        raise Unprocessable(
            tr("The file is too large.", "El archivo es demasiado grande."),
            errors=[
                {
                    "field": "size",
                    "message": tr(
                        f"{data.size / MB:.1f} MB is over the {max_bytes // MB} MB "
                        f"limit for {'DICOM' if data.kind == 'dicom' else data.kind + 's'}",
                        f"{data.size / MB:.1f} MB supera el límite de {max_bytes // MB} MB "
                        f"para {_KINDS_ES.get(data.kind, data.kind)}",
                    ),
                }
            ],
        )
    image_id = new_id()
    at = now()
    img = Image(
        *Image.key(cid, patient_id, image_id),
        image_id=image_id,
        patient_id=patient_id,
        kind=data.kind,
        category=data.category,
        xray_type=data.xray_type,
        teeth=data.teeth or None,
        acquired_on=data.acquired_at.isoformat() if data.acquired_at else None,
        appointment_id=data.appointment_id,
        treatment_id=data.treatment_id,
        notes=data.notes,
        filename=data.filename,
        declared_type=data.content_type,
        declared_size=data.size,
        status="pending",
        upload_token=uploads.new_token(),
        created_at=at,
        created_by=principal.user_id,
        updated_at=at,
    )
    place(cid, img)
    uploads.index_slot(img, cid, "IMG", image_id)
    with transaction() as tx:
        tx.save(img, condition=Image.SK.does_not_exist())
        tx.save(
            ImageRef(*ImageRef.key(cid, image_id), image_id=image_id, patient_id=patient_id),
            condition=ImageRef.SK.does_not_exist(),
        )
        reindex(tx, cid, img, set())
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "image.upload_requested",
                "image",
                image_id,
                after={"patient_id": patient_id, "kind": data.kind, **_fields(img)},
            )
        )
    # The policy allows exactly the declared size at most (not the kind's maximum), and the
    # worker checks the same (docs/adr/0014-upload-integrity-and-expiry.md).
    form = uploads.form(
        original_key(cid, image_id),
        content_type=data.content_type,
        size=data.size,
        token=img.upload_token,
        tags=dict([ORIGINAL_TAG]),
    )
    logger.info("image upload slot created", extra={"image_id": image_id, "kind": data.kind})
    return schemas.ImageUploadOut(
        image=to_out(principal, img), upload=schemas.UploadForm(**form, max_bytes=data.size)
    )


# --- reads ---------------------------------------------------------------------------------


def listed(at: datetime) -> Any:
    """The filter of every image listing: not deleted, not expired, and not a pending slot
    whose form has expired (the ``upload-expiry`` job marks those ``expired`` later)."""
    stale = (Image.status == "pending") & (Image.created_at < uploads.stale_before(at))
    return (Image.deleted == False) & (Image.status != "expired") & ~stale  # noqa: E712


def list_images(principal: Principal, patient_id: str, q: schemas.ImageQuery) -> Page:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    pk = Image.by_date_pk(cid, patient_id)
    range_cond = None
    if q.date_from and q.date_to:
        range_cond = Item.GSI2SK.between(q.date_from.isoformat(), q.date_to.isoformat() + "#~")
    elif q.date_from:
        range_cond = Item.GSI2SK >= q.date_from.isoformat()  # noqa: SIM300
    elif q.date_to:
        range_cond = Item.GSI2SK <= q.date_to.isoformat() + "#~"  # noqa: SIM300
    cond = listed(now())
    if q.kind:
        cond &= Image.kind == q.kind
    if q.category:
        cond &= Image.category == q.category
    if q.xray_type:
        cond &= Image.xray_type == q.xray_type
    if q.status:
        cond &= Image.status == q.status
    if q.tooth is not None:
        cond &= Image.teeth.contains(q.tooth)
    result = Item.gsi2.query(
        pk,
        range_key_condition=range_cond,
        filter_condition=cond,
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk)),
    )
    items = [to_out(principal, i) for i in result if isinstance(i, Image)]
    return Page(items, encode_cursor(result.last_evaluated_key))


def get_image(principal: Principal, patient_id: str, image_id: str) -> schemas.ImageOut:
    patient_of(principal, patient_id)
    return to_out(principal, load_image(principal.clinic_id, patient_id, image_id), detail=True)


def get_image_by_id(principal: Principal, image_id: str) -> schemas.ImageOut:
    img = find_image(principal.clinic_id, image_id)
    if img is None or img.deleted:
        raise _not_found()
    return to_out(principal, img, detail=True)


def compare(principal: Principal, patient_id: str, tooth: int) -> list[schemas.ImageOut]:
    """That tooth's X-rays, oldest first (ready ones; one Query on the tooth index)."""
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    entries = list(
        ToothXray.query(
            clinic_pk(cid),
            ToothXray.SK.startswith(ToothXray.prefix(patient_id, tooth)),
            limit=MAX_COMPARE,
        )
    )
    ids = list(dict.fromkeys(e.image_id for e in entries if isinstance(e, ToothXray)))
    if not ids:
        return []
    found = {
        i.image_id: i
        for i in Image.batch_get([Image.key(cid, patient_id, iid) for iid in ids])
        if isinstance(i, Image)
    }
    return [
        to_out(principal, found[iid])
        for iid in ids
        if iid in found and not found[iid].deleted and found[iid].status == "ready"
    ]


# --- edits ---------------------------------------------------------------------------------


def update_image(
    principal: Principal, patient_id: str, image_id: str, data: schemas.ImageUpdate
) -> schemas.ImageOut:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    img = load_image(cid, patient_id, image_id)
    _require_kind_write(principal, img.kind)
    sent = data.model_dump(exclude_unset=True)
    check_links(
        cid,
        patient_id,
        appointment_id=sent.get("appointment_id"),
        treatment_id=sent.get("treatment_id"),
    )
    if img.kind == "photo" and sent.get("xray_type"):
        raise Unprocessable(
            tr("xray_type is only for X-rays.", "xray_type es solo para radiografías."),
            errors=[{"field": "xray_type", "message": tr("photo", "foto")}],
        )
    if img.kind != "photo" and sent.get("category"):
        raise Unprocessable(
            tr("category is only for photos.", "category es solo para fotos."),
            errors=[{"field": "category", "message": tr("X-ray", "radiografía")}],
        )
    before = _fields(img)
    old_keys = tooth_keys(cid, img)
    actions = []
    for field, value in sent.items():
        if field == "acquired_at":
            img.acquired_on = value.isoformat() if value else None
            actions.append(
                Image.acquired_on.set(img.acquired_on)
                if img.acquired_on
                else Image.acquired_on.remove()
            )
        elif field == "teeth":
            img.teeth = value or None
            actions.append(Image.teeth.set(value) if value else Image.teeth.remove())
        else:
            setattr(img, field, value)
            attr = getattr(Image, field)
            actions.append(attr.set(value) if value is not None else attr.remove())
    if not actions:
        return to_out(principal, img, detail=True)
    img.updated_at = now()
    img.GSI2SK = Image.by_date_sk(sort_date(img), image_id)
    actions += [Image.updated_at.set(img.updated_at), Image.GSI2SK.set(img.GSI2SK)]
    try:
        with transaction() as tx:
            tx.update(img, actions=actions, condition=Image.deleted == False)  # noqa: E712
            reindex(tx, cid, img, old_keys)
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "image.updated",
                    "image",
                    image_id,
                    before=before,
                    after=_fields(img),
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The image changed meanwhile (or was deleted); reload it.",
                "La imagen ha cambiado mientras tanto (o se ha eliminado); vuelve a cargarla.",
            )
        ) from exc
    return to_out(principal, load_image(cid, patient_id, image_id), detail=True)


def delete_image(principal: Principal, patient_id: str, image_id: str) -> None:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    img = load_image(cid, patient_id, image_id)
    _require_kind_write(principal, img.kind)
    old_keys = tooth_keys(cid, img)
    at = now()
    try:
        with transaction() as tx:
            tx.update(
                img,
                actions=Image.deletion(principal.user_id, at),
                condition=Image.deleted == False,  # noqa: E712
            )
            for pk, sk in old_keys:
                tx.delete(ToothXray(pk, sk))
            if img.sha256:  # the same file may be sent by the Bridge again
                tx.delete(CaptureDigest(*CaptureDigest.key(cid, img.sha256)))
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "image.deleted",
                    "image",
                    image_id,
                    before={"deleted": False, "kind": img.kind, "filename": img.filename},
                    after={"deleted": True, "kind": img.kind, "filename": img.filename},
                )
            )
    except TransactWriteError as exc:
        raise _not_found() from exc


# --- before/after pairs --------------------------------------------------------------------


def _pair_out(principal: Principal, p: ImagePair, imgs: dict[str, Image]) -> schemas.PairOut:
    return schemas.PairOut(
        pair_id=p.pair_id,
        patient_id=p.patient_id,
        title=p.title,
        before=to_out(principal, imgs[p.before_id]),
        after=to_out(principal, imgs[p.after_id]),
        created_at=p.created_at,
        created_by=p.created_by,
    )


def _not_a_photo(field: str, why: str) -> Unprocessable:
    return Unprocessable(
        tr(
            "Both images must be photos of this patient.",
            "Las dos imágenes deben ser fotos de este paciente.",
        ),
        errors=[{"field": field, "message": why}],
    )


def create_pair(principal: Principal, patient_id: str, data: schemas.PairIn) -> schemas.PairOut:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    imgs = {}
    for field, iid in (("before_id", data.before_id), ("after_id", data.after_id)):
        try:
            img = load_image(cid, patient_id, iid)
        except NotFound as exc:
            raise _not_a_photo(
                field,
                tr("no such image for this patient", "no existe esa imagen para este paciente"),
            ) from exc
        if img.kind != "photo":
            raise _not_a_photo(
                field,
                tr("before/after pairs are of photos", "los pares antes/después son de fotos"),
            )
        imgs[iid] = img
    pair_id = new_id()
    pair = ImagePair(
        *ImagePair.key(cid, patient_id, pair_id),
        pair_id=pair_id,
        patient_id=patient_id,
        before_id=data.before_id,
        after_id=data.after_id,
        title=data.title,
        created_at=now(),
        created_by=principal.user_id,
    )
    with transaction() as tx:
        tx.save(pair, condition=ImagePair.SK.does_not_exist())
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "image.pair_created",
                "image_pair",
                pair_id,
                after={"before_id": data.before_id, "after_id": data.after_id},
            )
        )
    return _pair_out(principal, pair, imgs)


def list_pairs(principal: Principal, patient_id: str) -> list[schemas.PairOut]:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    pairs = [
        p
        for p in ImagePair.query(
            clinic_pk(cid),
            ImagePair.SK.startswith(ImagePair.prefix(patient_id)),
            scan_index_forward=False,
        )
        if isinstance(p, ImagePair)
    ]
    ids = {i for p in pairs for i in (p.before_id, p.after_id)}
    imgs: dict[str, Image] = {}
    keys = [Image.key(cid, patient_id, iid) for iid in ids]
    for i in Image.batch_get(keys) if keys else []:
        if isinstance(i, Image) and not i.deleted:
            imgs[i.image_id] = i
    return [
        _pair_out(principal, p, imgs) for p in pairs if p.before_id in imgs and p.after_id in imgs
    ]


def delete_pair(principal: Principal, patient_id: str, pair_id: str) -> None:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    try:
        pair = ImagePair.get(*ImagePair.key(cid, patient_id, pair_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No such before/after pair for this patient.",
                "No existe ese par antes/después para este paciente.",
            )
        ) from exc
    with transaction() as tx:
        tx.delete(pair)
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "image.pair_deleted",
                "image_pair",
                pair_id,
                before={"before_id": pair.before_id, "after_id": pair.after_id},
            )
        )
