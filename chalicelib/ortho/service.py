"""Orthodontic cases of a patient: started (one active at a time), planned (appliance, phases,
milestones, visit interval), followed (visits, aligner tray changes, progress photos) and
finished (kept as they were). ADR 0661.

Every change is one transaction: the case (conditional on its version), its alert index items
(``common.write_alerts``), the clinic's case counters when it starts or finishes, and the
audit entry. Events (ids and statuses only) are published after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.agenda.models import Appointment
from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.imaging.models import Image
from chalicelib.ortho import schemas
from chalicelib.ortho.common import (
    ENTITY,
    add_months,
    audit_fields,
    case_fields,
    case_out,
    changed_meanwhile,
    d,
    field_error,
    invalid,
    iso,
    load_case,
    not_active,
    write_alerts,
)
from chalicelib.ortho.models import OrthoActive, OrthoCase, OrthoStats, OrthoVisit
from chalicelib.patients import service as patients

# --- validation --------------------------------------------------------------------------------


def _order(errors: list[dict[str, str]], field: str, first: date | None, then: date | None) -> None:
    if first and then and then < first:
        errors.append(
            field_error(
                field,
                tr(
                    f"must not be before {first.isoformat()}",
                    f"no puede ser anterior a {first.isoformat()}",
                ),
            )
        )


def check_plan(data: schemas.CaseIn) -> None:
    """Field errors (all of them at once) of a case's plan."""
    errors: list[dict[str, str]] = []
    if data.appliance == "aligners":
        for f in ("total_trays", "days_per_tray"):
            if getattr(data, f) is None:
                errors.append(
                    field_error(
                        f,
                        tr("required for aligners", "obligatorio con alineadores"),
                    )
                )
    if (
        data.current_tray is not None
        and data.total_trays is not None
        and data.current_tray > data.total_trays
    ):
        errors.append(
            field_error(
                "current_tray",
                tr(
                    f"beyond the {data.total_trays} trays of the case",
                    f"supera las {data.total_trays} férulas del caso",
                ),
            )
        )
    if data.bracket_material and data.appliance != "brackets":
        errors.append(
            field_error(
                "bracket_material",
                tr("only for brackets", "solo para brackets"),
            )
        )
    for i, p in enumerate(data.phases):
        if p.kind == "custom" and not p.name:
            errors.append(
                field_error(
                    f"phases[{i}].name",
                    tr("a custom phase needs a name", "una fase personalizada necesita nombre"),
                )
            )
        _order(errors, f"phases[{i}].planned_start", data.start_date, p.planned_start)
        _order(errors, f"phases[{i}].planned_end", p.planned_start, p.planned_end)
        _order(errors, f"phases[{i}].actual_start", data.start_date, p.actual_start)
        _order(errors, f"phases[{i}].actual_end", p.actual_start, p.actual_end)
        if p.actual_end and not p.actual_start:
            errors.append(
                field_error(
                    f"phases[{i}].actual_end",
                    tr("a phase ends only after it starts", "una fase termina después de empezar"),
                )
            )
    for i, m in enumerate(data.milestones):
        _order(errors, f"milestones[{i}].done_date", data.start_date, m.done_date)
    if errors:
        raise invalid(*errors)


def _plan_values(data: schemas.CaseIn) -> dict[str, Any]:
    aligners = data.appliance == "aligners"
    return {
        "appliance": data.appliance,
        "bracket_material": data.bracket_material,
        "total_trays": data.total_trays if aligners else None,
        "days_per_tray": data.days_per_tray if aligners else None,
        "arches": data.arches,
        "start_date": data.start_date.isoformat(),
        "planned_months": data.planned_months,
        "visit_interval_weeks": data.visit_interval_weeks,
        "phases": [
            {k: (iso(v) if isinstance(v, date) else v) for k, v in p.model_dump().items()}
            for p in data.phases
        ],
        "milestones": [
            {k: (iso(v) if isinstance(v, date) else v) for k, v in m.model_dump().items()}
            for m in data.milestones
        ],
    }


def _publish(name: str, principal: Principal, c: OrthoCase, **extra: Any) -> None:
    events.publish(
        name,
        principal.clinic_id,
        principal.actor,
        case_id=c.case_id,
        patient_id=c.patient_id,
        status=c.status,
        **extra,
    )


