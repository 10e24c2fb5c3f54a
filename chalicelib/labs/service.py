"""Labs and lab cases, for the clinic's staff: the labs directory, the cases with their status
machine and history, the lab's link (send, re-send, revoke) and the alerts (ADR 1221, 1222).

Every write is one conditional transaction (the case's ``version``) with its audit entry; the
``lab.`` event is published after it. The lab's own changes (through its link) are in
:mod:`chalicelib.labs.link`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import Text, tr
from chalicelib.core.ids import new_id, now
from chalicelib.labs import schemas, status
from chalicelib.labs.models import Lab, LabCase, LabCaseAppt
from chalicelib.patients import service as patients

ENTITY = "lab_case"
LAB_ENTITY = "lab"
MAX_HISTORY = 200
NOT_BACK_HOURS = 48


def invalid(field: str, message: Text) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."),
        errors=[{"field": field, "message": message}],
    )


def case_not_found() -> NotFound:
    return NotFound(
        tr(
            "No lab case with that id in this clinic.",
            "No hay ningún caso de laboratorio con ese id en esta clínica.",
        ),
        code="LAB_CASE_NOT_FOUND",
    )


def lab_not_found() -> NotFound:
    return NotFound(
        tr(
            "No lab with that id in this clinic.",
            "No hay ningún laboratorio con ese id en esta clínica.",
        ),
        code="LAB_NOT_FOUND",
    )


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- labs ----------------------------------------------------------------------------------


def lab_out(lab: Lab) -> schemas.LabOut:
    return schemas.LabOut(
        lab_id=lab.lab_id,
        name=lab.name,
        contact=lab.contact,
        email=lab.email,
        phone=lab.phone,
        notes=lab.notes,
        archived=bool(lab.archived),
        created_at=lab.created_at,
        updated_at=lab.updated_at,
    )


def load_lab(clinic_id: str, lab_id: str) -> Lab:
    try:
        return Lab.get(*Lab.key(clinic_id, lab_id))
    except DoesNotExist as exc:
        raise lab_not_found() from exc


def _lab_fields(lab: Lab) -> dict[str, Any]:
    return {
        "name": lab.name,
        "contact": lab.contact,
        "email": lab.email,
        "phone": lab.phone,
        "notes": lab.notes,
        "archived": bool(lab.archived),
    }


def create_lab(principal: Principal, data: schemas.LabIn) -> schemas.LabOut:
    cid = principal.clinic_id
    at = now()
    lid = new_id()
    lab = Lab(
        *Lab.key(cid, lid),
        lab_id=lid,
        name=data.name,
        contact=data.contact or None,
        email=str(data.email),
        phone=data.phone or None,
        notes=data.notes or None,
        archived=False,
        created_at=at,
        updated_at=at,
    )
    with transaction() as tx:
        tx.save(lab, condition=Lab.SK.does_not_exist())
        tx.save(
            audit.entry(
                cid, principal.actor, "lab.created", LAB_ENTITY, lid, after=_lab_fields(lab)
            )
        )
    return lab_out(lab)


def update_lab(principal: Principal, lab_id: str, data: schemas.LabPatch) -> schemas.LabOut:
    cid = principal.clinic_id
    lab = load_lab(cid, lab_id)
    before = _lab_fields(lab)
    was_archived = bool(lab.archived)
    lab.name, lab.contact, lab.email = data.name, data.contact or None, str(data.email)
    lab.phone, lab.notes, lab.archived = data.phone or None, data.notes or None, data.archived
    lab.updated_at = now()
    after = _lab_fields(lab)
    actor = principal.actor
    if data.archived and not was_archived:
        entry = audit.entry(
            cid, actor, "lab.archived", LAB_ENTITY, lab_id, before=before, after=after
        )
    elif was_archived and not data.archived:
        entry = audit.entry(
            cid, actor, "lab.unarchived", LAB_ENTITY, lab_id, before=before, after=after
        )
    else:
        entry = audit.entry(
            cid, actor, "lab.updated", LAB_ENTITY, lab_id, before=before, after=after
        )
    with transaction() as tx:
        tx.save(lab, condition=Lab.SK.exists())
        tx.save(entry)
    return lab_out(lab)


def list_labs(principal: Principal, q: schemas.LabQuery) -> Page:
    cid = principal.clinic_id
    pk = clinic_pk(cid)
    it = Lab.query(
        pk,
        Lab.SK.startswith("LABS#LAB#"),
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )
    # Archived labs are few and kept for the cases that name them: shown only on request.
    items = [
        lab_out(lab) for lab in it if isinstance(lab, Lab) and (q.archived or not lab.archived)
    ]
    return Page(items, encode_cursor(it.last_evaluated_key))


# --- cases: reading ------------------------------------------------------------------------


def load_case(clinic_id: str, case_id: str, consistent: bool = False) -> LabCase:
    try:
        return LabCase.get(*LabCase.key(clinic_id, case_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise case_not_found() from exc


def alerts_of(c: LabCase, at: datetime | None = None) -> list[str]:
    """``overdue`` (past its due date, not back) and ``not_back`` (not back 48 h before the
    fitting appointment)."""
    if c.status not in status.NOT_BACK:
        return []
    at = at or now()
    out = []
    today = at.astimezone(ZoneInfo(c.time_zone)).date()
    if today > date.fromisoformat(c.due_date):
        out.append("overdue")
    if c.appointment_start:
        start = datetime.fromisoformat(c.appointment_start)
        if at >= start - timedelta(hours=NOT_BACK_HOURS):
            out.append("not_back")
    return out


def alert_at(c: LabCase) -> datetime | None:
    """The first moment the case needs attention, while it is not back."""
    if c.status not in status.NOT_BACK:
        return None
    tz = ZoneInfo(c.time_zone)
    due = datetime.combine(date.fromisoformat(c.due_date) + timedelta(days=1), time(0), tz)
    if c.appointment_start:
        fit = datetime.fromisoformat(c.appointment_start) - timedelta(hours=NOT_BACK_HOURS)
        return min(due, fit)
    return due


def index(c: LabCase, clinic_id: str) -> None:
    """Set the case's index keys from its fields (patient, status, lab, alert)."""
    due_key = f"{c.due_date}#{c.case_id}"
    c.GSI1PK, c.GSI1SK = LabCase.patient_pk(clinic_id, c.patient_id), c.case_id
    c.GSI2PK, c.GSI2SK = LabCase.status_pk(clinic_id, c.status), due_key
    c.GSI3PK, c.GSI3SK = LabCase.lab_pk(clinic_id, c.lab_id), f"{c.status}#{due_key}"
    when = alert_at(c)
    if when is None:
        c.GSI4PK = c.GSI4SK = None
    else:
        c.GSI4PK, c.GSI4SK = LabCase.alert_pk(clinic_id), f"{utc_text(when)}#{c.case_id}"


