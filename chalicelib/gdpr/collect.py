"""What goes into a patient's export, read through each module's own service functions (the
same reads the staff screens make, never a scan), section by section. ADR 1401.

The reader is :func:`exporter`: a system principal of the clinic holding every key its plan
includes, because the export is what the *clinic* holds about the patient, not what the
person who asked for it may see on screen (who needs ``gdpr.export``, admin only by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.core import rbac, storage
from chalicelib.core.api import Page, Principal
from chalicelib.core.i18n import Text, tr
from chalicelib.gdpr.archive import Archive, copy_object, safe_name

PAGE = 50
MAX_PDFS = 300
"""PDFs rendered per export (budgets and invoices); past it the JSON still has every record."""

ACTOR = {"type": "system", "id": "gdpr-export", "name": "GDPR export"}


@dataclass
class Exporter(Principal):
    """The export's reader: the clinic's system principal (audit entries name it)."""

    @property
    def actor(self) -> dict[str, Any]:
        return dict(ACTOR)


def exporter(clinic_id: str, plan: str) -> Exporter:
    return Exporter(
        user_id="gdpr-export",
        clinic_id=clinic_id,
        session_id="",
        role="system",
        plan=plan,
        permissions=frozenset(rbac.effective_permissions(["*"], plan)),
        name="GDPR export",
    )


def dump(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, list):
        return [dump(x) for x in v]
    return v


def drain(call: Callable[[Any], Page], query: Callable[..., Any], **fixed: Any) -> list[Any]:
    """Every page of a list service function."""
    out: list[Any] = []
    cursor: str | None = None
    while True:
        page = call(query(cursor=cursor, limit=fixed.pop("limit", PAGE), **fixed))
        out.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return out


def without_urls(d: dict[str, Any]) -> dict[str, Any]:
    """Metadata without the presigned links (they would expire; the file is beside it)."""
    return {k: v for k, v in d.items() if k not in ("urls", "view", "download")}


@dataclass
class Context:
    who: Exporter
    patient_id: str
    lang: str
    archive: Archive
    counts: dict[str, int]
    pdfs: int = 0

    def listed(self, section: str, path: str, records: list[Any], what: Text) -> None:
        """The section's records as one JSON file, counted for the index."""
        self.archive.add_json(path, records, what=what, section=section)
        self.counts[section] = len(records)


def patient_section(c: Context) -> dict[str, Any]:
    from chalicelib.patients import service as patients

    p = dump(patients.get(c.who, c.patient_id))
    c.archive.add_json(
        "patient.json",
        p,
        what=tr(
            "Demographics: name, date of birth, identity document, contact, address, guardian",
            "Datos personales: nombre, fecha de nacimiento, documento de identidad, contacto, "
            "dirección, tutor",
        ),
        section="patient",
    )
    medical = dump(patients.get_medical(c.who, c.patient_id))
    c.archive.add_json(
        "medical-history.json",
        medical,
        what=tr(
            "Medical history (conditions, allergies, medication) and the alerts it raises",
            "Historia médica (enfermedades, alergias, medicación) y los avisos que genera",
        ),
        section="medical_history",
    )
    c.counts["patient"] = 1
    return p


APPOINTMENT_COLUMNS = [
    "appointment_id",
    "start",
    "end",
    "status",
    "type",
    "professional_name",
    "cabinet_name",
    "reason",
    "notes",
    "cancel_reason",
]


def appointments_section(c: Context) -> None:
    from chalicelib.agenda import schemas as agenda_schemas
    from chalicelib.agenda import service as agenda

    def call(q: Any) -> Page:
        return agenda.patient_appointments(c.who, c.patient_id, q)

    items = []
    for when in ("past", "upcoming"):
        items += dump(drain(call, agenda_schemas.PatientAppointmentsQuery, when=when, limit=100))
    c.archive.add_json(
        "appointments/appointments.json",
        items,
        what=tr("Appointments, past and upcoming (JSON)", "Citas, pasadas y próximas (JSON)"),
        section="appointments",
    )
    columns = [k for k in APPOINTMENT_COLUMNS if any(k in a for a in items)] or ["appointment_id"]
    c.archive.add_csv(
        "appointments/appointments.csv",
        columns,
        items,
        what=tr("Appointments as a spreadsheet (CSV)", "Citas en hoja de cálculo (CSV)"),
        section="appointments",
    )
    c.counts["appointments"] = len(items)


