"""What a GDPR erasure does to each module's data about one patient (ADR 1405): one small
:class:`Eraser` per kind of record, registered in :data:`ERASERS` (the one place).

Each eraser says which retention duty it falls under (``category``):

* ``none``: nothing obliges the clinic to keep it (contact details, channel consents,
  messages, conversations, exports, future appointments, timeline, search indexes): erased
  (or anonymised) by the erasure itself, ``erase`` runs at once;
* ``clinical`` (historia clínica, Ley 41/2002 art. 17.1: at least 5 years from the end of each
  care episode) and ``billing`` (Código de Comercio art. 30: 6 years; LGT arts. 66 and 70):
  kept *blocked* (LOPDGDD art. 32) and erased by the retention job (``erase`` then) when
  the period ends; ``count`` feeds the preview and the report.

``count`` and ``erase`` take the clinic and patient ids and read by key or index (never a
scan); ``erase`` is idempotent (a retried or resumed run finds less to do, never an error)
and returns how many records it removed. Nothing here logs a value, only ids and counts.

Adding a module (e.g. online booking or recalls): write ``count`` and ``erase`` beside its
models and append one ``Eraser`` to :data:`ERASERS` (see the module docstring of
``chalicelib/gdpr/erasure.py`` and the ADR).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from chalicelib.core import aws, rbac
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.i18n import Text, tr
from chalicelib.core.ids import now


@dataclass(frozen=True)
class Eraser:
    kind: str
    category: str  # none | clinical | billing
    label: Text
    count: Callable[[str, str], int]
    erase: Callable[[str, str], int]


# --- helpers ---------------------------------------------------------------------------------


def _delete(items: Iterable[Item]) -> int:
    n = 0
    batch: list[Item] = []
    for it in items:
        batch.append(it)
        if len(batch) == 25:
            n += _flush(batch)
            batch = []
    return n + (_flush(batch) if batch else 0)


def _flush(items: list[Item]) -> int:
    with Item.batch_write() as b:
        for it in items:
            b.delete(it)
    return len(items)


def _under(clinic_id: str, prefix: str) -> Iterable[Item]:
    return Item.query(clinic_pk(clinic_id), Item.SK.startswith(prefix))


def _gsi(index: Any, pk: str) -> list[Item]:
    return list(index.query(pk))


def delete_objects(prefix: str) -> int:
    """Every version (and delete marker) of every object under ``prefix``: the media bucket is
    versioned, and a plain delete would leave the bytes as a noncurrent version."""
    s3 = aws.client("s3")
    bucket = settings().media_bucket
    n = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        gone = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
        ]
        # One by one: each is authorised as s3:DeleteObjectVersion on the object itself (a
        # handful per record: an original and its renditions).
        for g in gone:
            s3.delete_object(Bucket=bucket, Key=g["Key"], VersionId=g["VersionId"])
        n += len(page.get("Versions") or [])
    return n


def _pat(clinic_id: str, patient_id: str, part: str) -> list[Item]:
    return list(_under(clinic_id, f"PAT#{patient_id}#{part}#"))


# --- patients: search index and contact details ----------------------------------------------


def _search_count(cid: str, pid: str) -> int:
    from chalicelib.patients import service as patients

    try:
        p = patients.load(cid, pid)
    except Exception:  # noqa: BLE001 - gone: nothing indexed
        return 0
    return 0 if p.blocked else len(patients.index_keys(cid, pid, patients._values(cid, p)))


def _search_erase(cid: str, pid: str) -> int:
    # Done in the request's own transaction (erasure.request); nothing is left to do here.
    return 0


CONTACT = ("email", "phone", "whatsapp_sealed", "emergency_contact", "address", "profession")


def _contact_count(cid: str, pid: str) -> int:
    p = _get(cid, pid)
    return 1 if p is not None and any(getattr(p, f, None) for f in CONTACT) else 0


def _get(cid: str, pid: str) -> Any:
    from pynamodb.exceptions import DoesNotExist

    from chalicelib.patients.models import Patient

    try:
        return Patient.get(*Patient.key(cid, pid), consistent_read=True)
    except DoesNotExist:
        return None


def _contact_erase(cid: str, pid: str) -> int:
    from chalicelib.patients.models import Patient

    p = _get(cid, pid)
    if p is None or not any(getattr(p, f, None) for f in CONTACT + ("preferred_channel",)):
        return 0
    p.update(
        actions=[
            Patient.email.remove(),
            Patient.phone.remove(),
            Patient.whatsapp_sealed.remove(),
            Patient.emergency_contact.remove(),
            Patient.address.remove(),
            Patient.profession.remove(),
            Patient.preferred_channel.remove(),
            Patient.updated_at.set(now()),
        ]
    )
    return 1


def _identity_count(cid: str, pid: str) -> int:
    return 1 if _get(cid, pid) is not None else 0


def _identity_erase(cid: str, pid: str) -> int:
    """The patient item itself (name, birth date, identity document, medical history): part of
    the clinical record (Ley 41/2002 art. 15.2), erased with it."""
    p = _get(cid, pid)
    if p is None:
        return 0
    p.delete()
    return 1


# --- agenda ----------------------------------------------------------------------------------


@dataclass
class _Eraser(Principal):
    """The erasure's own principal (the agenda's audit entries and events name it)."""

    @property
    def actor(self) -> dict[str, Any]:
        return {"type": "system", "id": "gdpr-erasure", "name": "GDPR erasure"}


def _system(cid: str) -> Principal:
    from chalicelib.identity.service import get_clinic

    plan = get_clinic(cid).plan or "pro"
    return _Eraser(
        user_id="gdpr-erasure",
        clinic_id=cid,
        session_id="",
        role="system",
        plan=plan,
        permissions=frozenset(rbac.effective_permissions(["*"], plan)),
        name="GDPR erasure",
    )


def _appointments(cid: str, pid: str) -> list[Any]:
    from chalicelib.agenda.models import Appointment, patient_index

    return [
        a for a in _gsi(Appointment.gsi2, patient_index(cid, pid)) if isinstance(a, Appointment)
    ]


FUTURE_STATUSES = ("scheduled", "confirmed")


def _is_future(a: Any) -> bool:
    at = now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(a.start_utc) > at and a.status in FUTURE_STATUSES


def _future_count(cid: str, pid: str) -> int:
    return sum(1 for a in _appointments(cid, pid) if _is_future(a))


def _future_erase(cid: str, pid: str) -> int:
    """Future appointments: cancelled through the agenda (its slots released, its reminders
    stop), with no notice: the patient's contact details are already gone."""
    from chalicelib.agenda import schemas as agenda_schemas
    from chalicelib.agenda import service as agenda

    who = _system(cid)
    n = 0
    for a in _appointments(cid, pid):
        if _is_future(a):
            agenda.change_status(
                who,
                a.appointment_id,
                agenda_schemas.StatusIn(status="cancelled", reason="gdpr_erasure"),
            )
            n += 1
    return n