AuditFor = Callable[[dict[str, Any]], AuditEntry]
"""Builds a change's audit entry from the case's fields after it (the action stays literal at
each call, where tests/unit/test_audit_words.py finds it)."""


def _active_exists() -> Conflict:
    return Conflict(
        tr(
            "This patient already has an active orthodontic case; finish it first.",
            "Este paciente ya tiene un caso de ortodoncia activo; finalízalo antes.",
        ),
        code="ORTHO_CASE_ACTIVE",
    )


# --- cases -------------------------------------------------------------------------------------


def start_case(principal: Principal, patient_id: str, data: schemas.CaseIn) -> schemas.CaseOut:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    check_plan(data)
    try:
        OrthoActive.get(*OrthoActive.key(cid, patient_id), consistent_read=True)
        raise _active_exists()
    except DoesNotExist:
        pass
    case_id, at = new_id(), now()
    values = _plan_values(data)
    c = OrthoCase(
        *OrthoCase.key(cid, case_id),
        GSI1PK=OrthoCase.patient_pk(cid, patient_id),
        GSI1SK=case_id,
        GSI2PK=OrthoCase.active_pk(cid),
        GSI2SK=f"{values['start_date']}#{case_id}",
        case_id=case_id,
        patient_id=patient_id,
        status="active",
        current_tray=(data.current_tray or 1) if data.appliance == "aligners" else None,
        tray_since=values["start_date"] if data.appliance == "aligners" else None,
        photos=[],
        created_at=at,
        updated_at=at,
        version=1,
        **values,
    )
    try:
        with transaction() as tx:
            tx.save(c, condition=OrthoCase.SK.does_not_exist())
            tx.save(
                OrthoActive(*OrthoActive.key(cid, patient_id), case_id=case_id),
                condition=OrthoActive.SK.does_not_exist(),
            )
            _count(tx, cid, "ALL", OrthoStats.active.add(1))
            _count(tx, cid, values["start_date"][:7], OrthoStats.started.add(1))
            write_alerts(tx, cid, c)
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "ortho.case.started",
                    ENTITY,
                    case_id,
                    after=audit_fields(c),
                ),
                condition=AuditEntry.SK.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise _active_exists() from exc
    _publish("ortho.case_started", principal, c, appliance=c.appliance)
    return case_out(c)


def _count(tx: Any, clinic_id: str, bucket: str, *actions: Any) -> None:
    """Counters are created by their first update: name their type so they read back."""
    tx.update(
        OrthoStats(*OrthoStats.key(clinic_id, bucket)),
        actions=[OrthoStats.entity.set(OrthoStats), *actions],
    )


