"""Patient documents (consents, ID scans, insurance, reports, referrals): presigned upload to
``clinics/<clinic>/documents/<id>/file``, then a ``complete`` step that checks the stored bytes
(size and magic numbers: PDF, JPEG or PNG) and makes the document available.

No S3 event is involved: the client calls ``complete`` after its upload, which is when the
document becomes visible and ``document.uploaded`` is published. The key does not end in
``/original``, so the image worker's rule never sees documents.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, events, storage
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.imaging import schemas, uploads
from chalicelib.imaging.models import Document, document_key
from chalicelib.imaging.service import MB, effective_settings, patient_of

SNIFF_BYTES = 16


def sniff_document(head: bytes) -> str | None:
    """The content type the first bytes show (PDF, JPEG, PNG), or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


_EXT = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def _download_name(d: Document) -> str:
    """The file name to save as, with an extension matching the real type."""
    name = d.filename
    ext = _EXT.get(d.content_type or "", "")
    if ext and not name.lower().endswith((ext, ".jpeg" if ext == ".jpg" else ext)):
        name += ext
    return name


def _not_found() -> NotFound:
    return NotFound(
        tr(
            "No document with that id for this patient.",
            "No hay ningún documento con ese id para este paciente.",
        ),
        code="DOCUMENT_NOT_FOUND",
    )


def load(clinic_id: str, patient_id: str, document_id: str) -> Document:
    try:
        d = Document.get(*Document.key(clinic_id, patient_id, document_id), consistent_read=True)
    except DoesNotExist as exc:
        raise _not_found() from exc
    if d.deleted:
        raise _not_found()
    return d


def to_out(principal: Principal, d: Document, *, urls: bool = True) -> schemas.DocumentOut:
    view = download = None
    if urls and d.status == "available":
        key = document_key(principal.clinic_id, d.document_id)
        ctype = d.content_type or d.declared_type
        name = _download_name(d)
        cache = "private, max-age=3600"
        u, exp = storage.presigned_get(key, content_type=ctype, cache_control=cache, filename=name)
        view = schemas.DownloadUrl(url=u, expires_at=exp)
        u, exp = storage.presigned_get(
            key, content_type=ctype, cache_control=cache, filename=name, attachment=True
        )
        download = schemas.DownloadUrl(url=u, expires_at=exp)
    return schemas.DocumentOut(
        document_id=d.document_id,
        patient_id=d.patient_id,
        type=d.type,  # type: ignore[arg-type]
        title=d.title,
        description=d.description,
        filename=d.filename,
        content_type=d.content_type,
        size=int(d.size) if d.size is not None else None,
        status=d.status,  # type: ignore[arg-type]
        view=view,
        download=download,
        created_at=d.created_at,
        created_by=d.created_by,
        created_by_name=d.created_by_name,
        updated_at=d.updated_at,
        uploaded_at=d.uploaded_at,
    )


def _fields(d: Document) -> dict[str, Any]:
    return {"type": d.type, "title": d.title, "description": d.description}


def create_upload(
    principal: Principal, patient_id: str, data: schemas.DocumentIn
) -> schemas.DocumentUploadOut:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    max_bytes = effective_settings(cid).max_document_bytes
    if data.size > max_bytes:
        raise Unprocessable(
            tr("The file is too large.", "El archivo es demasiado grande."),
            errors=[
                {
                    "field": "size",
                    "message": tr(
                        f"{data.size / MB:.1f} MB is over the "
                        f"{max_bytes // MB} MB limit for documents",
                        f"{data.size / MB:.1f} MB supera el límite de "
                        f"{max_bytes // MB} MB para documentos",
                    ),
                }
            ],
        )
    did = new_id()
    at = now()
    d = Document(
        *Document.key(cid, patient_id, did),
        document_id=did,
        patient_id=patient_id,
        type=data.type,
        title=data.title,
        description=data.description,
        filename=data.filename,
        declared_type=data.content_type,
        declared_size=data.size,
        status="pending",
        upload_token=uploads.new_token(),
        created_at=at,
        created_by=principal.user_id,
        created_by_name=principal.name or None,
        updated_at=at,
    )
    uploads.index_slot(d, cid, "DOC", did)
    with transaction() as tx:
        tx.save(d, condition=Document.SK.does_not_exist())
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "document.upload_requested",
                "document",
                did,
                after={"patient_id": patient_id, **_fields(d)},
            )
        )
    form = uploads.form(
        document_key(cid, did), content_type=data.content_type, size=data.size, token=d.upload_token
    )
    return schemas.DocumentUploadOut(
        document=to_out(principal, d), upload=schemas.UploadForm(**form, max_bytes=data.size)
    )


