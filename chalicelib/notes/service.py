"""Clinical notes of a patient: drafts written (SOAP or free, from a template, linked to an
appointment, with the patient's images and documents attached), signed, then only amended.

Rules (ADR 0641): a draft is edited, deleted and signed by its author only; signing seals
the content with a SHA-256 hash and nothing changes it after; an amendment (reason + text) is
a new entry linked to the note, signed by whoever writes it, its hash chained to the note's.
The search index (``search.py``) is written before the note and cleaned after it, so a
failure in between leaves at worst an entry that search checks and ignores.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.agenda.models import Appointment
from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.db import decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, Forbidden
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.imaging.models import Document, Image
from chalicelib.notes import schemas, search
from chalicelib.notes.common import (
    ENTITY,
    body_dict,
    digest,
    invalid,
    note_not_found,
    note_out,
    open_json,
    seal_json,
    texts,
)
from chalicelib.notes.models import ClinicalNote, NoteAmendment, NoteTemplate, NoteWord
from chalicelib.patients import service as patients

# --- loading -------------------------------------------------------------------------------


def load_note(clinic_id: str, patient_id: str, note_id: str) -> ClinicalNote:
    """The note of this patient in this clinic, or 404 (also another clinic's or patient's)."""
    try:
        n = ClinicalNote.get(*ClinicalNote.key(clinic_id, note_id), consistent_read=True)
    except DoesNotExist as exc:
        raise note_not_found() from exc
    if n.patient_id != patient_id:
        raise note_not_found()
    return n


def amendments_of(clinic_id: str, notes: Iterable[ClinicalNote]) -> dict[str, list[NoteAmendment]]:
    """Every amendment of these notes, in one BatchGetItem (per 100)."""
    keys = [
        NoteAmendment.key(clinic_id, n.note_id, a) for n in notes for a in n.amendment_ids or []
    ]
    out: dict[str, list[NoteAmendment]] = {}
    if keys:
        for a in NoteAmendment.batch_get(keys):
            if isinstance(a, NoteAmendment):
                out.setdefault(a.note_id, []).append(a)
    return out


# --- references in a note's body -----------------------------------------------------------


def _check_refs(clinic_id: str, patient_id: str, data: schemas.NoteIn) -> None:
    """The appointment, template and attachments must be this patient's, in this clinic; an id
    of another clinic or patient is refused exactly like a missing one."""
    if data.appointment_id:
        try:
            appt = Appointment.get(*Appointment.key(clinic_id, data.appointment_id))
        except DoesNotExist:
            appt = None
        if appt is None or appt.patient_id != patient_id:
            raise invalid(
                "appointment_id",
                tr(
                    "no appointment of this patient with that id",
                    "no hay ninguna cita de este paciente con ese id",
                ),
            )
    if data.template_id:
        try:
            NoteTemplate.get(*NoteTemplate.key(clinic_id, data.template_id))
        except DoesNotExist:
            raise invalid(
                "template_id",
                tr("no note template with that id", "no hay ninguna plantilla con ese id"),
            ) from None
    if not data.attachments:
        return
    keys = {
        (a.kind, a.id): (Image if a.kind == "image" else Document).key(clinic_id, patient_id, a.id)
        for a in data.attachments
    }
    found: set[tuple[str, str]] = set()
    images = [k for (kind, _), k in keys.items() if kind == "image"]
    documents = [k for (kind, _), k in keys.items() if kind == "document"]
    for img in Image.batch_get(images) if images else []:
        if isinstance(img, Image) and not img.deleted and img.status not in ("failed", "expired"):
            found.add(("image", img.image_id))
    for doc in Document.batch_get(documents) if documents else []:
        if isinstance(doc, Document) and not doc.deleted and doc.status == "available":
            found.add(("document", doc.document_id))
    for i, a in enumerate(data.attachments):
        if (a.kind, a.id) not in found:
            raise invalid(
                f"attachments[{i}].id",
                tr(
                    f"no {a.kind} of this patient with that id",
                    "no hay ninguna "
                    + ("imagen" if a.kind == "image" else "documento")
                    + " de este paciente con ese id",
                ),
            )


def _require_text(data: schemas.NoteBody) -> None:
    if data.empty():
        field = "text" if data.kind == "free" else "subjective"
        raise invalid(
            field,
            tr("the note says nothing yet", "la nota todavía no dice nada"),
        )


# --- the search index ----------------------------------------------------------------------


def _write_words(clinic_id: str, keys: set[str], entry_id: str, note: ClinicalNote) -> None:
    if not keys:
        return
    with NoteWord.batch_write() as batch:
        for k in keys:
            batch.save(
                NoteWord(
                    *NoteWord.key(clinic_id, k, entry_id),
                    note_id=note.note_id,
                    patient_id=note.patient_id,
                )
            )


def _delete_words(clinic_id: str, keys: set[str], entry_id: str) -> None:
    if not keys:
        return
    with NoteWord.batch_write() as batch:
        for k in keys:
            batch.delete(NoteWord(*NoteWord.key(clinic_id, k, entry_id)))


def _note_keys(clinic_id: str, content: dict[str, Any]) -> set[str]:
    return search.entry_keys(clinic_id, *texts(content))


# --- drafts --------------------------------------------------------------------------------


def _only_author(principal: Principal, n: ClinicalNote, what: str) -> None:
    if n.status == "signed":
        raise Conflict(
            tr(
                "This note is signed and locked: it cannot be edited or deleted, only amended.",
                "Esta nota está firmada y bloqueada: no se puede editar ni borrar, solo enmendar.",
            ),
            code="NOTE_SIGNED",
        )
    if n.author_id != principal.user_id:
        raise Forbidden(
            tr(
                f"Only the author of a draft note may {what} it.",
                {
                    "edit": "Solo quien escribió el borrador puede editarlo.",
                    "delete": "Solo quien escribió el borrador puede borrarlo.",
                    "sign": "Solo quien escribió el borrador puede firmarlo.",
                }[what],
            ),
            code="NOTE_NOT_AUTHOR",
        )


def _audit_fields(n: ClinicalNote) -> dict[str, Any]:
    """What the audit log keeps of a note: never its text."""
    return {
        "patient_id": n.patient_id,
        "kind": n.kind,
        "status": n.status,
        "appointment_id": n.appointment_id,
        "template_id": n.template_id,
        "attachments": len(n.attachments or []),
    }


def create_note(principal: Principal, patient_id: str, data: schemas.NoteIn) -> schemas.NoteOut:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    _require_text(data)
    _check_refs(cid, patient_id, data)
    nid, at = new_id(), now()
    content = body_dict(data)
    n = ClinicalNote(
        *ClinicalNote.key(cid, nid),
        GSI1PK=ClinicalNote.patient_pk(cid, patient_id),
        GSI1SK=nid,
        note_id=nid,
        patient_id=patient_id,
        appointment_id=data.appointment_id,
        template_id=data.template_id,
        kind=data.kind,
        content_sealed=seal_json(cid, content),
        attachments=[a.model_dump() for a in data.attachments],
        status="draft",
        author_id=principal.user_id,
        author_name=principal.name or None,
        created_at=at,
        updated_at=at,
        amendment_ids=[],
        version=1,
    )
    _write_words(cid, _note_keys(cid, content), nid, n)
    with transaction() as tx:
        tx.save(n, condition=ClinicalNote.SK.does_not_exist())
        entry = audit.entry(
            cid, principal.actor, "clinical.note.created", ENTITY, nid, after=_audit_fields(n)
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    return note_out(cid, n)


def _changed_meanwhile() -> Conflict:
    return Conflict(
        tr(
            "The note changed meanwhile (signed or edited); reload it.",
            "La nota ha cambiado mientras tanto (firmada o editada); vuelve a cargarla.",
        ),
        code="NOTE_CHANGED",
    )


def update_note(
    principal: Principal, patient_id: str, note_id: str, data: schemas.NoteIn
) -> schemas.NoteOut:
    cid = principal.clinic_id
    n = load_note(cid, patient_id, note_id)
    _only_author(principal, n, "edit")
    _require_text(data)
    _check_refs(cid, patient_id, data)
    before = _audit_fields(n)
    old_keys = _note_keys(cid, open_json(cid, n.content_sealed))
    content = body_dict(data)
    new_keys = _note_keys(cid, content)
    n.kind = data.kind
    n.content_sealed = seal_json(cid, content)
    n.appointment_id = data.appointment_id
    n.template_id = data.template_id
    n.attachments = [a.model_dump() for a in data.attachments]
    n.updated_at = now()
    old_version = int(n.version)
    n.version = old_version + 1
    _write_words(cid, new_keys - old_keys, note_id, n)
    try:
        with transaction() as tx:
            tx.save(
                n,
                condition=(ClinicalNote.version == old_version) & (ClinicalNote.status == "draft"),
            )
            entry = audit.entry(
                cid,
                principal.actor,
                "clinical.note.updated",
                ENTITY,
                note_id,
                before=before | {"version": old_version},
                after=_audit_fields(n) | {"version": n.version},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise _changed_meanwhile() from exc
    _delete_words(cid, old_keys - new_keys, note_id)
    return note_out(cid, n)


def delete_note(principal: Principal, patient_id: str, note_id: str) -> None:
    cid = principal.clinic_id
    n = load_note(cid, patient_id, note_id)
    _only_author(principal, n, "delete")
    keys = _note_keys(cid, open_json(cid, n.content_sealed))
    try:
        with transaction() as tx:
            tx.delete(
                n,
                condition=(ClinicalNote.version == n.version) & (ClinicalNote.status == "draft"),
            )
            entry = audit.entry(
                cid,
                principal.actor,
                "clinical.note.deleted",
                ENTITY,
                note_id,
                before=_audit_fields(n),
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise _changed_meanwhile() from exc
    _delete_words(cid, keys, note_id)


# --- signing and amending ------------------------------------------------------------------


def signed_digest(n: ClinicalNote, content: dict[str, Any], signed_at: str) -> str:
    return digest(
        {
            "note_id": n.note_id,
            "patient_id": n.patient_id,
            "appointment_id": n.appointment_id,
            "kind": n.kind,
            "content": content,
            "attachments": n.attachments or [],
            "author_id": n.author_id,
            "signed_by": n.signed_by,
            "signed_at": signed_at,
        }
    )


def sign_note(principal: Principal, patient_id: str, note_id: str) -> schemas.NoteOut:
    cid = principal.clinic_id
    n = load_note(cid, patient_id, note_id)
    _only_author(principal, n, "sign")
    content = open_json(cid, n.content_sealed)
    at = now()
    old_version = int(n.version)
    n.status = "signed"
    n.signed_at = at
    n.signed_by = principal.user_id
    n.signed_by_name = principal.name or None
    n.content_hash = signed_digest(n, content, at.isoformat())
    n.version = old_version + 1
    try:
        with transaction() as tx:
            tx.save(
                n,
                condition=(ClinicalNote.version == old_version) & (ClinicalNote.status == "draft"),
            )
            entry = audit.entry(
                cid,
                principal.actor,
                "clinical.note.signed",
                ENTITY,
                note_id,
                before={"status": "draft"},
                after={"status": "signed", "content_hash": n.content_hash},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise _changed_meanwhile() from exc
    events.publish("note.signed", cid, principal.actor, note_id=note_id, patient_id=patient_id)
    return note_out(cid, n, amendments_of(cid, [n]).get(note_id, []))


def amend_note(
    principal: Principal, patient_id: str, note_id: str, data: schemas.AmendmentIn
) -> schemas.NoteOut:
    cid = principal.clinic_id
    n = load_note(cid, patient_id, note_id)
    if n.status != "signed":
        raise Conflict(
            tr(
                "Only a signed note is amended; a draft is edited instead.",
                "Solo se enmienda una nota firmada; un borrador se edita.",
            ),
            code="NOTE_NOT_SIGNED",
        )
    aid, at = new_id(), now()
    previous = (
        amendments_of(cid, [n]).get(note_id, []) if n.amendment_ids else []
    )  # the chain: each amendment hashes the one before it (or the note)
    last_hash = max(previous, key=lambda a: a.amendment_id).content_hash if previous else None
    body = {"reason": data.reason, "text": data.text}
    a = NoteAmendment(
        *NoteAmendment.key(cid, note_id, aid),
        amendment_id=aid,
        note_id=note_id,
        patient_id=patient_id,
        body_sealed=seal_json(cid, body),
        author_id=principal.user_id,
        author_name=principal.name or None,
        signed_at=at,
        content_hash=digest(
            {
                "amendment_id": aid,
                "note_id": note_id,
                "previous_hash": last_hash or n.content_hash,
                "reason": data.reason,
                "text": data.text,
                "signed_by": principal.user_id,
                "signed_at": at.isoformat(),
            }
        ),
    )
    _write_words(cid, search.entry_keys(cid, data.reason, data.text), aid, n)
    try:
        with transaction() as tx:
            tx.save(a, condition=NoteAmendment.SK.does_not_exist())
            tx.update(
                n,
                actions=[ClinicalNote.amendment_ids.set(ClinicalNote.amendment_ids.append([aid]))],
                condition=ClinicalNote.status == "signed",
            )
            entry = audit.entry(
                cid,
                principal.actor,
                "clinical.note.amended",
                ENTITY,
                note_id,
                after={"amendment_id": aid, "content_hash": a.content_hash},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise _changed_meanwhile() from exc
    n.amendment_ids = [*(n.amendment_ids or []), aid]
    events.publish(
        "note.amended",
        cid,
        principal.actor,
        note_id=note_id,
        amendment_id=aid,
        patient_id=patient_id,
    )
    return note_out(cid, n, [*previous, a])


# --- reading -------------------------------------------------------------------------------


def get_note(principal: Principal, patient_id: str, note_id: str) -> schemas.NoteOut:
    cid = principal.clinic_id
    n = load_note(cid, patient_id, note_id)
    return note_out(cid, n, amendments_of(cid, [n]).get(note_id, []))


def list_notes(principal: Principal, patient_id: str, q: schemas.NoteQuery) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = ClinicalNote.patient_pk(cid, patient_id)
    it = ClinicalNote.gsi1.query(
        pk,
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", pk)),
    )
    notes = [n for n in it if isinstance(n, ClinicalNote)]
    amendments = amendments_of(cid, notes)
    return Page(
        [note_out(cid, n, amendments.get(n.note_id, [])) for n in notes],
        encode_cursor(it.last_evaluated_key),
    )