def case_out(
    c: LabCase,
    *,
    patient_name: str | None = None,
    lab_name: str | None = None,
    file_url: Any = None,
) -> schemas.CaseOut:
    link_active = bool(c.link_id) and c.link_expires_at is not None and c.link_expires_at > now()
    return schemas.CaseOut(
        case_id=c.case_id,
        patient_id=c.patient_id,
        patient_name=patient_name,
        lab_id=c.lab_id,
        lab_name=lab_name,
        appointment_id=c.appointment_id,
        appointment_start=c.appointment_start,
        teeth=[int(t) for t in c.teeth or []],
        work_type=c.work_type,
        shade=c.shade,
        material=c.material,
        instructions=c.instructions,
        priority=c.priority,
        due_date=date.fromisoformat(c.due_date),
        expected_delivery=date.fromisoformat(c.expected_delivery) if c.expected_delivery else None,
        status=c.status,
        alerts=alerts_of(c),  # type: ignore[arg-type]
        history=[schemas.HistoryOut(**h) for h in c.history or []],
        files=[
            schemas.FileOut(
                **f, url=file_url(f) if file_url and f["status"] == "available" else None
            )
            for f in c.files or []
        ],
        link_active=link_active,
        link_expires_at=c.link_expires_at if link_active else None,
        sent_to=c.sent_to,
        created_at=c.created_at,
        updated_at=c.updated_at,
        version=int(c.version),
    )