def _save(principal: Principal, c: OrthoCase, entry: AuditFor, *extra: Any) -> None:
    """Write a changed active case, its alerts and the audit entry, or 409 if it moved."""
    cid = principal.clinic_id
    old_version = int(c.version)
    c.version = old_version + 1
    c.updated_at = now()
    try:
        with transaction() as tx:
            tx.save(
                c, condition=(OrthoCase.version == old_version) & (OrthoCase.status == "active")
            )
            write_alerts(tx, cid, c)
            for x in extra:
                x(tx)
            tx.save(entry(audit_fields(c)), condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise changed_meanwhile() from exc


def _active_case(clinic_id: str, patient_id: str, case_id: str) -> OrthoCase:
    c = load_case(clinic_id, patient_id, case_id)
    if c.status != "active":
        raise not_active()
    return c


def update_case(
    principal: Principal, patient_id: str, case_id: str, data: schemas.CaseIn
) -> schemas.CaseOut:
    cid = principal.clinic_id
    c = _active_case(cid, patient_id, case_id)
    if data.appliance != c.appliance:
        raise invalid(
            field_error(
                "appliance",
                tr(
                    "the appliance of a case does not change; finish it and start another",
                    "el aparato de un caso no cambia; finalízalo y empieza otro",
                ),
            )
        )
    check_plan(data)
    before = audit_fields(c)
    old_month = c.start_date[:7]
    values = _plan_values(data)
    for k, v in values.items():
        setattr(c, k, v)
    if c.appliance == "aligners":
        if data.current_tray is not None and data.current_tray != c.current_tray:
            c.current_tray = data.current_tray
        if c.current_tray and c.total_trays and c.current_tray > c.total_trays:
            raise invalid(
                field_error(
                    "total_trays",
                    tr(
                        f"the patient is already on tray {c.current_tray}",
                        f"el paciente ya va por la férula {c.current_tray}",
                    ),
                )
            )
        if c.tray_since and c.tray_since < c.start_date:
            c.tray_since = c.start_date
    c.GSI2SK = f"{c.start_date}#{case_id}"
    new_month = c.start_date[:7]
    moves = []
    if new_month != old_month:
        moves = [
            lambda tx: _count(tx, cid, old_month, OrthoStats.started.add(-1)),
            lambda tx: _count(tx, cid, new_month, OrthoStats.started.add(1)),
        ]
    _save(
        principal,
        c,
        lambda after: audit.entry(
            principal.clinic_id,
            principal.actor,
            "ortho.case.updated",
            ENTITY,
            c.case_id,
            before=before,
            after=after,
        ),
        *moves,
    )
    _publish("ortho.case_updated", principal, c)
    return case_out(c)


def finish_case(
    principal: Principal, patient_id: str, case_id: str, data: schemas.FinishIn
) -> schemas.CaseOut:
    cid = principal.clinic_id
    c = _active_case(cid, patient_id, case_id)
    start = d(c.start_date)
    assert start is not None
    if data.finished_on < start:
        raise invalid(
            field_error(
                "finished_on",
                tr(
                    f"must not be before the start, {c.start_date}",
                    f"no puede ser anterior al inicio, {c.start_date}",
                ),
            )
        )
    before = audit_fields(c)
    planned = (add_months(start, int(c.planned_months)) - start).days
    actual = (data.finished_on - start).days
    c.status = "finished"
    c.finished_on = data.finished_on.isoformat()
    c.GSI2PK = None
    c.GSI2SK = None
    month = c.finished_on[:7]

    def counters(tx: Any) -> None:
        tx.delete(OrthoActive(*OrthoActive.key(cid, patient_id)))
        _count(
            tx,
            cid,
            "ALL",
            OrthoStats.active.add(-1),
            OrthoStats.finished.add(1),
            OrthoStats.actual_days.add(actual),
            OrthoStats.planned_days.add(planned),
        )
        _count(tx, cid, month, OrthoStats.finished.add(1))

    old_version = int(c.version)
    c.version = old_version + 1
    c.updated_at = now()
    try:
        with transaction() as tx:
            tx.save(
                c, condition=(OrthoCase.version == old_version) & (OrthoCase.status == "active")
            )
            write_alerts(tx, cid, c)  # a finished case has none: all three are deleted
            counters(tx)
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "ortho.case.finished",
                    ENTITY,
                    case_id,
                    before=before,
                    after=audit_fields(c),
                ),
                condition=AuditEntry.SK.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise changed_meanwhile() from exc
    _publish("ortho.case_finished", principal, c)
    return case_out(c)


def get_case(principal: Principal, patient_id: str, case_id: str) -> schemas.CaseOut:
    return case_out(load_case(principal.clinic_id, patient_id, case_id))


def list_cases(principal: Principal, patient_id: str, q: schemas.ListQuery) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = OrthoCase.patient_pk(cid, patient_id)
    it = OrthoCase.gsi1.query(
        pk,
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", pk)),
    )
    items = [case_out(c) for c in it if isinstance(c, OrthoCase)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def list_active(principal: Principal, q: schemas.ListQuery) -> Page:
    """The clinic's active cases, oldest start first, with the patients' names."""
    cid = principal.clinic_id
    pk = OrthoCase.active_pk(cid)
    it = OrthoCase.gsi2.query(
        pk,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk)),
    )
    cases = [c for c in it if isinstance(c, OrthoCase)]
    people = patients.load_many(cid, [c.patient_id for c in cases])
    items = [
        schemas.CaseSummary(
            **case_fields(c),
            patient_name=(
                patients.display_name(people[c.patient_id]) if c.patient_id in people else None
            ),
        )
        for c in cases
    ]
    return Page(items, encode_cursor(it.last_evaluated_key))


# --- visits ------------------------------------------------------------------------------------


def _check_tray(c: OrthoCase, tray: int | None, field: str) -> None:
    if tray is None:
        return
    if c.appliance != "aligners":
        raise invalid(
            field_error(field, tr("only aligner cases have trays", "solo los alineadores"))
        )
    if c.total_trays and tray > c.total_trays:
        raise invalid(
            field_error(
                field,
                tr(
                    f"beyond the {int(c.total_trays)} trays of the case",
                    f"supera las {int(c.total_trays)} férulas del caso",
                ),
            )
        )


