"""Periodontal exams: drafts saved as the hygienist goes, completed (locked) exams, amendments,
the indices and the comparison with an earlier exam (ADR 0621, 0622)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.patients import service as patients
from chalicelib.perio import chart, schemas
from chalicelib.perio.models import PerioExam

INVALID = tr("Some fields are not valid.", "Algunos campos no son válidos.")


def _not_found() -> NotFound:
    return NotFound(
        tr(
            "No periodontal exam with that id in this clinic.",
            "No hay ningún periodontograma con ese id en esta clínica.",
        ),
        code="PERIO_EXAM_NOT_FOUND",
    )


def _invalid(field: str, en: str, es: str) -> Unprocessable:
    return Unprocessable(INVALID, errors=[{"field": field, "message": tr(en, es)}])


def load(clinic_id: str, exam_id: str, consistent: bool = False) -> PerioExam:
    try:
        return PerioExam.get(*PerioExam.key(clinic_id, exam_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise _not_found() from exc


# --- shaping -------------------------------------------------------------------------------


def _teeth_out(teeth: dict[str, Any]) -> dict[str, schemas.ToothOut]:
    out = {}
    for tooth in chart.TEETH:
        t = teeth.get(tooth)
        if t is None:
            continue
        sites = {
            site: schemas.SiteOut(**s, cal=chart.cal(s))
            for site in chart.SITES
            if (s := (t.get("sites") or {}).get(site)) is not None
        }
        out[tooth] = schemas.ToothOut(
            state=t.get("state", "present"),
            mobility=t.get("mobility"),
            furcation=t.get("furcation"),
            sites=sites,
        )
    return out


def _summary_fields(e: PerioExam) -> dict[str, Any]:
    return {
        "exam_id": e.exam_id,
        "patient_id": e.patient_id,
        "exam_date": e.exam_date,
        "appointment_id": e.appointment_id,
        "status": e.status,
        "examiner_id": e.examiner_id,
        "examiner_name": e.examiner_name,
        "amends": e.amends,
        "amended_by": e.amended_by,
        "indices": schemas.Indices(**chart.indices(e.teeth or {})),
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "completed_at": e.completed_at,
        "completed_by_name": e.completed_by_name,
        "version": int(e.version),
    }


def summary(e: PerioExam) -> schemas.ExamSummary:
    return schemas.ExamSummary(**_summary_fields(e))


def exam_out(e: PerioExam, previous_exam_id: str | None = None) -> schemas.ExamOut:
    return schemas.ExamOut(
        **_summary_fields(e), teeth=_teeth_out(e.teeth or {}), previous_exam_id=previous_exam_id
    )


def _previous(clinic_id: str, e: PerioExam) -> PerioExam | None:
    """The patient's latest completed (not amended) exam before ``e``: one Query on the sparse
    index of completed exams (two items at most, to step over the exam ``e`` amends)."""
    it = PerioExam.gsi2.query(
        PerioExam.done_pk(clinic_id, e.patient_id),
        PerioExam.GSI2SK < PerioExam.sort(e.exam_date, e.exam_id),  # noqa: SIM300
        scan_index_forward=False,
        limit=2,
    )
    for p in it:
        if isinstance(p, PerioExam) and p.exam_id not in (e.exam_id, e.amends):
            return p
    return None


# --- checks --------------------------------------------------------------------------------


def _chart(teeth: dict[str, schemas.ToothIn]) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for tooth, t in teeth.items():
        d: dict[str, Any] = {"state": t.state}
        if t.mobility is not None:
            d["mobility"] = t.mobility
        if t.furcation is not None:
            d["furcation"] = t.furcation
        sites = {site: s.model_dump() for site, s in t.sites.items()}
        if sites:
            d["sites"] = sites
        stored[tooth] = d
    errors = chart.problems(stored)
    if errors:
        raise Unprocessable(INVALID, errors=errors)
    return stored


def _check_appointment(clinic_id: str, patient_id: str, appointment_id: str | None) -> None:
    if not appointment_id:
        return
    from chalicelib.agenda.models import Appointment  # noqa: PLC0415

    try:
        a = Appointment.get(*Appointment.key(clinic_id, appointment_id))
    except DoesNotExist:
        a = None
    if a is None or a.patient_id != patient_id:
        raise _invalid(
            "appointment_id",
            "no appointment of this patient with that id in this clinic",
            "no hay ninguna cita de este paciente con ese id en esta clínica",
        )


def _locked() -> Conflict:
    return Conflict(
        tr(
            "This exam is completed and locked; to correct it, start an amendment.",
            "Este periodontograma está completado y bloqueado; para corregirlo, crea una "
            "corrección.",
        ),
        code="PERIO_EXAM_LOCKED",
    )


def _stale() -> Conflict:
    return Conflict(
        tr(
            "This exam has changed since you loaded it; reload it and try again.",
            "Este periodontograma ha cambiado desde que lo cargaste; vuelve a cargarlo.",
        ),
        code="PERIO_EXAM_STALE",
    )


def _why_not(clinic_id: str, exam_id: str) -> Exception:
    current = load(clinic_id, exam_id, consistent=True)
    return _locked() if current.status != "draft" else _stale()


# --- commands ------------------------------------------------------------------------------


def create(principal: Principal, patient_id: str, data: schemas.ExamIn) -> schemas.ExamOut:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    original: PerioExam | None = None
    if data.amends:
        try:
            original = PerioExam.get(*PerioExam.key(cid, data.amends), consistent_read=True)
        except DoesNotExist:
            original = None
        if original is None or original.patient_id != patient_id:
            raise _invalid(
                "amends",
                "no periodontal exam of this patient with that id in this clinic",
                "no hay ningún periodontograma de este paciente con ese id en esta clínica",
            )
        if original.status != "completed":
            raise _invalid(
                "amends",
                "only a completed exam is amended; a draft is simply edited",
                "solo se corrige un periodontograma completado; un borrador se edita",
            )
        if original.amended_by:
            raise Conflict(
                tr(
                    "This exam has already been amended; amend the amendment instead.",
                    "Este periodontograma ya tiene una corrección; corrige esa.",
                ),
                code="PERIO_EXAM_AMENDED",
            )
        if data.exam_date and data.exam_date.isoformat() != original.exam_date:
            raise _invalid(
                "exam_date",
                "an amendment keeps the date of the exam it corrects",
                "una corrección conserva la fecha del periodontograma que corrige",
            )
    exam_date = data.exam_date.isoformat() if data.exam_date else None
    if original is not None:
        exam_date = original.exam_date
    if exam_date is None:
        raise _invalid("exam_date", "the date of the exam is required", "falta la fecha")
    appointment_id = data.appointment_id or (original.appointment_id if original else None)
    _check_appointment(cid, patient_id, data.appointment_id)
    if data.teeth is not None:
        teeth = _chart(data.teeth)
    else:
        teeth = dict(original.teeth or {}) if original is not None else {}
    eid = new_id()
    at = now()
    e = PerioExam(
        *PerioExam.key(cid, eid),
        GSI1PK=PerioExam.patient_pk(cid, patient_id),
        GSI1SK=PerioExam.sort(exam_date, eid),
        exam_id=eid,
        patient_id=patient_id,
        exam_date=exam_date,
        appointment_id=appointment_id,
        status="draft",
        teeth=teeth,
        examiner_id=principal.user_id,
        examiner_name=principal.name or None,
        amends=original.exam_id if original else None,
        created_at=at,
        updated_at=at,
        version=1,
    )
    with transaction() as tx:
        tx.save(e, condition=PerioExam.SK.does_not_exist())
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "perio.exam.created",
                "perio_exam",
                eid,
                after={"patient_id": patient_id, "exam_date": exam_date, "amends": e.amends},
            )
        )
    prev = _previous(cid, e)
    return exam_out(e, prev.exam_id if prev else None)


def update(principal: Principal, exam_id: str, data: schemas.ExamUpdate) -> schemas.ExamOut:
    """Save the draft (the whole chart: the screen autosaves it as the hygienist goes)."""
    cid = principal.clinic_id
    e = load(cid, exam_id, consistent=True)
    if e.status != "draft":
        raise _locked()
    if int(e.version) != data.version:
        raise _stale()
    changes = ["teeth"]
    if data.exam_date is not None and data.exam_date.isoformat() != e.exam_date:
        if e.amends:
            raise _invalid(
                "exam_date",
                "an amendment keeps the date of the exam it corrects",
                "una corrección conserva la fecha del periodontograma que corrige",
            )
        e.exam_date = data.exam_date.isoformat()
        e.GSI1SK = PerioExam.sort(e.exam_date, e.exam_id)
        changes.append("exam_date")
    if "appointment_id" in data.model_fields_set and data.appointment_id != e.appointment_id:
        _check_appointment(cid, e.patient_id, data.appointment_id)
        e.appointment_id = data.appointment_id
        changes.append("appointment_id")
    e.teeth = _chart(data.teeth)
    e.updated_at = now()
    e.version = data.version + 1
    try:
        with transaction() as tx:
            tx.save(
                e,
                condition=(PerioExam.version == data.version) & (PerioExam.status == "draft"),
            )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "perio.exam.saved",
                    "perio_exam",
                    exam_id,
                    after={"changes": changes, "version": int(e.version)},
                )
            )
    except TransactWriteError as exc:
        raise _why_not(cid, exam_id) from exc
    prev = _previous(cid, e)
    return exam_out(e, prev.exam_id if prev else None)


def complete(principal: Principal, exam_id: str, data: schemas.CompleteIn) -> schemas.ExamOut:
    """draft -> completed: locked from now on. An amendment, on completion, takes the place of
    the exam it corrects (which stays, marked ``amended_by``)."""
    cid = principal.clinic_id
    e = load(cid, exam_id, consistent=True)
    if e.status != "draft":
        raise _locked()
    if int(e.version) != data.version:
        raise _stale()
    if not chart.examined_sites(e.teeth or {}):
        raise _invalid(
            "teeth",
            "record at least one probing depth before completing the exam",
            "registra al menos una profundidad de sondaje antes de completarlo",
        )
    at = now()
    e.status = "completed"
    e.completed_at = at
    e.completed_by = principal.user_id
    e.completed_by_name = principal.name or None
    e.updated_at = at
    e.version = data.version + 1
    e.GSI2PK = PerioExam.done_pk(cid, e.patient_id)
    e.GSI2SK = PerioExam.sort(e.exam_date, e.exam_id)
    ix = chart.indices(e.teeth or {})
    try:
        with transaction() as tx:
            tx.save(
                e,
                condition=(PerioExam.version == data.version) & (PerioExam.status == "draft"),
            )
            if e.amends:
                orig = PerioExam(*PerioExam.key(cid, e.amends))
                tx.update(
                    orig,
                    actions=[
                        PerioExam.amended_by.set(exam_id),
                        PerioExam.GSI2PK.remove(),
                        PerioExam.GSI2SK.remove(),
                        PerioExam.updated_at.set(at),
                    ],
                    condition=PerioExam.amended_by.does_not_exist()
                    & (PerioExam.status == "completed"),
                )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "perio.exam.completed",
                    "perio_exam",
                    exam_id,
                    after={
                        "amends": e.amends,
                        "sites_examined": ix["sites_examined"],
                        "bop_percent": ix["bop_percent"],
                    },
                )
            )
    except TransactWriteError as exc:
        current = load(cid, exam_id, consistent=True)
        if current.status == "draft" and int(current.version) == data.version and e.amends:
            raise Conflict(
                tr(
                    "The exam this one corrects has been amended by another one meanwhile.",
                    "El periodontograma que este corrige ya tiene otra corrección.",
                ),
                code="PERIO_EXAM_AMENDED",
            ) from exc
        raise _why_not(cid, exam_id) from exc
    events.publish(
        "perio.exam_completed",
        cid,
        principal.actor,
        exam_id=exam_id,
        patient_id=e.patient_id,
        appointment_id=e.appointment_id,
        amends=e.amends,
    )
    prev = _previous(cid, e)
    return exam_out(e, prev.exam_id if prev else None)


def discard(principal: Principal, exam_id: str) -> None:
    """Delete a draft (a completed exam is never deleted)."""
    cid = principal.clinic_id
    e = load(cid, exam_id, consistent=True)
    if e.status != "draft":
        raise _locked()
    try:
        with transaction() as tx:
            tx.delete(e, condition=PerioExam.status == "draft")
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "perio.exam.discarded",
                    "perio_exam",
                    exam_id,
                    before={"patient_id": e.patient_id, "exam_date": e.exam_date},
                )
            )
    except TransactWriteError as exc:
        raise _locked() from exc


# --- reads ---------------------------------------------------------------------------------


def get(principal: Principal, exam_id: str) -> schemas.ExamOut:
    e = load(principal.clinic_id, exam_id)
    prev = _previous(principal.clinic_id, e)
    return exam_out(e, prev.exam_id if prev else None)


def list_exams(principal: Principal, patient_id: str, q: schemas.ExamQuery) -> Page:
    """A patient's exams, the latest date first (drafts and amended ones included)."""
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = PerioExam.patient_pk(cid, patient_id)
    start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
    it = PerioExam.gsi1.query(pk, scan_index_forward=False, limit=q.limit, last_evaluated_key=start)
    items = [summary(e) for e in it if isinstance(e, PerioExam)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def compare(principal: Principal, exam_id: str, q: schemas.CompareQuery) -> schemas.ComparisonOut:
    """``exam_id`` against ``with`` (another exam of the same patient) or, by default, the
    patient's previous completed exam; nothing to compare gives an empty comparison."""
    cid = principal.clinic_id
    e = load(cid, exam_id)
    base: PerioExam | None
    if q.with_:
        try:
            base = PerioExam.get(*PerioExam.key(cid, q.with_))
        except DoesNotExist:
            base = None
        if base is None or base.patient_id != e.patient_id or base.exam_id == e.exam_id:
            raise Unprocessable(
                tr("Some query parameters are not valid.", "Algunos parámetros no son válidos."),
                errors=[
                    {
                        "field": "query.with",
                        "message": tr(
                            "no other periodontal exam of this patient with that id",
                            "no hay otro periodontograma de este paciente con ese id",
                        ),
                    }
                ],
            )
    else:
        base = _previous(cid, e)
    if base is None:
        return schemas.ComparisonOut(
            exam_id=exam_id,
            base_exam_id=None,
            base_exam_date=None,
            sites=[],
            improved=0,
            worse=0,
            stable=0,
            indices_before=None,
            indices_after=schemas.Indices(**chart.indices(e.teeth or {})),
            index_deltas=None,
        )
    c = chart.compare(base.teeth or {}, e.teeth or {})
    return schemas.ComparisonOut(
        exam_id=exam_id,
        base_exam_id=base.exam_id,
        base_exam_date=base.exam_date,
        sites=c["sites"],
        improved=c["improved"],
        worse=c["worse"],
        stable=c["stable"],
        indices_before=c["indices_before"],
        indices_after=c["indices_after"],
        index_deltas=c["index_deltas"],
    )