def complete(principal: Principal, patient_id: str, document_id: str) -> schemas.DocumentOut:
    """Check the uploaded bytes and make the document available (idempotent)."""
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    d = load(cid, patient_id, document_id)
    if d.status == "available":
        return to_out(principal, d)
    if d.status == "expired":
        raise Conflict(
            tr(
                "This upload expired before its file arrived: start the upload again.",
                "Esta subida caducó antes de que llegara el archivo: empieza la subida de nuevo.",
            ),
            code="UPLOAD_EXPIRED",
        )
    key = document_key(cid, document_id)
    try:
        h = storage.head(key)
    except storage.ObjectMissing as exc:
        raise Conflict(
            tr(
                "The file has not been uploaded yet: upload it with the form, then complete.",
                "El archivo aún no se ha subido: súbelo con el formulario y después completa "
                "la subida.",
            ),
            code="UPLOAD_MISSING",
        ) from exc
    # What the form's policy promised (S3 enforces it, moto does not): this slot's token, at
    # most the declared size, the declared type. A file that breaks it is removed and the
    # slot stays pending for the right one. (Without its version id: this runs with the
    # clinic's credentials, which may delete objects, not versions; the rejected bytes stay a
    # noncurrent version until the bucket's lifecycle expires it.)
    broken = uploads.violation(
        h, token=d.upload_token, declared_size=int(d.declared_size), declared_type=d.declared_type
    )
    if broken is not None:
        storage.delete(key)
        audit.record(
            cid,
            principal.actor,
            "document.upload_rejected",
            "document",
            document_id,
            after={"reason": broken.code},
        )
        raise Unprocessable(broken.message, code="UPLOAD_INVALID")
    max_bytes = effective_settings(cid).max_document_bytes
    if h.size <= 0 or h.size > max_bytes:
        raise Unprocessable(
            tr(
                f"The uploaded file is {h.size / MB:.1f} MB; documents must be under "
                f"{max_bytes // MB} MB. Upload a smaller file.",
                f"El archivo subido ocupa {h.size / MB:.1f} MB; los documentos deben ocupar "
                f"menos de {max_bytes // MB} MB. Sube un archivo más pequeño.",
            ),
            code="UPLOAD_INVALID",
        )
    detected = sniff_document(storage.read(key, first=SNIFF_BYTES))
    if detected is None:
        raise Unprocessable(
            tr(
                "The uploaded file is not a PDF, JPEG or PNG: upload the document in one of "
                "those formats.",
                "El archivo subido no es un PDF, JPEG ni PNG: sube el documento en uno de esos "
                "formatos.",
            ),
            code="UPLOAD_INVALID",
        )
    at = now()
    try:
        with transaction() as tx:
            tx.update(
                d,
                actions=[
                    Document.status.set("available"),
                    Document.content_type.set(detected),
                    Document.size.set(h.size),
                    Document.uploaded_at.set(at),
                    Document.updated_at.set(at),
                    Document.GSI1PK.remove(),  # no longer a slot waiting for its file
                    Document.GSI1SK.remove(),
                ],
                condition=(Document.status == "pending") & (Document.deleted == False),  # noqa: E712
            )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "document.uploaded",
                    "document",
                    document_id,
                    after={"content_type": detected, "size": h.size},
                )
            )
    except TransactWriteError:
        # Completed concurrently (or deleted): answer with what is there now.
        return to_out(principal, load(cid, patient_id, document_id))
    events.publish(
        "document.uploaded",
        cid,
        principal.actor,
        document_id=document_id,
        patient_id=patient_id,
        type=d.type,
        content_type=detected,
        size=h.size,
    )
    logger.info("document available", extra={"document_id": document_id})
    return to_out(principal, load(cid, patient_id, document_id))


def list_documents(principal: Principal, patient_id: str, q: schemas.DocumentQuery) -> Page:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    pk = clinic_pk(cid)
    # Expired slots, and pending ones whose form has expired, are not the patient's documents.
    stale = (Document.status == "pending") & (Document.created_at < uploads.stale_before(now()))
    cond = (Document.deleted == False) & (Document.status != "expired") & ~stale  # noqa: E712
    if q.type:
        cond &= Document.type == q.type
    if q.status:
        cond &= Document.status == q.status
    result = Document.query(
        pk,
        Document.SK.startswith(Document.prefix(patient_id)),
        filter_condition=cond,
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )
    items = [to_out(principal, d) for d in result if isinstance(d, Document)]
    return Page(items, encode_cursor(result.last_evaluated_key))


def get(principal: Principal, patient_id: str, document_id: str) -> schemas.DocumentOut:
    patient_of(principal, patient_id)
    return to_out(principal, load(principal.clinic_id, patient_id, document_id))


def update(
    principal: Principal, patient_id: str, document_id: str, data: schemas.DocumentUpdate
) -> schemas.DocumentOut:
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    d = load(cid, patient_id, document_id)
    sent = data.model_dump(exclude_unset=True)
    if sent.get("type", "x") is None or sent.get("title", "x") is None:
        raise Unprocessable(
            tr("type and title cannot be cleared.", "type y title no se pueden dejar vacíos.")
        )
    before = _fields(d)
    actions = []
    for field, value in sent.items():
        setattr(d, field, value)
        attr = getattr(Document, field)
        actions.append(attr.set(value) if value is not None else attr.remove())
    if not actions:
        return to_out(principal, d)
    d.updated_at = now()
    actions.append(Document.updated_at.set(d.updated_at))
    try:
        with transaction() as tx:
            tx.update(d, actions=actions, condition=Document.deleted == False)  # noqa: E712
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "document.updated",
                    "document",
                    document_id,
                    before=before,
                    after=_fields(d),
                )
            )
    except TransactWriteError as exc:
        raise _not_found() from exc
    return to_out(principal, d)


def delete(principal: Principal, patient_id: str, document_id: str) -> None:
    """Soft delete: the item stays (hidden), the audit log records who and when."""
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    d = load(cid, patient_id, document_id)
    at = now()
    try:
        with transaction() as tx:
            tx.update(
                d,
                actions=[
                    Document.deleted.set(True),
                    Document.deleted_at.set(at),
                    Document.deleted_by.set(principal.user_id),
                    Document.updated_at.set(at),
                ],
                condition=Document.deleted == False,  # noqa: E712
            )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "document.deleted",
                    "document",
                    document_id,
                    before={"deleted": False, **_fields(d)},
                    after={"deleted": True, **_fields(d)},
                )
            )
    except TransactWriteError as exc:
        raise _not_found() from exc