def clinical_section(c: Context) -> None:
    from chalicelib.charting import service as charting
    from chalicelib.notes import schemas as note_schemas
    from chalicelib.notes import service as notes
    from chalicelib.perio import schemas as perio_schemas
    from chalicelib.perio import service as perio

    findings, plan = charting.chart_items(c.who.clinic_id, c.patient_id)
    c.archive.add_json(
        "clinical/chart-findings.json",
        dump([charting.finding_out(f) for f in findings]),
        what=tr(
            "Dental chart findings, every one ever recorded (ended ones with when and why)",
            "Hallazgos del odontograma, todos los registrados (los cerrados con cuándo y por qué)",
        ),
        section="chart",
    )
    c.archive.add_json(
        "clinical/treatment-plan.json",
        dump([charting.plan_out(p, c.lang) for p in plan]),
        what=tr(
            "Treatment plan: planned, completed and cancelled treatments",
            "Plan de tratamiento: tratamientos planificados, realizados y cancelados",
        ),
        section="chart",
    )
    c.counts["chart"] = len(findings) + len(plan)

    def exams_call(q: Any) -> Page:
        return perio.list_exams(c.who, c.patient_id, q)

    exams = [
        dump(perio.get(c.who, s.exam_id))
        for s in drain(exams_call, perio_schemas.ExamQuery, limit=100)
    ]
    c.listed(
        "perio",
        "clinical/periodontal-exams.json",
        exams,
        tr(
            "Periodontal exams with the six sites of every tooth",
            "Periodontogramas con los seis puntos de cada diente",
        ),
    )

    def notes_call(q: Any) -> Page:
        return notes.list_notes(c.who, c.patient_id, q)

    all_notes = dump(drain(notes_call, note_schemas.NoteQuery))
    c.listed(
        "notes",
        "clinical/clinical-notes.json",
        all_notes,
        tr(
            "Clinical notes with their amendments and signatures",
            "Notas clínicas con sus enmiendas y firmas",
        ),
    )


def ortho_labs_section(c: Context) -> None:
    from chalicelib.labs import schemas as lab_schemas
    from chalicelib.labs import service as labs
    from chalicelib.ortho import schemas as ortho_schemas
    from chalicelib.ortho import service as ortho

    def cases_call(q: Any) -> Page:
        return ortho.list_cases(c.who, c.patient_id, q)

    cases = []
    for case in drain(cases_call, ortho_schemas.ListQuery):
        d = dump(case)

        def visits_call(q: Any, case_id: str = case.case_id) -> Page:
            return ortho.list_visits(c.who, c.patient_id, case_id, q)

        d["visits"] = dump(drain(visits_call, ortho_schemas.ListQuery))
        cases.append(d)
    c.listed(
        "ortho",
        "clinical/orthodontic-cases.json",
        cases,
        tr(
            "Orthodontic cases: plan, phases, milestones, trays and visits",
            "Casos de ortodoncia: plan, fases, hitos, alineadores y visitas",
        ),
    )

    def labs_call(q: Any) -> Page:
        return labs.patient_cases(c.who, c.patient_id, q)

    lab_cases = [without_urls(x) for x in dump(drain(labs_call, lab_schemas.PageQuery))]
    c.listed(
        "labs",
        "clinical/lab-cases.json",
        lab_cases,
        tr(
            "Work sent to dental labs (crowns, aligners, ...) with its history",
            "Trabajos enviados a laboratorios (coronas, alineadores, ...) con su historia",
        ),
    )


