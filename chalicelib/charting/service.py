"""The chart: findings recorded, superseded and resolved (never overwritten), and the chart as
of any day, read in one Query of the patient's chart prefix (ADR 0601-0603)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.charting import codes, schemas
from chalicelib.charting.models import Finding, PlanItem, chart_prefix
from chalicelib.core import audit
from chalicelib.core.api import Principal
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import Text, tr
from chalicelib.core.ids import new_id, now
from chalicelib.identity.service import get_clinic
from chalicelib.imaging.models import ToothXray
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient

_INVALID = ("Some fields are not valid.", "Algunos campos no son válidos.")


def invalid(field: str, message: Text | str) -> Unprocessable:
    return Unprocessable(tr(*_INVALID), errors=[{"field": field, "message": message}])


def patient(clinic_id: str, patient_id: str) -> Patient:
    """The clinic's patient, or 404 (also for another clinic's id)."""
    return patients.load(clinic_id, patient_id)


def chart_items(clinic_id: str, patient_id: str) -> tuple[list[Finding], list[PlanItem]]:
    """The patient's whole chart history: one Query (paged by DynamoDB only past 1 MB)."""
    findings: list[Finding] = []
    plan: list[PlanItem] = []
    for it in Item.query(clinic_pk(clinic_id), Item.SK.startswith(chart_prefix(patient_id))):
        if isinstance(it, Finding):
            findings.append(it)
        elif isinstance(it, PlanItem):
            plan.append(it)
    return findings, plan


def finding_out(f: Finding, *, ended: bool = True) -> schemas.FindingOut:
    return schemas.FindingOut(
        finding_id=f.finding_id,
        code=f.code,
        kind=f.kind,
        tooth=int(f.tooth) if f.tooth is not None else None,
        teeth=[int(t) for t in f.teeth or []],
        surfaces=list(f.surfaces or []),
        material=f.material,
        note=f.note,
        plan_item_id=f.plan_item_id,
        supersedes=f.supersedes,
        recorded_at=f.recorded_at,
        recorded_by=f.recorded_by,
        recorded_by_name=f.recorded_by_name,
        ended_at=f.ended_at if ended else None,
        end_reason=f.end_reason if ended else None,
    )


def plan_out(
    p: PlanItem, lang: str = "es", *, cutoff: datetime | None = None
) -> schemas.PlanItemOut:
    status = p.status
    completed_at = p.completed_at
    if cutoff is not None and p.completed_at is not None and p.completed_at >= cutoff:
        status, completed_at = "planned", None
    if cutoff is not None and p.cancelled_at is not None and p.cancelled_at >= cutoff:
        status = "planned"
    tooth = int(p.tooth) if p.tooth is not None else None
    sextant = int(p.sextant) if p.sextant is not None else None
    quadrant = int(p.quadrant) if p.quadrant is not None else None
    return schemas.PlanItemOut(
        item_id=p.item_id,
        treatment_id=p.treatment_id,
        treatment_code=p.treatment_code,
        name=(p.name_en or p.name_es) if lang == "en" else p.name_es,
        scope=p.scope,
        tooth=tooth,
        surfaces=list(p.surfaces or []),
        sextant=sextant,
        quadrant=quadrant,
        region=codes.region_label(p.scope, sextant, quadrant, lang),
        teeth=codes.region_teeth(p.scope, tooth, sextant, quadrant),
        result_code=p.result_code,
        material=p.material,
        note=p.note,
        status=status,
        created_at=p.created_at,
        budget_id=p.budget_id,
        budget_number=p.budget_number,
        completed_at=completed_at,
        result_finding_id=p.result_finding_id if status == "completed" else None,
        invoiced=bool(p.invoiced),
        invoice_id=p.invoice_id,
    )


def _cutoff(as_of: date, time_zone: str) -> datetime:
    """The first instant after ``as_of`` in the clinic's zone."""
    return datetime.combine(as_of + timedelta(days=1), time(0), ZoneInfo(time_zone))


def xray_teeth(clinic_id: str, patient_id: str) -> list[int]:
    """Teeth with X-rays, from imaging's tooth index (one Query of the patient's entries)."""
    teeth = {
        int(e.tooth)
        for e in ToothXray.query(
            clinic_pk(clinic_id), ToothXray.SK.startswith(f"PAT#{patient_id}#XRT#")
        )
        if isinstance(e, ToothXray)
    }
    return sorted(teeth)