def _not_before_start(c: OrthoCase, day: date, field: str) -> None:
    start = d(c.start_date)
    if start and day < start:
        raise invalid(
            field_error(
                field,
                tr(
                    f"must not be before the start of the case, {c.start_date}",
                    f"no puede ser anterior al inicio del caso, {c.start_date}",
                ),
            )
        )


def visit_out(clinic_id: str, v: OrthoVisit) -> schemas.VisitOut:
    return schemas.VisitOut(
        visit_id=v.visit_id,
        case_id=v.case_id,
        date=date.fromisoformat(v.date),
        note=open_sealed(clinic_id, v.note_sealed) if v.note_sealed else None,
        appointment_id=v.appointment_id,
        tray=int(v.tray) if v.tray is not None else None,
        created_at=v.created_at,
    )


def add_visit(
    principal: Principal, patient_id: str, case_id: str, data: schemas.VisitIn
) -> schemas.VisitOut:
    cid = principal.clinic_id
    c = _active_case(cid, patient_id, case_id)
    _not_before_start(c, data.date, "date")
    _check_tray(c, data.tray, "tray")
    if data.appointment_id:
        try:
            appt = Appointment.get(*Appointment.key(cid, data.appointment_id))
        except DoesNotExist:
            appt = None
        if appt is None or appt.patient_id != patient_id:
            raise invalid(
                field_error(
                    "appointment_id",
                    tr(
                        "no appointment of this patient with that id",
                        "no hay ninguna cita de este paciente con ese id",
                    ),
                )
            )
    before = audit_fields(c)
    vid, day = new_id(), data.date.isoformat()
    v = OrthoVisit(
        *OrthoVisit.key(cid, case_id, day, vid),
        visit_id=vid,
        case_id=case_id,
        patient_id=patient_id,
        date=day,
        note_sealed=seal(cid, data.note) if data.note else None,
        appointment_id=data.appointment_id,
        tray=data.tray,
        created_at=now(),
    )
    if not c.last_visit or day > c.last_visit:
        c.last_visit = day
    if data.tray is not None and (c.current_tray is None or data.tray > c.current_tray):
        c.current_tray, c.tray_since = data.tray, day
    _save(
        principal,
        c,
        lambda after: audit.entry(
            principal.clinic_id,
            principal.actor,
            "ortho.visit.recorded",
            ENTITY,
            c.case_id,
            before=before,
            after=after,
        ),
        lambda tx: tx.save(v, condition=OrthoVisit.SK.does_not_exist()),
    )
    _publish(
        "ortho.visit_recorded",
        principal,
        c,
        visit_id=vid,
        appointment_id=data.appointment_id,
        tray=data.tray,
    )
    return visit_out(cid, v)


def list_visits(principal: Principal, patient_id: str, case_id: str, q: schemas.ListQuery) -> Page:
    cid = principal.clinic_id
    c = load_case(cid, patient_id, case_id)
    pk = OrthoCase.key(cid, c.case_id)[0]
    prefix = OrthoVisit.prefix(case_id)
    it = OrthoVisit.query(
        pk,
        OrthoVisit.SK.startswith(prefix),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )
    items = [visit_out(cid, v) for v in it if isinstance(v, OrthoVisit)]
    return Page(items, encode_cursor(it.last_evaluated_key))


# --- aligner trays -----------------------------------------------------------------------------