def billing_section(c: Context) -> None:
    from chalicelib.billing import budgets, invoices, payments
    from chalicelib.billing import schemas as billing_schemas

    def budgets_call(q: Any) -> Page:
        return budgets.list_budgets(c.who, q)

    found = drain(budgets_call, billing_schemas.BudgetQuery, patient_id=c.patient_id)
    c.archive.add_json(
        "billing/budgets.json",
        dump(found),
        what=tr("Estimates (budgets) with their lines", "Presupuestos con sus líneas"),
        section="budgets",
    )
    for b in found:
        if c.pdfs >= MAX_PDFS:
            break
        c.pdfs += 1
        c.archive.add_bytes(
            f"billing/budgets/{safe_name(b.number or b.budget_id)}.pdf",
            budgets.pdf_bytes(c.who, b.budget_id),
            what=tr(f"Estimate {b.number} (PDF)", f"Presupuesto {b.number} (PDF)"),
            content_type="application/pdf",
            section="budgets",
        )
    c.counts["budgets"] = len(found)

    def invoices_call(q: Any) -> Page:
        return invoices.list_invoices(c.who, q)

    invs = drain(invoices_call, billing_schemas.InvoiceQuery, patient_id=c.patient_id)
    c.archive.add_json(
        "billing/invoices.json",
        dump(invs),
        what=tr("Invoices with their lines and taxes", "Facturas con sus líneas e impuestos"),
        section="invoices",
    )
    paid = []
    for inv in invs:
        paid += dump(payments.list_for_invoice(c.who, inv.invoice_id))
        if inv.status == "draft" or c.pdfs >= MAX_PDFS:
            continue  # a draft is not an invoice yet
        c.pdfs += 1
        name = inv.num_serie or inv.invoice_id
        c.archive.add_bytes(
            f"billing/invoices/{safe_name(name)}.pdf",
            invoices.pdf_bytes(c.who.clinic_id, inv.invoice_id),
            what=tr(f"Invoice {name} (PDF)", f"Factura {name} (PDF)"),
            content_type="application/pdf",
            section="invoices",
        )
    c.counts["invoices"] = len(invs)
    c.archive.add_json(
        "billing/payments.json",
        paid,
        what=tr("Payments and refunds", "Cobros y devoluciones"),
        section="payments",
    )
    c.counts["payments"] = len(paid)


def comms_section(c: Context) -> None:
    from chalicelib.comms import schemas as comms_schemas
    from chalicelib.comms import service as comms

    def messages_call(q: Any) -> Page:
        return comms.list_messages(c.who, q, c.patient_id)

    msgs = dump(drain(messages_call, comms_schemas.ListQuery))
    c.archive.add_json(
        "communications/messages.json",
        msgs,
        what=tr(
            "Messages sent to and received from the patient (email, WhatsApp)",
            "Mensajes enviados al paciente y recibidos de él (correo, WhatsApp)",
        ),
        section="messages",
    )
    consents = dump(comms.list_consents(c.who, c.patient_id))
    c.archive.add_json(
        "communications/consents.json",
        consents,
        what=tr(
            "Consent to each channel, with its history",
            "Consentimiento para cada canal, con su historia",
        ),
        section="consents",
    )
    c.counts["messages"] = len(msgs)
    c.counts["consents"] = len(consents)


def recalls_section(c: Context) -> None:
    from chalicelib.recalls import followups

    view = followups.patient_view(c.who, c.patient_id, c.lang)
    c.archive.add_json(
        "recalls.json",
        {"recalls": dump(view.recalls), "followups": dump(view.followups)},
        what=tr(
            "Recalls (periodic check-ups) and follow-ups, with the reminders sent",
            "Revisiones periódicas y seguimientos, con los recordatorios enviados",
        ),
        section="recalls",
    )
    c.counts["recalls"] = len(view.recalls) + len(view.followups)