def get_chart(
    principal: Principal, patient_id: str, q: schemas.ChartQuery, lang: str
) -> schemas.ChartOut:
    cid = principal.clinic_id
    p = patient(cid, patient_id)
    zone = ZoneInfo(get_clinic(cid).time_zone)
    findings, plan = chart_items(cid, patient_id)
    cutoff = _cutoff(q.as_of, zone.key) if q.as_of else None
    today = datetime.now(zone).date()
    days: set[date] = set()
    for f in findings:
        days.add(f.recorded_at.astimezone(zone).date())
        if f.ended_at is not None:
            days.add(f.ended_at.astimezone(zone).date())
    for it in plan:
        days.add(it.created_at.astimezone(zone).date())
        if it.completed_at is not None:
            days.add(it.completed_at.astimezone(zone).date())
    if cutoff is None:
        shown = [finding_out(f) for f in findings if f.ended_at is None]
        items = [plan_out(it, lang) for it in plan if it.status != "cancelled"]
    else:
        shown = [
            finding_out(f, ended=False)
            for f in findings
            if f.recorded_at < cutoff and (f.ended_at is None or f.ended_at >= cutoff)
        ]
        items = [
            plan_out(it, lang, cutoff=cutoff)
            for it in plan
            if it.created_at < cutoff and (it.cancelled_at is None or it.cancelled_at >= cutoff)
        ]
    return schemas.ChartOut(
        patient_id=p.patient_id,
        as_of=q.as_of,
        dentition=q.dentition or codes.dentition_for(p.date_of_birth, q.as_of or today),
        findings=shown,
        plan=items,
        xray_teeth=xray_teeth(cid, patient_id),
        dates=sorted(days, reverse=True),
    )


def load_finding(clinic_id: str, patient_id: str, finding_id: str) -> Finding:
    try:
        f = Finding.get(*Finding.key(clinic_id, patient_id, finding_id), consistent_read=True)
    except DoesNotExist:
        f = None
    if not isinstance(f, Finding):
        raise NotFound(tr("Finding not found.", "Hallazgo no encontrado."))
    return f


def new_finding(
    principal: Principal,
    patient_id: str,
    code: str,
    *,
    tooth: int | None,
    teeth: list[int],
    surfaces: list[str],
    material: str | None,
    note: str | None,
    at: datetime,
    supersedes: str | None = None,
    plan_item_id: str | None = None,
) -> Finding:
    """A validated, unsaved finding."""
    c = codes.CODES[code]
    if c.placement == "root" and surfaces == ["R"]:
        surfaces = []
    problem = codes.placement_problem(code, tooth, teeth, surfaces)
    if problem:
        raise invalid(*problem)
    if c.placement == "root":
        surfaces = ["R"]
    if material and not c.materials:
        raise invalid(
            "material",
            tr(f"{code} takes no material", f"{code} no lleva material"),
        )
    fid = new_id()
    return Finding(
        *Finding.key(principal.clinic_id, patient_id, fid),
        finding_id=fid,
        patient_id=patient_id,
        code=code,
        kind=c.kind,
        tooth=tooth,
        teeth=teeth,
        surfaces=surfaces,
        material=material,
        note=note,
        plan_item_id=plan_item_id,
        supersedes=supersedes,
        recorded_at=at,
        recorded_by=principal.user_id,
        recorded_by_name=principal.name or None,
    )


def end(f: Finding, principal: Principal, at: datetime, reason: str, by: str | None) -> None:
    f.ended_at, f.ended_by, f.end_reason, f.ended_by_finding = at, principal.user_id, reason, by


def _ended_conflict() -> Conflict:
    return Conflict(
        tr(
            "That finding has already been superseded or resolved; reload the chart.",
            "Ese hallazgo ya se ha sustituido o resuelto; vuelve a cargar el odontograma.",
        )
    )


def record_finding(
    principal: Principal, patient_id: str, data: schemas.FindingIn
) -> schemas.FindingOut:
    cid = principal.clinic_id
    patient(cid, patient_id)
    at = now()
    old = load_finding(cid, patient_id, data.supersedes) if data.supersedes else None
    if old is not None and old.ended_at is not None:
        raise _ended_conflict()
    f = new_finding(
        principal,
        patient_id,
        data.code,
        tooth=data.tooth,
        teeth=data.teeth,
        surfaces=data.surfaces,
        material=data.material,
        note=data.note,
        at=at,
        supersedes=data.supersedes,
    )
    try:
        with transaction() as tx:
            tx.save(f, condition=Finding.SK.does_not_exist())
            if old is not None:
                end(old, principal, at, "superseded", f.finding_id)
                tx.save(old, condition=Finding.ended_at.does_not_exist())
            tx.save(_audit(principal, "charting.finding.recorded", f, supersedes=data.supersedes))
    except TransactWriteError as exc:
        raise _ended_conflict() from exc
    return finding_out(f)


def resolve_finding(
    principal: Principal, patient_id: str, finding_id: str, data: schemas.ResolveIn
) -> schemas.FindingOut:
    cid = principal.clinic_id
    f = load_finding(cid, patient_id, finding_id)
    if f.ended_at is not None:
        raise _ended_conflict()
    end(f, principal, now(), "resolved", None)
    if data.note:
        f.note = f"{f.note}\n{data.note}" if f.note else data.note
    try:
        with transaction() as tx:
            tx.save(f, condition=Finding.ended_at.does_not_exist())
            tx.save(_audit(principal, "charting.finding.resolved", f))
    except TransactWriteError as exc:
        raise _ended_conflict() from exc
    return finding_out(f)


def _audit(principal: Principal, action: str, f: Finding, **extra: Any) -> Any:
    after = {"patient_id": f.patient_id, "code": f.code, "tooth": f.tooth, "teeth": f.teeth}
    after["surfaces"] = f.surfaces
    after.update({k: v for k, v in extra.items() if v is not None})
    return audit.entry(
        principal.clinic_id, principal.actor, action, "chart_finding", f.finding_id, after=after
    )
