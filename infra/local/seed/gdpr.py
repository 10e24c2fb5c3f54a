"""Demo data for the GDPR erasure (ADR 1405): "Paciente Supresión Demo", a patient of Clínica
Demo with a photo, a clinical note, a sent message and an issued invoice, whose erasure an admin
can preview and run (the e2e test `frontend/e2e/gdpr-erasure.spec.ts` does). Nobody else
refers to this patient, so erasing it changes no other demo screen."""

from __future__ import annotations

from chalicelib.billing import catalog, invoices
from chalicelib.billing import schemas as billing_schemas
from chalicelib.comms.models import Message
from chalicelib.core.ids import new_id, now
from chalicelib.notes import schemas as note_schemas
from chalicelib.notes import service as notes
from chalicelib.patients import schemas as patient_schemas
from chalicelib.patients import service as patients
from infra.local.seed.context import DemoContext
from infra.local.seed.imaging import _photo, intraoral_photo

FIRST, LAST, SECOND = "Paciente", "Supresión", "Demo"


def seed(ctx: DemoContext) -> str:
    admin, dentist = ctx.demo["admin"], ctx.demo["dentist"]
    desk = ctx.demo["receptionist"]
    cid = ctx.demo_clinic_id
    p = patients.create(
        desk,
        patient_schemas.PatientIn(
            first_name=FIRST,
            last_name=LAST,
            second_last_name=SECOND,
            date_of_birth="1984-05-17",
            gender="other",
            phone="+34699000111",
            email="supresion.demo@example.com",
        ),
    )
    pid = p.patient_id
    _photo(
        dentist, pid, intraoral_photo(77, "intraoral_frontal"), "intraoral_frontal", None, "frontal"
    )
    notes.create_note(
        dentist, pid, note_schemas.NoteIn(kind="free", text="Revisión. Sin hallazgos.")
    )
    t = {x.code: x.treatment_id for x in catalog.all_treatments(cid)}
    code = "REV" if "REV" in t else next(iter(t))
    inv = invoices.create(
        admin,
        billing_schemas.InvoiceIn(
            patient_id=pid, lines=[billing_schemas.InvoiceLineIn(treatment_id=t[code])]
        ),
    )
    invoices.issue(admin, inv.invoice_id)
    at, mid = now(), new_id()
    Message(
        *Message.key(cid, mid),
        message_id=mid,
        patient_id=pid,
        channel="email",
        direction="out",
        kind="reminder",
        status="sent",
        subject="Recordatorio de su cita",
        created_at=at,
        updated_at=at,
        GSI1PK=Message.patient_pk(cid, pid),
        GSI1SK=mid,
        GSI2PK=Message.list_pk(cid),
        GSI2SK=mid,
    ).save()
    return pid
