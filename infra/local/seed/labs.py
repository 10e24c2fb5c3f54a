"""Demo lab cases of Clínica Demo: three labs and a dozen cases across the demo patients in
every state, with their history (the lab's own moves made through its link, so they read
"the lab"), one overdue and one not back 48 h before its fitting appointment. Everything goes
through the labs services, so audit entries, index keys and events are real."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.core.db import Item
from chalicelib.core.ids import now
from chalicelib.labs import link, schemas, service
from infra.local.seed.context import DemoContext

LABS = (
    {
        "name": "Laboratorio Dental Sur",
        "contact": "Luis Ortega",
        "email": "pedidos@labsur.example",
        "phone": "+34 954 000 111",
    },
    {
        "name": "Orto Norte Laboratorio",
        "contact": "Marta Gil",
        "email": "casos@ortonorte.example",
        "phone": "+34 944 000 222",
        "notes": "Alineadores y retenedores.",
    },
    {
        "name": "Cerámica Levante",
        "contact": "Jordi Puig",
        "email": "taller@ceramicalevante.example",
    },
)

# (lab index, work, teeth, shade, material, days until due, path of moves: (who, status))
CASES: tuple[
    tuple[int, str, list[int], str | None, str | None, int, list[tuple[str, str]]], ...
] = (
    (0, "crown", [36], "A2", "Zirconio monolítico", 12, []),
    (0, "bridge", [14, 15, 16], "A3", "Metal-cerámica", 10, [("send", "sent")]),
    (
        2,
        "veneer",
        [11, 21],
        "BL2",
        "Disilicato de litio",
        8,
        [("send", "sent"), ("lab", "in_progress")],
    ),
    (
        0,
        "implant_crown",
        [46],
        "A3",
        "Zirconio sobre base de titanio",
        -3,
        [("send", "sent"), ("lab", "in_progress")],
    ),  # overdue
    (
        1,
        "night_guard",
        [],
        None,
        "Resina acrílica dura",
        5,
        [("send", "sent"), ("lab", "in_progress"), ("lab", "shipped")],
    ),
    (
        2,
        "inlay_onlay",
        [26],
        "A2",
        "Disilicato de litio",
        2,
        [("send", "sent"), ("lab", "in_progress"), ("lab", "shipped"), ("staff", "received")],
    ),
    (
        0,
        "crown",
        [16],
        "A3.5",
        "Zirconio",
        -10,
        [
            ("send", "sent"),
            ("lab", "in_progress"),
            ("lab", "shipped"),
            ("staff", "received"),
            ("staff", "fitted"),
        ],
    ),
    (
        0,
        "denture",
        [],
        "A3",
        "Resina acrílica",
        6,
        [
            ("send", "sent"),
            ("lab", "in_progress"),
            ("lab", "shipped"),
            ("staff", "received"),
            ("staff", "returned_for_remake"),
        ],
    ),
    (
        1,
        "retainer",
        [],
        None,
        "Alambre trenzado",
        9,
        [
            ("send", "sent"),
            ("lab", "in_progress"),
            ("lab", "shipped"),
            ("staff", "received"),
            ("staff", "returned_for_remake"),
            ("lab", "in_progress"),
        ],
    ),
    (2, "crown", [24], "A2", "Zirconio", 20, [("send", "sent")]),  # fitting in < 48 h
    (
        1,
        "aligners",
        [],
        None,
        "PET-G",
        15,
        [("send", "sent"), ("lab", "in_progress"), ("lab", "shipped")],
    ),
    (0, "other", [], None, None, 25, []),
)
NOTES = {
    "in_progress": "Recibidos los modelos, empezamos hoy.",
    "shipped": "Enviado por mensajería, llega mañana.",
    "returned_for_remake": "Ajuste oclusal deficiente: rehacer.",
}


def _appointment_soon(clinic_id: str, patient_ids: list[str]) -> Appointment | None:
    """An upcoming appointment of a demo patient within 48 h (the 'not back' case), else the
    next one there is."""
    at = now()
    soon, later = at + timedelta(hours=46), None
    for pid in patient_ids[:15]:
        for a in Item.gsi2.query(patient_index(clinic_id, pid), limit=20):
            if not isinstance(a, Appointment) or a.status == "cancelled":
                continue
            start = datetime.fromisoformat(a.start)
            if at + timedelta(hours=2) < start <= soon:
                return a
            if start > at and (later is None or start < datetime.fromisoformat(later.start)):
                later = a
    return later


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    if not patient_ids:
        return
    admin = ctx.demo["admin"]
    cid = admin.clinic_id
    labs = [service.create_lab(admin, schemas.LabIn(**lab)) for lab in LABS]
    soon = _appointment_soon(cid, patient_ids)
    today = date.today()
    for i, (lab_i, work, teeth, shade, material, days, path) in enumerate(CASES):
        pid = patient_ids[i % min(len(patient_ids), 8)]
        appt_id = None
        if i == 9 and soon is not None:
            pid, appt_id = soon.patient_id, soon.appointment_id
        c = service.create_case(
            admin,
            schemas.CaseIn(
                patient_id=pid,
                lab_id=labs[lab_i].lab_id,
                appointment_id=appt_id,
                teeth=teeth,
                work_type=work,
                shade=shade,
                material=material,
                instructions="Preparación con hombro de 1 mm; adjuntamos escaneado intraoral."
                if teeth
                else "Impresiones digitales de ambas arcadas adjuntas.",
                priority="urgent" if i in (3, 9) else "normal",
                due_date=today + timedelta(days=days),
            ),
        )
        token = None
        for who, to in path:
            note = NOTES.get(to)
            if who == "send":
                out = link.send(admin, c.case_id, schemas.SendIn(email=False))
                token = out.link.rsplit("/", 1)[-1]
            elif who == "lab" and token:
                link.lab_move(token, to, note)
                if to == "shipped":
                    link.lab_delivery(token, (today + timedelta(days=1)).isoformat())
            else:
                service.move(admin, c.case_id, schemas.StatusIn(status=to, note=note))