def _outs(clinic_id: str, cases: list[LabCase]) -> list[schemas.CaseOut]:
    """Shape a page of cases with their patients' and labs' names (two batch reads)."""
    pats = patients.load_many(clinic_id, [c.patient_id for c in cases])
    lab_ids = list(dict.fromkeys(c.lab_id for c in cases))
    labs = {
        lab.lab_id: lab
        for lab in (Lab.batch_get([Lab.key(clinic_id, i) for i in lab_ids]) if lab_ids else [])
        if isinstance(lab, Lab)
    }
    return [
        case_out(
            c,
            patient_name=patients.display_name(pats[c.patient_id])
            if c.patient_id in pats
            else None,
            lab_name=labs[c.lab_id].name if c.lab_id in labs else None,
        )
        for c in cases
    ]


def get_case(principal: Principal, case_id: str) -> schemas.CaseOut:
    from chalicelib.labs import files  # noqa: PLC0415 - files imports this module

    cid = principal.clinic_id
    c = load_case(cid, case_id)
    out = _outs(cid, [c])[0]
    out.files = files.outs(cid, c, by_staff=True)
    return out


def list_cases(principal: Principal, q: schemas.CaseQuery) -> Page:
    cid = principal.clinic_id
    if q.lab_id:
        pk = LabCase.lab_pk(cid, q.lab_id)
        cond = LabCase.GSI3SK.startswith(f"{q.status}#") if q.status else None
        it = LabCase.gsi3.query(
            pk,
            cond,
            limit=q.limit,
            last_evaluated_key=decode_cursor(q.cursor, partition=("GSI3PK", pk)),
        )
    elif q.status:
        pk = LabCase.status_pk(cid, q.status)
        it = LabCase.gsi2.query(
            pk, limit=q.limit, last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk))
        )
    else:
        pk = clinic_pk(cid)
        it = LabCase.query(
            pk,
            LabCase.SK.startswith("LABS#CASE#"),
            limit=q.limit,
            scan_index_forward=False,
            last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
        )
    cases = [c for c in it if isinstance(c, LabCase)]
    return Page(_outs(cid, cases), encode_cursor(it.last_evaluated_key))


def patient_cases(principal: Principal, patient_id: str, q: schemas.PageQuery) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = LabCase.patient_pk(cid, patient_id)
    it = LabCase.gsi1.query(
        pk,
        limit=q.limit,
        scan_index_forward=False,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", pk)),
    )
    cases = [c for c in it if isinstance(c, LabCase)]
    return Page(_outs(cid, cases), encode_cursor(it.last_evaluated_key))


def appointment_cases(principal: Principal, appointment_id: str) -> list[schemas.CaseOut]:
    from chalicelib.agenda.models import Appointment  # noqa: PLC0415

    cid = principal.clinic_id
    try:
        Appointment.get(*Appointment.key(cid, appointment_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No appointment with that id in this clinic.",
                "No hay ninguna cita con ese id en esta clínica.",
            ),
            code="APPOINTMENT_NOT_FOUND",
        ) from exc
    pk = clinic_pk(cid)
    # An appointment has a handful of cases at most: one page of pointers, one batch read.
    ptrs = list(
        LabCaseAppt.query(pk, LabCaseAppt.SK.startswith(f"LABS#APPT#{appointment_id}#"), limit=25)
    )
    keys = [LabCase.key(cid, p.case_id) for p in ptrs if isinstance(p, LabCaseAppt)]
    cases = [c for c in (LabCase.batch_get(keys) if keys else []) if isinstance(c, LabCase)]
    cases.sort(key=lambda c: c.case_id)
    return _outs(cid, cases)


def alerts(principal: Principal, q: schemas.PageQuery) -> Page:
    """Cases that need attention now (overdue, or not back 48 h before fitting), earliest
    first: one query on the alert partition up to now."""
    cid = principal.clinic_id
    return alert_page(cid, q.limit, q.cursor)


