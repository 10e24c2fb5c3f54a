"""The image worker's logic: one S3 ``Object Created`` event (EventBridge, via SQS) for
``clinics/<clinic_id>/uploads/<image_id>/original`` becomes renditions beside the original and
a ``ready`` (or ``failed``) record, an audit entry and the ``image.processed`` event.

Imports the rendering pipeline (Pillow, pydicom, numpy): only ``functions/image_worker.py``
and the local seed import this module, never the API.

Rules (docs/adr/0402-image-worker-idempotency.md):

* The key is re-checked (bucket, exact shape, ULIDs). The clinic id in the key is the only
  tenant the worker touches: the record is looked up under that clinic's partition only.
* What the presigned POST promised is checked before a byte is read, as S3 would (moto does
  not; docs/adr/0014-upload-integrity-and-expiry.md): an object without the slot's token is
  removed, that version only, and the record left alone; one larger than declared or of
  another type is removed and the image fails. The rendered version is the checked version,
  the original then gets its lifecycle tag, and a ``ready`` image's original never changes.
* Claim before work: a conditional update moves the record ``pending -> processing`` with a
  lease owned by the SQS message id. A second delivery of the same upload (another message)
  finds it claimed, or done, and is dropped; a retry of the same message (same id) takes its
  claim back; an expired lease (a worker that died) can be taken over.
* Bad files are not retried: :class:`RenderError` (and any unexpected error) marks the record
  ``failed`` with a reason a person can act on and the message is consumed. Only transient
  AWS errors (throttling, 5xx, connection) are raised, so the batch item is retried; the claim
  is handed back (``pending``) first.
* A file that kills the worker (out of memory, over the Lambda timeout) cannot say why, so
  attempts that ended without a verdict are counted: taking over a ``processing`` record adds
  one, and once there are more than :data:`MAX_INTERRUPTED` the record is marked ``failed``
  instead of rendering again, before the message could reach the queue's DLQ.
* Renditions are written only after the whole render succeeded, so a failed file leaves no
  renditions behind.
* Never logs PHI: no file names, patient names or DICOM header values.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError

from chalicelib.core import audit, events, scoping, storage
from chalicelib.core.config import settings
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import transaction
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.imaging import uploads
from chalicelib.imaging.models import ORIGINAL_TAG, Image, upload_prefix
from chalicelib.imaging.render import PHI_METADATA_KEYS, RenderError, RenderOptions, render
from chalicelib.imaging.service import (
    effective_settings,
    find_image,
    reindex,
    sort_date,
    tooth_keys,
)
from chalicelib.patients.models import Patient

ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
KEY_RE = re.compile(rf"^clinics/(?P<clinic_id>{ULID})/uploads/(?P<image_id>{ULID})/original$")
LEASE_S = 120
"""How long a claim lasts: longer than the worker's Lambda timeout, shorter than the queue's
visibility timeout (so a crashed attempt's own retry, or anyone after it expires, can proceed)."""

MAX_INTERRUPTED = 2
"""Attempts that may end without a verdict (crash, timeout); the next one fails the image. With
the first attempt that makes 4 receives at most, under the queue's 5 before the DLQ."""

MAX_FOREIGN = 5
"""Foreign versions removed per delivery at most (each also has its own event)."""

SYSTEM_ACTOR = {"type": "system", "id": "image-worker", "name": "Image worker"}
MB = 1024 * 1024

TRANSIENT_DDB = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return True
    if isinstance(exc, ReadTimeoutError):
        return True
    if isinstance(exc, ClientError):
        return storage.is_transient(exc)
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        codes = {r.code for r in reasons if r is not None}
        if codes & {"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"}:
            return True
    if isinstance(exc, PynamoDBException):
        if exc.cause_response_code in TRANSIENT_DDB:
            return True
        cause = exc.__cause__
        return cause is not None and is_transient(cause)
    return False


def _conditional_failed(exc: PynamoDBException) -> bool:
    if isinstance(exc, TransactWriteError):
        return any(
            r is not None and r.code == "ConditionalCheckFailed"
            for r in exc.cancellation_reasons or []
        )
    return exc.cause_response_code == "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    clinic_id: str
    image_id: str
    size: int | None
    etag: str | None


def parse(body: str | dict[str, Any]) -> Upload | None:
    """The upload an EventBridge S3 event describes, or None if it is not one of ours."""
    event = json.loads(body) if isinstance(body, str) else body
    if event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
        return None
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if bucket != settings().media_bucket or not isinstance(key, str):
        return None
    m = KEY_RE.match(key)
    if not m:
        return None
    size = obj.get("size")
    return Upload(
        bucket=bucket,
        key=key,
        clinic_id=m["clinic_id"],
        image_id=m["image_id"],
        size=int(size) if isinstance(size, int | float) else None,
        etag=obj.get("etag"),
    )


# --- DICOM patient check -------------------------------------------------------------------


def _tokens(text: str | None) -> set[str]:
    if not text:
        return set()
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return {t for t in re.split(r"[^a-z0-9]+", folded) if len(t) >= 2}


def _norm_id(text: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


_NATIONAL_ID = re.compile(r"^(\d{8}[A-Z]|[XYZ]\d{7}[A-Z])$")


def patient_mismatch(
    dicom_name: str | None,
    dicom_id: str | None,
    *,
    first_name: str,
    surnames: list[str],
    national_id: str | None,
) -> list[str]:
    """Which of the DICOM header's patient fields contradict the target patient.

    Name (``FAMILY^GIVEN`` or free text): flagged when no surname token matches, or when a
    given name is present and shares nothing with the patient's first name. Id: flagged only
    when the DICOM id looks like a DNI/NIE and differs from the patient's national id (sensors
    often store their own internal ids, which prove nothing either way).
    """
    out: list[str] = []
    if dicom_name and _tokens(dicom_name):
        parts = dicom_name.split("^")
        everything = _tokens(dicom_name.replace("^", " "))
        surname_tokens = set().union(*(_tokens(s) for s in surnames)) if surnames else set()
        first_tokens = _tokens(first_name)
        ok = bool(everything & surname_tokens)
        given = _tokens(parts[1]) if len(parts) > 1 else set()
        if ok and given and not (given & first_tokens):
            ok = False
        if not ok:
            out.append("name")
    did, nid = _norm_id(dicom_id), _norm_id(national_id)
    if did and nid and _NATIONAL_ID.match(did) and did != nid:
        out.append("national_id")
    return out


def _check_patient(clinic_id: str, patient_id: str, md: dict[str, Any]) -> list[str]:
    name, pid = md.get("patient_name"), md.get("patient_id")
    if not name and not pid:
        return []
    try:
        p = Patient.get(*Patient.key(clinic_id, patient_id))
    except Patient.DoesNotExist:
        return []
    national_id = None
    if p.national_id_sealed:
        try:
            national_id = open_sealed(clinic_id, p.national_id_sealed)
        except Exception as exc:  # noqa: BLE001 - without the id the name check still runs
            if is_transient(exc):
                raise
            logger.warning("national id not available for the DICOM check")
    return patient_mismatch(
        str(name) if name else None,
        str(pid) if pid else None,
        first_name=p.first_name,
        surnames=[s for s in (p.last_name, p.second_last_name) if s],
        national_id=national_id,
    )


def _sealed_dicom_patient(clinic_id: str, md: dict[str, Any]) -> str | None:
    name, pid = md.get("patient_name"), md.get("patient_id")
    if not name and not pid:
        return None
    try:
        return seal(clinic_id, json.dumps({"name": name, "id": pid}, default=str))
    except Exception as exc:  # noqa: BLE001 - keeping the header's PHI is optional
        if is_transient(exc):
            raise
        logger.warning("could not seal the DICOM patient fields; not stored")
        return None


# --- processing ----------------------------------------------------------------------------


def _claim(img: Image, owner: str) -> bool:
    """Take the image for ``owner``: from ``pending``, or from ``processing`` when the lease
    has expired or is this owner's own (counted in ``interrupted``: that attempt never
    finished)."""
    t = int(time.time())
    actions = [
        Image.status.set("processing"),
        Image.lease_owner.set(owner),
        Image.lease_until.set(t + LEASE_S),
        Image.updated_at.set(now()),
        # The file came: the slot leaves the upload-expiry index for good.
        Image.GSI1PK.remove(),
        Image.GSI1SK.remove(),
    ]
    if img.status == "processing":
        cond = (Image.status == "processing") & (
            (Image.lease_until < t) | (Image.lease_owner == owner)
        )
        actions.append(Image.interrupted.add(1))
    else:
        cond = Image.status == "pending"
    try:
        img.update(actions=actions, condition=cond & (Image.deleted == False))  # noqa: E712
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise
    return True


def _release(img: Image, owner: str) -> None:
    """Hand the claim back before a transient error is retried (best effort: if this fails
    too, the retry takes the claim over as an interrupted attempt)."""
    try:
        img.update(
            actions=[
                Image.status.set("pending"),
                Image.lease_owner.remove(),
                Image.lease_until.remove(),
            ],
            condition=(Image.status == "processing") & (Image.lease_owner == owner),
        )
    except Exception as exc:  # noqa: BLE001 - the original error is the one to report
        logger.warning("could not release the claim", extra={"error": type(exc).__name__})


def _publish_processed(img: Image) -> None:
    """Publish ``image.processed`` once per ready image (at least once across retries)."""
    if img.status != "ready" or img.event_published:
        return
    try:
        img.update(
            actions=[Image.event_published.set(True)],
            condition=Image.event_published == False,  # noqa: E712
        )
    except UpdateError as exc:
        if _conditional_failed(exc):
            return  # another delivery published it
        raise
    try:
        events.publish(
            "image.processed",
            img.PK[2:],
            SYSTEM_ACTOR,
            image_id=img.image_id,
            patient_id=None if img.in_inbox else img.patient_id,
            inbox=img.in_inbox,
            source=img.source or "staff",
            kind=img.kind,
            category=img.category,
            xray_type=img.xray_type,
            teeth=[int(t) for t in (img.teeth or [])],
            acquired_at=img.acquired_on,
            patient_mismatch=bool(img.patient_mismatch),
        )
    except Exception:
        img.update(actions=[Image.event_published.set(False)])
        raise


def _fail(img: Image, owner: str, reason: str, code: str | None = None) -> None:
    """Mark the image failed with ``reason`` (its Spanish wording too when it is a
    ``tr(...)`` text) and the RenderError ``code`` when there is one."""
    at = now()
    reason_es = getattr(reason, "es", None)
    wording = [Image.reason_es.set(reason_es[:500])] if reason_es else [Image.reason_es.remove()]
    coded = [Image.reason_code.set(code)] if code else [Image.reason_code.remove()]
    try:
        with transaction() as tx:
            tx.update(
                img,
                actions=[
                    Image.status.set("failed"),
                    Image.reason.set(str(reason)[:500]),
                    *wording,
                    *coded,
                    Image.processed_at.set(at),
                    Image.updated_at.set(at),
                    Image.lease_owner.remove(),
                    Image.lease_until.remove(),
                ],
                condition=(Image.status == "processing") & (Image.lease_owner == owner),
            )
            old_keys = tooth_keys(img.PK[2:], img)
            img.status = "failed"
            reindex(tx, img.PK[2:], img, old_keys)  # a tooth's X-rays are the ones that render
            tx.save(
                audit.entry(
                    img.PK[2:],
                    SYSTEM_ACTOR,
                    "image.failed",
                    "image",
                    img.image_id,
                    before={"status": "processing"},
                    after={"status": "failed", "reason": str(reason), "reason_code": code},
                )
            )
    except TransactWriteError as exc:
        if _conditional_failed(exc):
            logger.warning("lost the claim before marking failed", extra={"image_id": img.image_id})
            return
        raise
    logger.info("image failed", extra={"image_id": img.image_id, "reason": reason})


# An upload slot's violation (uploads.Violation.code) as a RenderError code.
_VIOLATION_CODES = {
    "foreign": "upload_mismatch",
    "empty": "empty",
    "size": "too_large",
    "type": "upload_mismatch",
}


class Violation(RenderError):
    """The stored object breaks what its slot's presigned POST promised: it is removed (that
    version only) and the image fails with the reason."""


def _head(key: str) -> storage.Head | None:
    try:
        return storage.head(key)
    except storage.ObjectMissing:
        return None


def _remove(key: str, head: storage.Head) -> None:
    """Remove exactly the version that was checked: on the versioned media bucket the previous
    version, if any (a good original it replaced), becomes current again."""
    storage.delete(key, version_id=head.version_id)  # a missing one is no error (S3 says 204)


def _not_this_slots(img: Image, upload: Upload) -> storage.Head | None:
    """Remove the objects at the key that were not uploaded with this slot's form (another
    slot's form whose key was changed: moto does not enforce POST policies), newest first;
    each is audited in the image's clinic and the image is left as it was. Returns the head of
    what is there now (None when nothing is)."""
    for _ in range(MAX_FOREIGN):
        head = _head(upload.key)
        if head is None:
            return None
        broken = uploads.violation(
            head,
            token=img.upload_token,
            declared_size=int(img.declared_size),
            declared_type=img.declared_type,
        )
        if broken is None or broken.code != "foreign":
            return head
        _remove(upload.key, head)
        audit.record(
            upload.clinic_id,
            SYSTEM_ACTOR,
            "image.upload_rejected",
            "image",
            img.image_id,
            after={"reason": "foreign", "status": img.status},
        )
        logger.warning(
            "an upload not made with its slot's form was removed", extra={"image_id": img.image_id}
        )
    return _head(upload.key)


def _verify(img: Image, upload: Upload, head: storage.Head, max_bytes: int) -> None:
    """What the slot's policy promised, checked before a byte is read (S3 enforces the policy
    on AWS; moto does not): this slot's token, at most the declared size, the declared type,
    and within the clinic's current limit for the kind."""
    broken = uploads.violation(
        head,
        token=img.upload_token,
        declared_size=int(img.declared_size),
        declared_type=img.declared_type,
    )
    if broken is not None:
        raise Violation(broken.message, _VIOLATION_CODES[broken.code])
    if head.size > max_bytes:
        size, allowed = f"{head.size / MB:.1f}", f"{max_bytes / MB:.1f}"
        raise Violation(
            tr(
                f"File is too large: {size} MB > {allowed} MB allowed",
                f"El archivo es demasiado grande: {size} MB > {allowed} MB permitidos",
            ),
            "too_large",
        )


def _tag_original(key: str) -> None:
    """Tag the validated original for the bucket's lifecycle rules (moto ignores the POST
    form's ``tagging`` field; on AWS this repeats what the policy already set)."""
    try:
        storage.tag(key, dict([ORIGINAL_TAG]))
    except ClientError as exc:
        if storage.is_transient(exc):
            raise
        # The image is fine; only its move to colder storage is lost: say so, loudly.
        logger.error(
            "could not tag the original", extra={"error": exc.response.get("Error", {}).get("Code")}
        )


def _render(
    img: Image, upload: Upload, clinic_id: str, head: storage.Head
) -> tuple[Any, dict[str, dict]]:
    """Check, download, render and store the renditions; returns the result and their records."""
    limits = effective_settings(clinic_id)
    _verify(img, upload, head, limits.max_bytes(img.kind))
    _tag_original(upload.key)
    # Exactly the version that was checked, even if another upload lands meanwhile.
    data = storage.read(upload.key, version_id=head.version_id)
    if img.sha256 and hashlib.sha256(data).hexdigest() != img.sha256.lower():
        raise RenderError(
            tr(
                "The uploaded bytes do not match the SHA-256 the Bridge declared for this file "
                "(it changed or was damaged during the upload): send it again",
                "Los bytes subidos no coinciden con el SHA-256 que el Bridge declaró para este "
                "archivo (cambió o se dañó durante la subida): envíalo de nuevo",
            ),
            "upload_mismatch",
        )
    options = RenderOptions(
        max_bytes_photo=limits.max_photo_bytes,
        max_bytes_dicom=limits.max_dicom_bytes,
        xray_full_format=limits.xray_full_format,  # type: ignore[arg-type]
    )
    result = render(data, img.kind, options)
    del data
    prefix = upload_prefix(clinic_id, img.image_id)
    stored: dict[str, dict] = {}
    for r in result.renditions.values():  # thumb, preview, full
        storage.write(prefix + r.filename, r.data, content_type=r.content_type)
        stored[r.name] = {
            "file": r.filename,
            "content_type": r.content_type,
            "width": r.width,
            "height": r.height,
            "size": r.size,
        }
    return result, stored


def process(upload: Upload, message_id: str) -> str:
    """Process one upload; returns what happened (for logs and tests). Raises only for
    transient errors. Runs with the credentials of the clinic the object key names (ADR 0012):
    the key's clinic id is the only one the worker trusts, so AWS refuses any other."""
    with scoping.clinic(upload.clinic_id):
        return _process(upload, message_id)


def _process(upload: Upload, message_id: str) -> str:
    cid = upload.clinic_id
    img = find_image(cid, upload.image_id)
    if img is None:
        logger.warning("upload without a record ignored", extra={"image_id": upload.image_id})
        return "unknown"
    if img.deleted:
        return "deleted"
    head = _not_this_slots(img, upload)
    if img.status == "expired":
        # The slot expired before its file came (docs/adr/0014): nobody will see this file.
        if head is not None:
            _remove(upload.key, head)
        return "expired"
    if img.status in ("ready", "failed"):
        if (
            img.status == "ready"
            and head is not None
            and head.version_id
            and img.source_etag
            and head.etag.strip('"').lower() != img.source_etag.strip('"').lower()
        ):
            # The same form used again after rendering: the original must stay the file the
            # renditions were made from, so the newer version goes (the rendered one is back).
            _remove(upload.key, head)
        _publish_processed(img)
        return "duplicate"
    if head is None:
        # Nothing (left) to process: a rejected upload, or a late redelivery. The slot keeps
        # waiting for its file, or expires.
        logger.info("no upload to process", extra={"image_id": img.image_id})
        return "missing"
    if not _claim(img, message_id):
        logger.info("duplicate delivery ignored", extra={"image_id": img.image_id})
        return "duplicate"
    img.refresh(consistent_read=True)
    if (img.interrupted or 0) > MAX_INTERRUPTED:
        _fail(
            img,
            message_id,
            f"Processing this file was interrupted {int(img.interrupted)} times (the worker ran "
            "out of time or memory on it): reduce its resolution or export it without "
            "compression, and upload it again.",
        )
        return "failed"
    try:
        result, stored = _render(img, upload, cid, head)
    except Violation as exc:
        _remove(upload.key, head)
        _fail(img, message_id, exc.reason, exc.code)
        return "failed"
    except RenderError as exc:
        _fail(img, message_id, exc.reason, exc.code)
        return "failed"
    except Exception as exc:
        if is_transient(exc):
            _release(img, message_id)
            raise
        logger.exception(
            "image processing error", extra={"image_id": img.image_id, "error": type(exc).__name__}
        )
        _fail(
            img,
            message_id,
            "The file could not be processed because of an internal error; try uploading "
            f"it again or contact support (reference {message_id}).",
        )
        return "failed"
    upload = replace(upload, etag=head.etag)  # the version rendered, whatever the event said
    try:
        _mark_ready(img, message_id, upload, result, stored)
    except Exception as exc:
        if is_transient(exc):
            _release(img, message_id)
            raise
        logger.exception(
            "image record update error",
            extra={"image_id": img.image_id, "error": type(exc).__name__},
        )
        _fail(
            img,
            message_id,
            f"The image could not be saved; contact support (reference {message_id}).",
        )
        return "failed"
    img.refresh(consistent_read=True)
    _publish_processed(img)
    return "ready"


STUDY_FIELDS = (
    ("study_uid", "study_instance_uid"),
    ("series_uid", "series_instance_uid"),
    ("sop_uid", "sop_instance_uid"),
    ("series_number", "series_number"),
    ("instance_number", "instance_number"),
)


def _study_actions(img: Image, md: dict[str, Any]) -> list[Any]:
    """The DICOM study and series from the header, where the record has none yet (the
    Bridge's hints, when it sent them, are kept)."""
    out = []
    for attr, key in STUDY_FIELDS:
        value = md.get(key)
        if getattr(img, attr) is None and value not in (None, ""):
            out.append(getattr(Image, attr).set(value))
    return out


def _mark_ready(img: Image, owner: str, upload: Upload, result: Any, stored: dict) -> None:
    cid = upload.clinic_id
    md = dict(result.metadata)
    # An inbox capture has no patient to contradict yet (assigning it is the staff's check).
    is_dicom = md.get("source_kind") == "dicom"
    mismatch = _check_patient(cid, img.patient_id, md) if is_dicom and not img.in_inbox else []
    sealed = _sealed_dicom_patient(cid, md) if md.get("source_kind") == "dicom" else None
    public_md = {k: v for k, v in md.items() if k not in PHI_METADATA_KEYS}
    old_keys = tooth_keys(cid, img)
    at = now()
    actions = [
        Image.status.set("ready"),
        Image.reason.remove(),
        Image.reason_es.remove(),
        Image.reason_code.remove(),
        Image.content_type.set(result.content_type),
        Image.width.set(result.width),
        Image.height.set(result.height),
        Image.original_bytes.set(result.original_bytes),
        Image.hot_bytes.set(result.hot_bytes),
        Image.compression_ratio.set(result.compression_ratio),
        Image.renditions.set(stored),
        Image.metadata.set(public_md),
        Image.patient_mismatch.set(bool(mismatch)),
        Image.patient_mismatch_fields.set(mismatch)
        if mismatch
        else Image.patient_mismatch_fields.remove(),
        Image.processed_at.set(at),
        Image.updated_at.set(at),
        Image.lease_owner.remove(),
        Image.lease_until.remove(),
    ]
    if upload.etag:
        actions.append(Image.source_etag.set(upload.etag))
    if sealed:
        actions.append(Image.dicom_patient_sealed.set(sealed))
    if not img.acquired_on and md.get("acquisition_date"):
        img.acquired_on = str(md["acquisition_date"])[:10]
        actions.append(Image.acquired_on.set(img.acquired_on))
        if not img.in_inbox:  # the inbox is ordered by arrival, patients by date
            img.GSI2SK = Image.by_date_sk(sort_date(img), img.image_id)
            actions.append(Image.GSI2SK.set(img.GSI2SK))
    actions += _study_actions(img, md)
    hint = md.get("xray_type_hint")
    if img.kind != "photo" and not img.xray_type and hint:
        actions.append(Image.xray_type.set(hint))
    try:
        with transaction() as tx:
            tx.update(
                img,
                actions=actions,
                condition=(Image.status == "processing") & (Image.lease_owner == owner),
            )
            reindex(tx, cid, img, old_keys)
            tx.save(
                audit.entry(
                    cid,
                    SYSTEM_ACTOR,
                    "image.processed",
                    "image",
                    img.image_id,
                    before={"status": "processing"},
                    after={
                        "status": "ready",
                        "width": result.width,
                        "height": result.height,
                        "hot_bytes": result.hot_bytes,
                        "compression_ratio": result.compression_ratio,
                        "patient_mismatch": bool(mismatch),
                    },
                )
            )
    except TransactWriteError as exc:
        if _conditional_failed(exc):
            logger.warning("lost the claim before marking ready", extra={"image_id": img.image_id})
            return
        raise
    logger.info(
        "image ready",
        extra={
            "image_id": img.image_id,
            "kind": img.kind,
            "hot_bytes": result.hot_bytes,
            "compression_ratio": result.compression_ratio,
        },
    )