def _past_count(cid: str, pid: str) -> int:
    return sum(1 for a in _appointments(cid, pid) if not _is_future(a))


def _past_erase(cid: str, pid: str) -> int:
    return _delete(a for a in _appointments(cid, pid) if not _is_future(a))


# --- clinical records --------------------------------------------------------------------------


def _chart(cid: str, pid: str) -> list[Item]:
    return _pat(cid, pid, "CHART")


def _perio(cid: str, pid: str) -> list[Item]:
    return _gsi(Item.gsi1, f"{clinic_pk(cid)}#PAT#{pid}#PERIO")


def _notes(cid: str, pid: str) -> list[Any]:
    from chalicelib.notes.models import ClinicalNote

    return [
        n
        for n in _gsi(Item.gsi1, f"{clinic_pk(cid)}#PAT#{pid}#NOTE")
        if isinstance(n, ClinicalNote)
    ]


def _notes_erase(cid: str, pid: str) -> int:
    n = 0
    for note in _notes(cid, pid):
        n += _delete(_under(cid, f"NOTE#{note.note_id}#"))
        note.delete()
        n += 1
    return n


def _note_words(cid: str, pid: str) -> list[Item]:
    """The notes search index entries of the patient's notes and amendments (ADR 0642): their
    keys come from the notes' own text, which stays (sealed) until the clinical retention."""
    from chalicelib.notes import search
    from chalicelib.notes import service as notes
    from chalicelib.notes.common import open_json
    from chalicelib.notes.models import NoteAmendment, NoteWord

    out: list[Item] = []
    for note in _notes(cid, pid):
        keys = notes._note_keys(cid, open_json(cid, note.content_sealed))
        out += [NoteWord(*NoteWord.key(cid, k, note.note_id)) for k in keys]
        for amd in _under(cid, f"NOTE#{note.note_id}#AMD#"):
            if isinstance(amd, NoteAmendment):
                body = open_json(cid, amd.body_sealed)
                akeys = search.entry_keys(cid, body.get("reason"), body.get("text"))
                out += [NoteWord(*NoteWord.key(cid, k, amd.amendment_id)) for k in akeys]
    return [w for w in out if _item_exists(w)]


def _item_exists(it: Item) -> bool:
    return bool(list(Item.query(it.PK, Item.SK == it.SK, limit=1)))


def _ortho(cid: str, pid: str) -> list[Item]:
    return _gsi(Item.gsi1, f"{clinic_pk(cid)}#PAT#{pid}#OCASE")