def alert_page(clinic_id: str, limit: int, cursor: str | None = None) -> Page:
    pk = LabCase.alert_pk(clinic_id)
    it = LabCase.gsi4.query(
        pk,
        LabCase.GSI4SK < utc_text(now()) + "#~",  # noqa: SIM300
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, partition=("GSI4PK", pk)),
    )
    cases = [c for c in it if isinstance(c, LabCase)]
    return Page(_outs(clinic_id, cases), encode_cursor(it.last_evaluated_key))


# --- cases: writing ------------------------------------------------------------------------


def _fields(c: LabCase) -> dict[str, Any]:
    return {
        "patient_id": c.patient_id,
        "lab_id": c.lab_id,
        "appointment_id": c.appointment_id,
        "teeth": [int(t) for t in c.teeth or []],
        "work_type": c.work_type,
        "shade": c.shade,
        "material": c.material,
        "instructions": c.instructions,
        "priority": c.priority,
        "due_date": c.due_date,
        "expected_delivery": c.expected_delivery,
        "status": c.status,
    }


def _check_refs(clinic_id: str, patient_id: str, data: schemas.CaseFields) -> tuple[Lab, Any]:
    """The lab and the appointment must be this clinic's (and the appointment this
    patient's); another clinic's id is refused exactly like a missing one."""
    from chalicelib.agenda.models import Appointment  # noqa: PLC0415

    try:
        lab = Lab.get(*Lab.key(clinic_id, data.lab_id))
    except DoesNotExist:
        raise invalid(
            "lab_id", tr("no lab with that id", "no hay ningún laboratorio con ese id")
        ) from None
    appt = None
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
    return lab, appt


def history_entry(
    frm: str | None, to: str, by: str, by_name: str | None, note: str | None
) -> dict[str, Any]:
    return {
        "from_status": frm,
        "to_status": to,
        "at": now().isoformat(),
        "by": by,
        "by_name": by_name,
        "note": note,
    }


def create_case(principal: Principal, data: schemas.CaseIn) -> schemas.CaseOut:
    from chalicelib.identity.service import get_clinic  # noqa: PLC0415

    cid = principal.clinic_id
    patients.load(cid, data.patient_id)
    lab, appt = _check_refs(cid, data.patient_id, data)
    if lab.archived:
        raise invalid("lab_id", tr("this lab is archived", "este laboratorio está archivado"))
    at = now()
    case_id = new_id()
    c = LabCase(
        *LabCase.key(cid, case_id),
        case_id=case_id,
        patient_id=data.patient_id,
        lab_id=data.lab_id,
        appointment_id=data.appointment_id,
        appointment_start=appt.start if appt else None,
        teeth=data.teeth,
        work_type=data.work_type,
        shade=data.shade or None,
        material=data.material or None,
        instructions=data.instructions or None,
        priority=data.priority,
        due_date=data.due_date.isoformat(),
        status="draft",
        history=[history_entry(None, "draft", "staff", principal.name or None, None)],
        files=[],
        time_zone=get_clinic(cid).time_zone,
        created_at=at,
        created_by_name=principal.name or None,
        updated_at=at,
        version=1,
    )
    index(c, cid)
    with transaction() as tx:
        tx.save(c, condition=LabCase.SK.does_not_exist())
        if appt is not None:
            tx.save(
                LabCaseAppt(*LabCaseAppt.key(cid, appt.appointment_id, case_id), case_id=case_id)
            )
        tx.save(
            audit.entry(cid, principal.actor, "lab.case_created", ENTITY, case_id, after=_fields(c))
        )
    publish("lab.case_created", cid, principal.actor, c)
    return _outs(cid, [c])[0]


def publish(name: str, clinic_id: str, actor: dict[str, Any], c: LabCase, **extra: Any) -> None:
    """A ``lab.`` event: ids and statuses only."""
    events.publish(
        name,
        clinic_id,
        actor,
        case_id=c.case_id,
        patient_id=c.patient_id,
        lab_id=c.lab_id,
        appointment_id=c.appointment_id,
        status=c.status,
        **extra,
    )


