"""What the notes service, its search and its templates share: errors, sealing, shaping."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.i18n import Text, tr
from chalicelib.notes import schemas
from chalicelib.notes.models import ClinicalNote, NoteAmendment

ENTITY = "clinical_note"


def invalid(field: str, message: Text) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."),
        errors=[{"field": field, "message": message}],
    )


def note_not_found() -> NotFound:
    return NotFound(
        tr(
            "No clinical note with that id for this patient.",
            "No hay ninguna nota clínica con ese id para este paciente.",
        ),
        code="NOTE_NOT_FOUND",
    )


def body_dict(data: schemas.NoteBody) -> dict[str, Any]:
    """The written part of a note or template, only the fields its kind has."""
    out: dict[str, Any] = {"title": data.title or None}
    if data.kind == "free":
        out["text"] = data.text or ""
    else:
        out |= {f: getattr(data, f) or "" for f in schemas.SOAP_FIELDS}
    return out


def seal_json(clinic_id: str, value: dict[str, Any]) -> str:
    return seal(clinic_id, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def open_json(clinic_id: str, sealed: str) -> dict[str, Any]:
    value = json.loads(open_sealed(clinic_id, sealed))
    return value if isinstance(value, dict) else {}


def texts(content: dict[str, Any]) -> list[str]:
    """The searchable texts of a note's content or an amendment's body."""
    keys = ("title", "text", *schemas.SOAP_FIELDS, "reason")
    return [str(content[k]) for k in keys if content.get(k)]


def digest(value: dict[str, Any]) -> str:
    """SHA-256 of a canonical JSON (sorted keys, no spaces, UTF-8)."""
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def amendment_out(clinic_id: str, a: NoteAmendment) -> schemas.AmendmentOut:
    body = open_json(clinic_id, a.body_sealed)
    return schemas.AmendmentOut(
        amendment_id=a.amendment_id,
        note_id=a.note_id,
        reason=body.get("reason", ""),
        text=body.get("text", ""),
        author_id=a.author_id,
        author_name=a.author_name,
        signed_at=a.signed_at,
        content_hash=a.content_hash,
    )


def note_out(
    clinic_id: str, n: ClinicalNote, amendments: list[NoteAmendment] | None = None
) -> schemas.NoteOut:
    content = open_json(clinic_id, n.content_sealed)
    return schemas.NoteOut(
        note_id=n.note_id,
        patient_id=n.patient_id,
        appointment_id=n.appointment_id,
        template_id=n.template_id,
        kind=n.kind,  # type: ignore[arg-type]
        title=content.get("title"),
        subjective=content.get("subjective"),
        objective=content.get("objective"),
        assessment=content.get("assessment"),
        plan=content.get("plan"),
        text=content.get("text"),
        attachments=[schemas.Attachment(**a) for a in n.attachments or []],
        status=n.status,  # type: ignore[arg-type]
        author_id=n.author_id,
        author_name=n.author_name,
        created_at=n.created_at,
        updated_at=n.updated_at,
        signed_at=n.signed_at,
        signed_by=n.signed_by,
        signed_by_name=n.signed_by_name,
        content_hash=n.content_hash,
        amendments=[
            amendment_out(clinic_id, a)
            for a in sorted(amendments or [], key=lambda a: a.amendment_id)
        ],
    )
