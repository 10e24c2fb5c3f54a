"""What the ortho service, its alerts and its figures share: errors, dates, the due dates a
case's state implies, the alert index items and the shaping of a case (ADR 0661, 0662)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import Text, tr
from chalicelib.core.ids import now
from chalicelib.identity.models import Clinic
from chalicelib.ortho import schemas
from chalicelib.ortho.models import OrthoAlert, OrthoCase

ENTITY = "ortho_case"
ALERT_KINDS = ("visit", "tray", "retention")


def field_error(field: str, message: Text) -> dict[str, str]:
    return {"field": field, "message": message}


def invalid(*errors: dict[str, str]) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."), errors=list(errors)
    )


def case_not_found() -> NotFound:
    return NotFound(
        tr(
            "No orthodontic case with that id for this patient.",
            "No hay ningún caso de ortodoncia con ese id para este paciente.",
        ),
        code="ORTHO_CASE_NOT_FOUND",
    )


def changed_meanwhile() -> Conflict:
    return Conflict(
        tr(
            "The case changed meanwhile; reload it.",
            "El caso ha cambiado mientras tanto; vuelve a cargarlo.",
        ),
        code="ORTHO_CASE_CHANGED",
    )


def not_active() -> Conflict:
    return Conflict(
        tr(
            "This case is finished: it is kept as it was and no longer changes.",
            "Este caso está finalizado: se conserva tal cual y ya no cambia.",
        ),
        code="ORTHO_CASE_FINISHED",
    )


def load_case(clinic_id: str, patient_id: str, case_id: str) -> OrthoCase:
    """The case of this patient in this clinic, or 404 (also another clinic's or patient's)."""
    try:
        c = OrthoCase.get(*OrthoCase.key(clinic_id, case_id), consistent_read=True)
    except DoesNotExist as exc:
        raise case_not_found() from exc
    if c.patient_id != patient_id:
        raise case_not_found()
    return c


# --- dates -----------------------------------------------------------------------------------


def clinic_zone(clinic_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(Clinic.get(*Clinic.key(clinic_id)).time_zone)
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se encuentra la clínica.")) from exc


def today(clinic_id: str) -> date:
    """The clinic's date now, in its own time zone."""
    return now().astimezone(clinic_zone(clinic_id)).date()


def d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def add_months(start: date, months: int) -> date:
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- what a case's state implies -------------------------------------------------------------


def current_phase(c: OrthoCase) -> int | None:
    """The phase under way: the last one started and not ended; else the first not ended."""
    phases = c.phases or []
    started = [i for i, p in enumerate(phases) if p.get("actual_start") and not p.get("actual_end")]
    if started:
        return started[-1]
    pending = [i for i, p in enumerate(phases) if not p.get("actual_end")]
    return pending[0] if pending else None


def in_retention(c: OrthoCase) -> bool:
    i = current_phase(c)
    return i is not None and (c.phases or [])[i].get("kind") == "retention"


def next_visit_due(c: OrthoCase) -> date | None:
    if c.status != "active":
        return None
    base = d(c.last_visit) or d(c.start_date)
    assert base is not None
    return base + timedelta(weeks=int(c.visit_interval_weeks))


def next_tray_date(c: OrthoCase) -> date | None:
    if c.status != "active" or c.appliance != "aligners" or not c.days_per_tray:
        return None
    if c.current_tray is not None and c.total_trays and c.current_tray >= c.total_trays:
        return None  # on the last tray: nothing to switch to
    since = d(c.tray_since) or d(c.start_date)
    assert since is not None
    return since + timedelta(days=int(c.days_per_tray))


def dues(c: OrthoCase) -> dict[str, date]:
    """The alert kinds this case has now, with their due dates (none once finished)."""
    out: dict[str, date] = {}
    visit = next_visit_due(c)
    if visit:
        out["retention" if in_retention(c) else "visit"] = visit
    tray = next_tray_date(c)
    if tray:
        out["tray"] = tray
    return out


def write_alerts(tx: TransactWrite, clinic_id: str, c: OrthoCase) -> None:
    """Put the alert index items the case has now and delete the ones it no longer has, in the
    transaction that changes the case (ADR 0662)."""
    due = dues(c)
    for kind in ALERT_KINDS:
        if kind in due:
            day = due[kind].isoformat()
            tx.save(
                OrthoAlert(
                    *OrthoAlert.key(clinic_id, c.case_id, kind),
                    GSI2PK=OrthoAlert.index_pk(clinic_id),
                    GSI2SK=f"{day}#{kind}#{c.case_id}",
                    case_id=c.case_id,
                    patient_id=c.patient_id,
                    kind=kind,
                    due=day,
                )
            )
        else:
            tx.delete(OrthoAlert(*OrthoAlert.key(clinic_id, c.case_id, kind)))


# --- shaping ---------------------------------------------------------------------------------


def _phase_out(p: dict[str, Any]) -> schemas.Phase:
    return schemas.Phase(
        kind=p["kind"],
        name=p.get("name"),
        planned_start=d(p.get("planned_start")),
        planned_end=d(p.get("planned_end")),
        actual_start=d(p.get("actual_start")),
        actual_end=d(p.get("actual_end")),
    )


def case_fields(c: OrthoCase) -> dict[str, Any]:
    start = d(c.start_date)
    assert start is not None
    return {
        "case_id": c.case_id,
        "patient_id": c.patient_id,
        "status": c.status,
        "appliance": c.appliance,
        "bracket_material": c.bracket_material,
        "total_trays": int(c.total_trays) if c.total_trays is not None else None,
        "days_per_tray": int(c.days_per_tray) if c.days_per_tray is not None else None,
        "arches": c.arches,
        "start_date": start,
        "planned_months": int(c.planned_months),
        "planned_end": add_months(start, int(c.planned_months)),
        "visit_interval_weeks": int(c.visit_interval_weeks),
        "phases": [_phase_out(p) for p in c.phases or []],
        "current_phase": current_phase(c) if c.status == "active" else None,
        "milestones": [
            schemas.Milestone(
                what=m["what"],
                planned_date=d(m.get("planned_date")),
                done_date=d(m.get("done_date")),
            )
            for m in c.milestones or []
        ],
        "current_tray": int(c.current_tray) if c.current_tray is not None else None,
        "tray_since": d(c.tray_since),
        "next_tray_date": next_tray_date(c),
        "last_visit": d(c.last_visit),
        "next_visit_due": next_visit_due(c),
        "photos": [
            schemas.Photo(image_id=p["image_id"], taken_on=d(p.get("taken_on")))
            for p in c.photos or []
        ],
        "finished_on": d(c.finished_on),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "version": int(c.version),
    }


def case_out(c: OrthoCase) -> schemas.CaseOut:
    return schemas.CaseOut(**case_fields(c))


def audit_fields(c: OrthoCase) -> dict[str, Any]:
    """What the audit log keeps of a case: its shape and dates, never a visit's note."""
    return {
        "patient_id": c.patient_id,
        "status": c.status,
        "appliance": c.appliance,
        "bracket_material": c.bracket_material,
        "total_trays": c.total_trays,
        "days_per_tray": c.days_per_tray,
        "arches": c.arches,
        "start_date": c.start_date,
        "planned_months": c.planned_months,
        "visit_interval_weeks": c.visit_interval_weeks,
        "phases": len(c.phases or []),
        "milestones": len(c.milestones or []),
        "current_tray": c.current_tray,
        "photos": len(c.photos or []),
        "finished_on": c.finished_on,
    }


def days_between(a: date, b: date) -> int:
    return (b - a).days


def stamp(dt: datetime) -> str:
    return dt.isoformat()