def save(
    clinic_id: str,
    c: LabCase,
    old_version: int,
    entry: audit.AuditEntry,
    extra: list[Any] | None = None,
) -> None:
    """Write the case if nobody changed it since it was read (409 otherwise), with its audit
    entry and any other writes of the same change."""
    c.version = old_version + 1
    c.updated_at = now()
    c.history = (c.history or [])[-MAX_HISTORY:]
    index(c, clinic_id)
    try:
        with transaction() as tx:
            tx.save(c, condition=LabCase.version == old_version)
            for fn in extra or []:
                fn(tx)
            tx.save(entry)
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The case changed while you were editing it; reload it and try again.",
                "El caso ha cambiado mientras lo editabas; recárgalo y vuelve a intentarlo.",
            ),
            code="LAB_CASE_CHANGED",
        ) from exc


def update_case(principal: Principal, case_id: str, data: schemas.CaseFields) -> schemas.CaseOut:
    cid = principal.clinic_id
    c = load_case(cid, case_id, consistent=True)
    if c.status not in status.EDITABLE:
        raise Conflict(
            tr(
                f"A case that is {status.EN[c.status]} can no longer be edited.",
                f"Un caso {status.ES[c.status]} ya no se puede editar.",
            ),
            code="LAB_CASE_CLOSED",
        )
    _, appt = _check_refs(cid, c.patient_id, data)
    before = _fields(c)
    old_appt = c.appointment_id
    old = int(c.version)
    c.lab_id = data.lab_id
    c.appointment_id = data.appointment_id
    c.appointment_start = appt.start if appt else None
    c.teeth = data.teeth
    c.work_type, c.shade, c.material = data.work_type, data.shade or None, data.material or None
    c.instructions, c.priority = data.instructions or None, data.priority
    c.due_date = data.due_date.isoformat()
    extra = []
    if old_appt != c.appointment_id:
        if old_appt:
            gone = LabCaseAppt(*LabCaseAppt.key(cid, old_appt, case_id), case_id=case_id)
            extra.append(lambda tx, g=gone: tx.delete(g))
        if appt is not None:
            ptr = LabCaseAppt(*LabCaseAppt.key(cid, appt.appointment_id, case_id), case_id=case_id)
            extra.append(lambda tx, p=ptr: tx.save(p))
    entry = audit.entry(
        cid, principal.actor, "lab.case_updated", ENTITY, case_id, before=before, after=_fields(c)
    )
    save(cid, c, old, entry, extra)
    publish("lab.case_updated", cid, principal.actor, c)
    return get_case(principal, case_id)


def move(principal: Principal, case_id: str, data: schemas.StatusIn) -> schemas.CaseOut:
    """A staff member moves the case (``sent`` only by sending it)."""
    cid = principal.clinic_id
    c = load_case(cid, case_id, consistent=True)
    if data.status == "sent":
        raise Conflict(
            tr(
                "A case becomes sent by sending it to the lab (Send link).",
                "Un caso pasa a enviado al enviarlo al laboratorio (Enviar enlace).",
            ),
            code="LAB_CASE_BAD_TRANSITION",
        )
    if not status.can_move(c.status, data.status):
        raise Conflict(status.refusal(c.status, data.status), code="LAB_CASE_BAD_TRANSITION")
    transition(cid, c, data.status, principal.actor, "staff", principal.name or None, data.note)
    return get_case(principal, case_id)


def transition(
    clinic_id: str,
    c: LabCase,
    to: str,
    actor: dict[str, Any],
    by: str,
    by_name: str | None,
    note: str | None,
    extra: list[Any] | None = None,
) -> None:
    frm = c.status
    old = int(c.version)
    c.status = to
    c.history = [*(c.history or []), history_entry(frm, to, by, by_name, note)]
    entry = audit.entry(
        clinic_id,
        actor,
        "lab.case_status_changed",
        ENTITY,
        c.case_id,
        before={"status": frm},
        after={"status": to},
    )
    save(clinic_id, c, old, entry, extra)
    publish("lab.case_status_changed", clinic_id, actor, c, previous_status=frm, kind=by)
