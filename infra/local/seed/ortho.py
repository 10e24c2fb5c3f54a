"""Demo orthodontic cases of Clínica Demo, written through the ortho services (so alerts,
counters, audit entries and events are real): an aligner case mid-treatment whose tray change
is overdue, a brackets case in space closure overdue for a check-up, a retention case with its
check due, and a finished case. Patients with photos get a progress series (the photos are
linked directly: the image worker may not have rendered them yet when the seed runs)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import now
from chalicelib.imaging.models import Image
from chalicelib.ortho import schemas, service
from chalicelib.ortho.models import OrthoCase
from infra.local.seed.context import DemoContext


def _booked(clinic_id: str, patient_id: str) -> bool:
    pivot = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    it = Item.gsi2.query(patient_index(clinic_id, patient_id), Item.GSI2SK >= pivot, limit=5)  # noqa: SIM300
    return any(isinstance(a, Appointment) and a.status != "cancelled" for a in it)


def _photos(clinic_id: str, patient_id: str) -> list[dict[str, str]]:
    out = []
    for img in Image.query(
        clinic_pk(clinic_id), Image.SK.startswith(Image.prefix(patient_id)), limit=40
    ):
        if (
            isinstance(img, Image)
            and img.kind == "photo"
            and not img.deleted
            and img.status not in ("failed", "expired")
            and img.category in (None, "intraoral_frontal")
        ):
            taken = img.acquired_on or img.created_at.date().isoformat()
            out.append({"image_id": img.image_id, "taken_on": taken})
    return sorted(out, key=lambda p: p["taken_on"])[:6]


def _phase(kind: str, ps: date, pe: date | None, a_s: date | None, a_e: date | None) -> dict:
    return {
        "kind": kind,
        "planned_start": ps,
        "planned_end": pe,
        "actual_start": a_s,
        "actual_end": a_e,
    }


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    if not patient_ids:
        return
    cid = ctx.demo_clinic_id
    who = ctx.demo.get("dentist") or ctx.demo["admin"]
    today = now().date()
    unbooked = [p for p in patient_ids if not _booked(cid, p)]
    # Patients with photos first for the aligner case (the progress series shows off best).
    aligner_pid = patient_ids[0]
    rest = [p for p in unbooked if p != aligner_pid] or [p for p in patient_ids[1:]]
    if len(rest) < 3:
        rest = (rest + [p for p in patient_ids if p != aligner_pid]) * 3
    brackets_pid, retention_pid, finished_pid = rest[0], rest[1], rest[2]
    w = timedelta(weeks=1)

    # 1. Aligners, 5 months in, tray 10 of 30, the change to 11 overdue by 6 days.
    s = today - timedelta(days=150)
    c = service.start_case(
        who,
        aligner_pid,
        schemas.CaseIn(
            appliance="aligners",
            total_trays=30,
            days_per_tray=14,
            arches="both",
            start_date=s,
            planned_months=15,
            visit_interval_weeks=8,
            phases=[
                schemas.PhaseIn(**_phase("levelling", s, s + 20 * w, s, None)),
                schemas.PhaseIn(**_phase("finishing", s + 20 * w, s + 65 * w, None, None)),
                schemas.PhaseIn(**_phase("retention", s + 65 * w, None, None, None)),
            ],
            milestones=[
                schemas.MilestoneIn(what="Colocación de attachments", planned_date=s, done_date=s),
                schemas.MilestoneIn(what="Refinamiento", planned_date=s + 40 * w),
            ],
        ),
    )
    for days, tray, note in (
        (150, 1, "Entrega de alineadores y attachments. Instrucciones de uso 22 h/día."),
        (95, 5, "Buen ajuste. Stripping 12-22 según plan."),
        (40, 9, "Progreso correcto. Refuerzo de uso nocturno."),
    ):
        service.add_visit(
            who,
            aligner_pid,
            c.case_id,
            schemas.VisitIn(date=today - timedelta(days=days), tray=tray, note=note),
        )
    service.change_tray(
        who, aligner_pid, c.case_id, schemas.TrayChangeIn(tray=10, date=today - timedelta(days=20))
    )
    _link(cid, c.case_id, _photos(cid, aligner_pid))

    # 2. Brackets (metal), space closure, check-up every 5 weeks, the last 9 weeks ago.
    s = today - timedelta(days=300)
    c = service.start_case(
        who,
        brackets_pid,
        schemas.CaseIn(
            appliance="brackets",
            bracket_material="metal",
            arches="both",
            start_date=s,
            planned_months=24,
            visit_interval_weeks=5,
            phases=[
                schemas.PhaseIn(**_phase("levelling", s, s + 24 * w, s, s + 26 * w)),
                schemas.PhaseIn(
                    **_phase("space_closure", s + 24 * w, s + 60 * w, s + 26 * w, None)
                ),
                schemas.PhaseIn(**_phase("finishing", s + 60 * w, s + 96 * w, None, None)),
                schemas.PhaseIn(**_phase("retention", s + 96 * w, None, None, None)),
            ],
            milestones=[
                schemas.MilestoneIn(what="Cementado de brackets", planned_date=s, done_date=s),
                schemas.MilestoneIn(
                    what="Arco 19x25 acero", planned_date=s + 26 * w, done_date=s + 27 * w
                ),
                schemas.MilestoneIn(what="Retirada de brackets", planned_date=s + 96 * w),
            ],
        ),
    )
    for weeks in (38, 30, 23, 15, 9):
        service.add_visit(
            who,
            brackets_pid,
            c.case_id,
            schemas.VisitIn(
                date=today - weeks * w, note="Cambio de arco y ligaduras. Higiene correcta."
            ),
        )

    # 3. Retention: brackets removed 5 months ago, checks every 12 weeks, the last 13 weeks ago.
    s = today - timedelta(days=800)
    off = today - timedelta(days=150)
    c = service.start_case(
        who,
        retention_pid,
        schemas.CaseIn(
            appliance="retainer",
            arches="both",
            start_date=s,
            planned_months=30,
            visit_interval_weeks=12,
            phases=[
                schemas.PhaseIn(**_phase("levelling", s, s + 30 * w, s, s + 32 * w)),
                schemas.PhaseIn(**_phase("finishing", s + 30 * w, off, s + 32 * w, off)),
                schemas.PhaseIn(**_phase("retention", off, None, off, None)),
            ],
            milestones=[
                schemas.MilestoneIn(
                    what="Retenedor fijo 3-3 inferior", planned_date=off, done_date=off
                ),
                schemas.MilestoneIn(what="Férula Essix superior", planned_date=off, done_date=off),
            ],
        ),
    )
    service.add_visit(
        who,
        retention_pid,
        c.case_id,
        schemas.VisitIn(date=today - 13 * w, note="Retención estable. Uso nocturno de la férula."),
    )

    # 4. Finished: 22 months of brackets against 24 planned.
    s = today - timedelta(days=760)
    end = s + timedelta(days=670)
    c = (
        service.start_case(
            who,
            finished_pid,
            schemas.CaseIn(
                appliance="brackets",
                bracket_material="ceramic",
                arches="upper",
                start_date=s,
                planned_months=24,
                visit_interval_weeks=6,
                phases=[
                    schemas.PhaseIn(**_phase("levelling", s, s + 30 * w, s, s + 28 * w)),
                    schemas.PhaseIn(
                        **_phase("finishing", s + 30 * w, s + 100 * w, s + 28 * w, end)
                    ),
                ],
                milestones=[],
            ),
        )
        if finished_pid not in (brackets_pid, retention_pid, aligner_pid)
        else None
    )
    if c is not None:
        service.finish_case(who, finished_pid, c.case_id, schemas.FinishIn(finished_on=end))


def _link(clinic_id: str, case_id: str, photos: list[dict[str, Any]]) -> None:
    if not photos:
        return
    c = OrthoCase.get(*OrthoCase.key(clinic_id, case_id))
    c.update(actions=[OrthoCase.photos.set(photos)])