def _ortho_erase(cid: str, pid: str) -> int:
    n = 0
    for case in _ortho(cid, pid):
        case_id = getattr(case, "case_id", None)
        if case_id:
            n += _delete(_under(cid, f"OCASE#{case_id}#"))
            n += _delete(_under(cid, f"OALERT#{case_id}#"))
            n += _delete(_under(cid, f"OREM#{case_id}#"))
        case.delete()
        n += 1
    n += _delete(_under(cid, f"OACTIVE#{pid}"))
    return n


def _images(cid: str, pid: str) -> list[Any]:
    from chalicelib.imaging.models import Image

    return [i for i in _pat(cid, pid, "IMG") if isinstance(i, Image)]


def _images_erase(cid: str, pid: str) -> int:
    """Images with their original and every rendition (thumb, preview, full), all versions."""
    from chalicelib.imaging.models import upload_prefix

    n = 0
    for img in _images(cid, pid):
        delete_objects(upload_prefix(cid, img.image_id))
        _delete(_under(cid, f"IMG#{img.image_id}"))  # the id's reference
        img.delete()
        n += 1
    _delete(_pat(cid, pid, "XRT"))
    _delete(_pat(cid, pid, "PAIR"))
    return n


def _documents(cid: str, pid: str) -> list[Any]:
    from chalicelib.imaging.models import Document

    return [d for d in _pat(cid, pid, "DOC") if isinstance(d, Document)]


def _documents_erase(cid: str, pid: str) -> int:
    n = 0
    for d in _documents(cid, pid):
        delete_objects(f"clinics/{cid}/documents/{d.document_id}/")
        d.delete()
        n += 1
    return n


def _labs(cid: str, pid: str) -> list[Any]:
    return _gsi(Item.gsi1, f"{clinic_pk(cid)}#PAT#{pid}#LCASE")


def _labs_erase(cid: str, pid: str) -> int:
    n = 0
    for case in _labs(cid, pid):
        delete_objects(f"clinics/{cid}/labs/{case.case_id}/")
        case.delete()
        n += 1
    return n


def _medical_count(cid: str, pid: str) -> int:
    p = _get(cid, pid)
    return 1 if p is not None and p.medical_sealed else 0


# --- billing -----------------------------------------------------------------------------------


def _billing(cid: str, pid: str, what: str) -> list[Item]:
    return _gsi(Item.gsi2, f"{clinic_pk(cid)}#PAT#{pid}#{what}")


def _invoices_erase(cid: str, pid: str) -> int:
    n = 0
    for inv in _billing(cid, pid, "INV"):
        day = getattr(inv, "issue_date", None)
        if day:
            _delete(_under(cid, f"INVDAY#{day}#{inv.invoice_id}"))
        inv.delete()
        n += 1
    return n


def _budgets_erase(cid: str, pid: str) -> int:
    n = 0
    for b in _billing(cid, pid, "BUD"):
        delete_objects(f"clinics/{cid}/budgets/{b.budget_id}/")
        _delete(_under(cid, f"BUD#{b.budget_id}#"))
        b.delete()
        n += 1
    return n


# --- communications, timeline, exports -----------------------------------------------------------


def _messages(cid: str, pid: str) -> list[Item]:
    return _gsi(Item.gsi1, f"{clinic_pk(cid)}#PAT#{pid}#MSG") + list(_under(cid, f"CONV#{pid}"))


def _exports(cid: str, pid: str) -> list[Any]:
    from chalicelib.gdpr.models import Export

    return list(_under(cid, Export.prefix(pid)))


def _exports_erase(cid: str, pid: str) -> int:
    n = 0
    for e in _exports(cid, pid):
        delete_objects(f"clinics/{cid}/gdpr-exports/{e.export_id}/")
        e.delete()
        n += 1
    _delete(_under(cid, f"GDPR#RUN#{pid}"))
    return n


def _simple(rows: Callable[[str, str], list[Item]]) -> tuple[Callable, Callable]:
    return (lambda c, p: len(rows(c, p))), (lambda c, p: _delete(rows(c, p)))


def _counted(rows: Callable[[str, str], list[Any]], erase: Callable[[str, str], int]) -> tuple:
    return (lambda c, p: len(rows(c, p))), erase