def change_tray(
    principal: Principal, patient_id: str, case_id: str, data: schemas.TrayChangeIn
) -> schemas.CaseOut:
    cid = principal.clinic_id
    c = _active_case(cid, patient_id, case_id)
    if c.appliance != "aligners":
        raise Conflict(
            tr(
                "Only an aligner case changes trays.",
                "Solo un caso de alineadores cambia de férula.",
            ),
            code="ORTHO_NOT_ALIGNERS",
        )
    _check_tray(c, data.tray, "tray")
    if c.current_tray is not None and data.tray <= c.current_tray:
        raise invalid(
            field_error(
                "tray",
                tr(
                    f"must be after the current tray, {int(c.current_tray)}",
                    f"debe ser posterior a la férula actual, {int(c.current_tray)}",
                ),
            )
        )
    since = d(c.tray_since) or d(c.start_date)
    assert since is not None
    if data.date < since:
        raise invalid(
            field_error(
                "date",
                tr(
                    f"must not be before the current tray began, {since.isoformat()}",
                    f"no puede ser anterior al inicio de la férula actual, {since.isoformat()}",
                ),
            )
        )
    before = audit_fields(c)
    previous = c.current_tray
    c.current_tray, c.tray_since = data.tray, data.date.isoformat()
    _save(
        principal,
        c,
        lambda after: audit.entry(
            principal.clinic_id,
            principal.actor,
            "ortho.tray.changed",
            ENTITY,
            c.case_id,
            before=before,
            after=after,
        ),
    )
    _publish(
        "ortho.tray_changed",
        principal,
        c,
        tray=data.tray,
        previous_tray=int(previous) if previous is not None else None,
        total_trays=int(c.total_trays) if c.total_trays else None,
    )
    return case_out(c)


# --- progress photos ---------------------------------------------------------------------------


def link_photos(
    principal: Principal, patient_id: str, case_id: str, data: schemas.PhotosIn
) -> schemas.CaseOut:
    """Link the patient's photos (imaging) to the case, each with the date it was taken."""
    cid = principal.clinic_id
    c = load_case(cid, patient_id, case_id)
    ids = list(dict.fromkeys(data.image_ids))
    found: dict[str, Image] = {}
    for img in Image.batch_get([Image.key(cid, patient_id, i) for i in ids]):
        if (
            isinstance(img, Image)
            and not img.deleted
            and img.kind == "photo"
            and img.status == "ready"
        ):
            found[img.image_id] = img
    for i, image_id in enumerate(data.image_ids):
        if image_id not in found:
            raise invalid(
                field_error(
                    f"image_ids[{i}]",
                    tr(
                        "no photo of this patient with that id",
                        "no hay ninguna foto de este paciente con ese id",
                    ),
                )
            )
    have = {p["image_id"] for p in c.photos or []}
    new = [
        {
            "image_id": i,
            "taken_on": found[i].acquired_on or found[i].created_at.date().isoformat(),
        }
        for i in ids
        if i not in have
    ]
    if len(have) + len(new) > schemas.MAX_PHOTOS:
        raise invalid(
            field_error(
                "image_ids",
                tr(
                    f"a case holds at most {schemas.MAX_PHOTOS} photos",
                    f"un caso tiene como máximo {schemas.MAX_PHOTOS} fotos",
                ),
            )
        )
    if new:
        before = audit_fields(c)
        _write_photos(
            c,
            [*(c.photos or []), *new],
            lambda after: audit.entry(
                principal.clinic_id,
                principal.actor,
                "ortho.photos.linked",
                ENTITY,
                c.case_id,
                before=before,
                after=after,
            ),
        )
        _publish("ortho.photos_linked", principal, c, image_ids=[p["image_id"] for p in new])
    return case_out(c)


def unlink_photo(principal: Principal, patient_id: str, case_id: str, image_id: str) -> None:
    cid = principal.clinic_id
    c = load_case(cid, patient_id, case_id)
    kept = [p for p in c.photos or [] if p["image_id"] != image_id]
    if len(kept) == len(c.photos or []):
        raise NotFound(
            tr("That photo is not linked to the case.", "Esa foto no está en el caso."),
            code="ORTHO_PHOTO_NOT_LINKED",
        )
    before = audit_fields(c)
    _write_photos(
        c,
        kept,
        lambda after: audit.entry(
            principal.clinic_id,
            principal.actor,
            "ortho.photos.unlinked",
            ENTITY,
            c.case_id,
            before=before,
            after=after,
        ),
    )


def _write_photos(c: OrthoCase, photos: list[dict], entry: AuditFor) -> None:
    """Photos are linked to finished cases too (a final record), so this write is not
    ``_save``'s, which only changes active cases."""
    c.photos = sorted(photos, key=lambda p: (p.get("taken_on") or "", p["image_id"]))
    old_version = int(c.version)
    c.version = old_version + 1
    c.updated_at = now()
    try:
        with transaction() as tx:
            tx.save(c, condition=OrthoCase.version == old_version)
            tx.save(entry(audit_fields(c)), condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise changed_meanwhile() from exc
