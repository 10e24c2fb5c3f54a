"""Demo online booking of Clínica Demo (ADRs 1402, 1403): switched on with three types —
Revisión / Check-up (30 min), Limpieza / Cleaning (45 min, the hygienist) and Primera visita /
First visit (30 min) — and three upcoming bookings made through the page's own path, so the
agenda shows the online mark. Runs after every step that books, taking only free slots."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.agenda import service as agenda
from chalicelib.booking import schemas, service
from chalicelib.identity.models import Clinic
from infra.local.seed.context import DemoContext


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    cid = ctx.demo_clinic_id
    admin = ctx.demo["admin"]
    pros = agenda.professionals(cid)
    cabs = [c.cabinet_id for c in agenda.cabinets(cid) if c.active]
    if not pros or not cabs:
        return
    dentists = [m.user_id for m in pros if m.role in ("admin", "dentist")] or [pros[0].user_id]
    hygienists = [m.user_id for m in pros if m.role == "hygienist"] or dentists
    out = service.put_settings(
        admin,
        schemas.SettingsIn(
            enabled=True,
            horizon_days=60,
            min_notice_hours=12,
            buffer_min=0,
            max_pending=2,
            types=[
                schemas.BookingTypeIn(
                    type_id="revision",
                    name_es="Revisión",
                    name_en="Check-up",
                    duration_min=30,
                    professional_ids=dentists,
                    cabinet_ids=cabs,
                    reason="Revisión (reserva online)",
                    colour="blue",
                ),
                schemas.BookingTypeIn(
                    type_id="limpieza",
                    name_es="Limpieza",
                    name_en="Cleaning",
                    duration_min=45,
                    professional_ids=hygienists,
                    cabinet_ids=cabs,
                    reason="Limpieza (reserva online)",
                    colour="green",
                ),
                schemas.BookingTypeIn(
                    type_id="primera",
                    name_es="Primera visita",
                    name_en="First visit",
                    duration_min=30,
                    professional_ids=dentists,
                    cabinet_ids=cabs,
                    reason="Primera visita (reserva online)",
                    colour="purple",
                ),
            ],
        ),
    )
    page = service.context(cid)
    principal = service.online_principal(Clinic.get(*Clinic.key(cid)), None, "demo seed")
    first = page.today() + timedelta(days=2)
    for i, t in enumerate(out.types):
        found = service.free_days(page, t.model_dump(), first + timedelta(days=i), 5)
        slots = [s for day in sorted(found) for s in found[day]]
        if not slots or i >= len(patient_ids):
            continue
        pick = slots[len(slots) // 3]
        try:
            service.book(page, principal, patient_ids[-(i + 1)], t.model_dump(), pick.start, None)
        except service.Refused:
            continue  # the demo shows fewer online bookings; nothing else depends on them