ERASERS: list[Eraser] = [
    # -- no duty to keep: erased now --
    Eraser(
        "search_index",
        "none",
        tr("Patient search index entries", "Entradas del buscador de pacientes"),
        _search_count,
        _search_erase,
    ),
    Eraser(
        "contact",
        "none",
        tr(
            "Contact details (email, phone, WhatsApp, address, emergency contact)",
            "Datos de contacto (correo, teléfono, WhatsApp, dirección, contacto de emergencia)",
        ),
        _contact_count,
        _contact_erase,
    ),
    Eraser(
        "future_appointments",
        "none",
        tr(
            "Future appointments (cancelled, no notice sent)", "Citas futuras (se anulan sin aviso)"
        ),
        _future_count,
        _future_erase,
    ),
    Eraser(
        "messages",
        "none",
        tr("Messages and conversations", "Mensajes y conversaciones"),
        *_simple(_messages),
    ),
    Eraser(
        "channel_consents",
        "none",
        tr("Consents to email / WhatsApp messages", "Consentimientos de correo / WhatsApp"),
        *_simple(lambda c, p: _pat(c, p, "CONSENT")),
    ),
    Eraser(
        "timeline",
        "none",
        tr("Timeline entries", "Entradas de la cronología"),
        *_simple(lambda c, p: _pat(c, p, "TL")),
    ),
    Eraser(
        "notes_search_index",
        "none",
        tr("Clinical notes search index entries", "Entradas del buscador de notas clínicas"),
        *_simple(_note_words),
    ),
    Eraser(
        "exports",
        "none",
        tr("Data exports (ZIP files)", "Exportaciones de datos (archivos ZIP)"),
        *_counted(_exports, _exports_erase),
    ),
    Eraser(
        "recalls",
        "none",
        tr(
            "Recalls and follow-ups (with the front desk's notes)",
            "Revisiones periódicas y seguimientos (con las notas de recepción)",
        ),
        *_simple(lambda c, p: _pat(c, p, "RECALL") + _pat(c, p, "FU")),
    ),
    Eraser(
        "online_booking",
        "none",
        tr(
            "Online booking: the privacy notice accepted when booking",
            "Reserva online: el aviso de privacidad aceptado al reservar",
        ),
        *_simple(lambda c, p: list(_under(c, f"BOOKING#PRIVACY#{p}"))),
    ),
    # -- historia clínica: blocked, erased when the clinical retention ends --
    Eraser(
        "past_appointments",
        "clinical",
        tr("Past appointments (care episodes)", "Citas pasadas (episodios asistenciales)"),
        _past_count,
        _past_erase,
    ),
    Eraser(
        "medical_history",
        "clinical",
        tr("Medical history", "Historia médica (anamnesis)"),
        _medical_count,
        lambda c, p: 0,  # on the patient item, erased with it (identity, last)
    ),
    Eraser(
        "chart",
        "clinical",
        tr("Dental chart and treatment plan", "Odontograma y plan de tratamiento"),
        *_simple(_chart),
    ),
    Eraser("perio", "clinical", tr("Periodontal exams", "Periodontogramas"), *_simple(_perio)),
    Eraser(
        "notes", "clinical", tr("Clinical notes", "Notas clínicas"), *_counted(_notes, _notes_erase)
    ),
    Eraser(
        "ortho",
        "clinical",
        tr("Orthodontic cases", "Casos de ortodoncia"),
        *_counted(_ortho, _ortho_erase),
    ),
    Eraser(
        "images",
        "clinical",
        tr(
            "Photos and X-rays (originals and renditions)",
            "Fotos y radiografías (originales y copias)",
        ),
        *_counted(_images, _images_erase),
    ),
    Eraser(
        "documents",
        "clinical",
        tr(
            "Documents (informed consents, reports)",
            "Documentos (consentimientos informados, informes)",
        ),
        *_counted(_documents, _documents_erase),
    ),
    Eraser(
        "labs",
        "clinical",
        tr("Lab cases and their files", "Trabajos de laboratorio y sus archivos"),
        *_counted(_labs, _labs_erase),
    ),
    # -- invoices and accounting: blocked, erased when the billing retention ends --
    Eraser(
        "invoices",
        "billing",
        tr(
            "Invoices (with the name and tax id as issued) and their VERI*FACTU records",
            "Facturas (con el nombre y NIF tal como se emitieron) y sus registros VERI*FACTU",
        ),
        *_counted(lambda c, p: _billing(c, p, "INV"), _invoices_erase),
    ),
    Eraser(
        "payments",
        "billing",
        tr("Payments and refunds", "Cobros y devoluciones"),
        *_simple(lambda c, p: _billing(c, p, "PAY")),
    ),
    Eraser(
        "budgets",
        "billing",
        tr("Budgets (estimates)", "Presupuestos"),
        *_counted(lambda c, p: _billing(c, p, "BUD"), _budgets_erase),
    ),
    # -- last: the patient item (identity) goes with the clinical record --
    Eraser(
        "identity",
        "clinical",
        tr(
            "Identification (name, birth date, identity document)",
            "Identificación (nombre, fecha de nacimiento, documento de identidad)",
        ),
        _identity_count,
        _identity_erase,
    ),
]
"""Every eraser, in the order they run (the patient item last)."""


def register(eraser: Eraser) -> None:
    """Add a module's eraser (before ``identity``, which must stay last)."""
    if any(e.kind == eraser.kind for e in ERASERS):
        return
    ERASERS.insert(len(ERASERS) - 1, eraser)