def timeline_section(c: Context) -> None:
    from chalicelib.timeline import schemas as timeline_schemas
    from chalicelib.timeline import service as timeline

    def call(q: Any) -> Page:
        return timeline.list_entries(c.who, c.patient_id, q)

    entries = dump(drain(call, timeline_schemas.TimelineQuery, limit=100))
    c.listed(
        "timeline",
        "timeline.json",
        entries,
        tr(
            "The patient's timeline: what happened on the record and when",
            "La cronología del paciente: qué pasó en su ficha y cuándo",
        ),
    )


def files_section(c: Context) -> None:
    """Images (their original files) and documents, each with its metadata in JSON."""
    from chalicelib.imaging import documents
    from chalicelib.imaging import schemas as imaging_schemas
    from chalicelib.imaging import service as imaging
    from chalicelib.imaging.models import document_key, original_key

    cid = c.who.clinic_id

    def images_call(q: Any) -> Page:
        return imaging.list_images(c.who, c.patient_id, q)

    images = drain(images_call, imaging_schemas.ImageQuery, status="ready", limit=100)
    _with_files(
        c,
        "images",
        [
            _File(
                record=img,
                path=f"images/{img.image_id}-{safe_name(img.filename, 'image')}",
                key=original_key(cid, img.image_id),
                what=tr(
                    f"{_kind_en(img.kind)}, original file ({img.filename})",
                    f"{_kind_es(img.kind)}, archivo original ({img.filename})",
                ),
                content_type=img.content_type,
            )
            for img in images
        ],
        tr(
            "Photos, X-rays and DICOM: what each is (kind, teeth, date, notes) and its file",
            "Fotos, radiografías y DICOM: qué es cada una (tipo, dientes, fecha, notas) y su "
            "archivo",
        ),
    )

    def docs_call(q: Any) -> Page:
        return documents.list_documents(c.who, c.patient_id, q)

    docs = drain(docs_call, imaging_schemas.DocumentQuery, status="available", limit=100)
    _with_files(
        c,
        "documents",
        [
            _File(
                record=doc,
                path=f"documents/{doc.document_id}-{safe_name(doc.filename, 'document')}",
                key=document_key(cid, doc.document_id),
                what=tr(f"Document: {doc.title}", f"Documento: {doc.title}"),
                content_type=doc.content_type,
            )
            for doc in docs
        ],
        tr(
            "Documents (consents, ID scans, reports, ...): what each is and its file",
            "Documentos (consentimientos, DNI escaneado, informes, ...): qué es cada uno y su "
            "archivo",
        ),
    )


@dataclass
class _File:
    record: BaseModel
    path: str  # in the ZIP
    key: str  # in the media bucket
    what: Text
    content_type: str | None


def _with_files(c: Context, section: str, files: list[_File], what: Text) -> None:
    """Each record's file copied into the ZIP, and ``<section>/<section>.json`` with every
    record's metadata naming its file (null when the object is missing)."""
    meta = []
    for f in files:
        d = without_urls(dump(f.record))
        try:
            body = storage.open_stream(f.key)
        except storage.ObjectMissing:
            d["file"] = None  # its metadata is all there is
        else:
            copy_object(
                c.archive,
                f.path,
                body,
                what=f.what,
                content_type=f.content_type or "application/octet-stream",
                section=section,
            )
            d["file"] = f.path
        meta.append(d)
    c.archive.add_json(f"{section}/{section}.json", meta, what=what, section=section)
    c.counts[section] = len(meta)


def _kind_en(kind: str) -> str:
    return {"photo": "Photo", "xray": "X-ray", "dicom": "DICOM image"}.get(kind, "Image")


def _kind_es(kind: str) -> str:
    return {"photo": "Foto", "xray": "Radiografía", "dicom": "Imagen DICOM"}.get(kind, "Imagen")


SECTIONS: tuple[Callable[[Context], Any], ...] = (
    appointments_section,
    clinical_section,
    ortho_labs_section,
    billing_section,
    comms_section,
    recalls_section,
    timeline_section,
    files_section,
)
"""After :func:`patient_section`, in the order the index lists them."""
