"""A lab case's files (photos, intraoral scans, STL models, DICOM ZIPs, PDFs), uploaded by the
clinic or by the lab: presigned POST to ``clinics/<clinic>/labs/<case>/<file>`` (ADR 0014's
slot rules: the form pins type, size and a slot token), then ``complete`` checks the stored
bytes and makes the file available. The list lives on the case item (at most ``MAX_FILES``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import audit, storage
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.imaging import uploads
from chalicelib.labs import schemas, service
from chalicelib.labs.models import LabCase

MB = 1024 * 1024
MAX_FILES = 30
# extension -> (kind, accepted declared types, max bytes)
TYPES: dict[str, tuple[str, frozenset[str], int]] = {
    "jpg": ("photo", frozenset({"image/jpeg"}), 25 * MB),
    "jpeg": ("photo", frozenset({"image/jpeg"}), 25 * MB),
    "png": ("photo", frozenset({"image/png"}), 25 * MB),
    "pdf": ("document", frozenset({"application/pdf"}), 25 * MB),
    "stl": (
        "stl",
        frozenset({"model/stl", "application/sla", "application/octet-stream"}),
        200 * MB,
    ),
    "ply": ("scan", frozenset({"application/octet-stream", "model/ply"}), 200 * MB),
    "obj": ("scan", frozenset({"application/octet-stream", "model/obj", "text/plain"}), 200 * MB),
    "zip": ("dicom_zip", frozenset({"application/zip", "application/x-zip-compressed"}), 500 * MB),
}
MAGIC = {
    "photo": (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"),
    "document": (b"%PDF-",),
    "dicom_zip": (b"PK\x03\x04",),
}


def file_key(clinic_id: str, case_id: str, file_id: str) -> str:
    return f"clinics/{clinic_id}/labs/{case_id}/{file_id}"


def check(data: schemas.FileIn) -> tuple[str, str]:
    """The file's kind and its declared type, or 422 naming the field at fault."""
    ext = data.filename.rsplit(".", 1)[-1].lower() if "." in data.filename else ""
    if ext not in TYPES:
        raise service.invalid(
            "filename",
            tr(
                "only photos (JPEG, PNG), PDFs, STL/PLY/OBJ models and DICOM ZIPs are accepted",
                "solo se aceptan fotos (JPEG, PNG), PDF, modelos STL/PLY/OBJ y ZIP de DICOM",
            ),
        )
    kind, types, max_bytes = TYPES[ext]
    ctype = data.content_type.split(";")[0].strip().lower()
    if ctype not in types:
        raise service.invalid(
            "content_type",
            tr(
                f"a .{ext} file must be sent as {' or '.join(sorted(types))}",
                f"un archivo .{ext} debe enviarse como {' o '.join(sorted(types))}",
            ),
        )
    if data.size > max_bytes:
        raise service.invalid(
            "size",
            tr(
                f"{data.size / MB:.1f} MB is over this type's limit of {max_bytes // MB} MB",
                f"{data.size / MB:.1f} MB supera el límite de {max_bytes // MB} MB para este tipo",
            ),
        )
    return kind, ctype


def request_upload(
    clinic_id: str, c: LabCase, data: schemas.FileIn, actor: dict[str, Any], by: str
) -> schemas.FileUploadOut:
    kind, ctype = check(data)
    if len(c.files or []) >= MAX_FILES:
        raise Conflict(
            tr(
                f"A case holds at most {MAX_FILES} files.",
                f"Un caso admite como máximo {MAX_FILES} archivos.",
            ),
            code="LAB_CASE_FILES_FULL",
        )
    fid = new_id()
    f = {
        "file_id": fid,
        "filename": data.filename,
        "kind": kind,
        "content_type": ctype,
        "size": data.size,
        "status": "pending",
        "by": by,
        "uploaded_at": None,
        "token": uploads.new_token(),
    }
    old = int(c.version)
    c.files = [*(c.files or []), f]
    entry = audit.entry(
        clinic_id,
        actor,
        "lab.file_upload_requested",
        service.ENTITY,
        c.case_id,
        after={"file_id": fid, "kind": kind, "size": data.size},
    )
    service.save(clinic_id, c, old, entry)
    form = uploads.form(
        file_key(clinic_id, c.case_id, fid), content_type=ctype, size=data.size, token=f["token"]
    )
    return schemas.FileUploadOut(
        file=schemas.FileOut(**f), upload=schemas.UploadForm(**form, max_bytes=data.size)
    )


def complete(
    clinic_id: str, c: LabCase, file_id: str, actor: dict[str, Any], by: str
) -> schemas.FileOut:
    """Check the stored bytes against the slot and make the file available (idempotent)."""
    files = c.files or []
    f = next((x for x in files if x.get("file_id") == file_id), None)
    if f is None:
        raise NotFound(
            tr(
                "No file with that id on this case.",
                "No hay ningún archivo con ese id en este caso.",
            ),
            code="LAB_FILE_NOT_FOUND",
        )
    if f["status"] == "available":
        return schemas.FileOut(**f)
    key = file_key(clinic_id, c.case_id, file_id)
    try:
        h = storage.head(key)
    except storage.ObjectMissing as exc:
        raise Conflict(
            tr(
                "The file has not been uploaded yet: upload it with the form, then complete.",
                "El archivo aún no se ha subido: súbelo con el formulario y después completa.",
            ),
            code="UPLOAD_MISSING",
        ) from exc
    broken = uploads.violation(
        h, token=f.get("token"), declared_size=int(f["size"]), declared_type=f["content_type"]
    )
    magic = MAGIC.get(f["kind"])
    if broken is None and magic and not storage.read(key, first=16).startswith(magic):
        broken = uploads.Violation(
            "type",
            "The uploaded file's contents do not match its type: upload the right file.",
            "El contenido del archivo subido no corresponde a su tipo: sube el archivo correcto.",
        )
    if broken is not None:
        storage.delete(key)
        raise Unprocessable(broken.message, code="UPLOAD_INVALID")
    old = int(c.version)
    f.update(status="available", size=h.size, uploaded_at=now().isoformat())
    c.files = files
    entry = audit.entry(
        clinic_id,
        actor,
        "lab.file_added",
        service.ENTITY,
        c.case_id,
        after={"file_id": file_id, "kind": f["kind"], "size": h.size},
    )
    service.save(clinic_id, c, old, entry)
    service.publish("lab.file_added", clinic_id, actor, c, file_id=file_id, kind=by)
    return schemas.FileOut(**f)


def url_of(clinic_id: str, case_id: str) -> Any:
    def url(f: dict[str, Any]) -> str:
        u, _ = storage.presigned_get(
            file_key(clinic_id, case_id, f["file_id"]),
            content_type=f["content_type"],
            cache_control="private, no-store",
            filename=f["filename"],
            attachment=f["kind"] not in ("photo", "document"),
        )
        return u

    return url


def outs(clinic_id: str, c: LabCase, *, by_staff: bool = True) -> list[schemas.FileOut]:
    url = url_of(clinic_id, c.case_id)
    return [
        schemas.FileOut(**f, url=url(f) if f["status"] == "available" else None)
        for f in c.files or []
        if f["status"] == "available" or by_staff
    ]
