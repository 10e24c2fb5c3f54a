"""Follow-ups for the front desk: budgets sent and not answered, treatments planned and not
scheduled, no-shows not rebooked. Each is an item kept from the events (the consumer reads the
record's current state, so a late or repeated event writes the same thing) and listed from a
sparse index by the date it started. ADR 1404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.billing.models import Budget
from chalicelib.charting.models import PlanItem, chart_prefix
from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.patients import service as patients
from chalicelib.recalls import common, schemas, service
from chalicelib.recalls.models import FollowUp, FollowUpSettings


def fid_budget(budget_id: str) -> str:
    return f"budget-{budget_id}"


def get(clinic_id: str, patient_id: str, followup_id: str) -> FollowUp | None:
    try:
        return FollowUp.get(*FollowUp.key(clinic_id, patient_id, followup_id), consistent_read=True)
    except DoesNotExist:
        return None


def index(clinic_id: str, f: FollowUp, s: FollowUpSettings) -> None:
    f.GSI1PK = f.GSI1SK = f.GSI3PK = f.GSI3SK = None
    if f.status != "open":
        return
    f.GSI1PK = FollowUp.list_pk(clinic_id, f.kind)
    f.GSI1SK = f"{f.since}#{f.patient_id}#{f.followup_id}"
    if not f.auto_sent:
        day = max(common.plus_days(f.since, common.delay_days(s, f.kind)), now().date().isoformat())
        f.GSI3PK = FollowUp.auto_pk(day)
        f.GSI3SK = f"{f.PK}#{f.SK}"


def save(clinic_id: str, f: FollowUp, old: int | None, s: FollowUpSettings | None = None) -> None:
    index(clinic_id, f, s or common.settings_of(clinic_id))
    f.updated_at, f.version = now(), (old or 0) + 1
    cond = FollowUp.SK.does_not_exist() if old is None else FollowUp.version == old  # type: ignore[comparison-overlap]
    f.save(condition=cond)


def _open(
    clinic_id: str,
    patient_id: str,
    followup_id: str,
    kind: str,
    since: str,
    ref_id: str | None = None,
    ref_number: str | None = None,
) -> str:
    """Open the follow-up. One already there for the same record (budget, missed appointment,
    or the patient's plan) stays as it is, open or closed by staff; a newer record (a later
    no-show) starts it again."""
    f = get(clinic_id, patient_id, followup_id)
    if f is not None and (f.ref_id or "") == (ref_id or ""):
        return "unchanged"
    if f is not None and f.since > since:
        return "unchanged"  # an older record delivered late
    old = int(f.version) if f is not None else None
    if f is None:
        f = FollowUp(
            *FollowUp.key(clinic_id, patient_id, followup_id),
            followup_id=followup_id,
            kind=kind,
            patient_id=patient_id,
            notes=[],
            messages=[],
        )
    f.since, f.ref_id, f.ref_number = since, ref_id, ref_number
    f.status, f.auto_sent, f.done_at, f.contacted_at = "open", False, None, None
    save(clinic_id, f, old)
    return "opened"


def _close(clinic_id: str, patient_id: str, followup_id: str) -> str:
    """The reason for the follow-up is gone: the item goes (its messages stay in comms)."""
    f = get(clinic_id, patient_id, followup_id)
    if f is None:
        return "unchanged"
    try:
        f.delete(condition=FollowUp.version == f.version)  # type: ignore[comparison-overlap]
    except DeleteError:
        raise  # changed meanwhile: the message is retried
    return "closed"


# --- from events -------------------------------------------------------------------------------


def on_budget(clinic_id: str, budget_id: str, tz: Any) -> str:
    """Any budget event: the budget's current status decides."""
    try:
        b = Budget.get(*Budget.key(clinic_id, budget_id), consistent_read=True)
    except DoesNotExist:
        return "ignored"
    fid = fid_budget(budget_id)
    if b.status == "sent" and b.sent_at is not None:
        since = b.sent_at.astimezone(tz).date().isoformat()
        return _open(clinic_id, b.patient_id, fid, "budget", since, budget_id, b.number)
    return _close(clinic_id, b.patient_id, fid)


def on_plan(clinic_id: str, patient_id: str, tz: Any) -> str:
    """Planned treatments and no booked appointment: one Query on the patient's chart plan,
    one on their appointments from now on."""
    planned = [
        it
        for it in PlanItem.query(
            clinic_pk(clinic_id),
            PlanItem.SK.startswith(f"{chart_prefix(patient_id)}P#"),
            consistent_read=True,
        )
        if isinstance(it, PlanItem) and it.status == "planned"
    ]
    if planned and common.next_booked(clinic_id, patient_id) is None:
        first: datetime = min(it.created_at for it in planned)
        return _open(clinic_id, patient_id, "plan", "plan", first.astimezone(tz).date().isoformat())
    return _close(clinic_id, patient_id, "plan")


def on_no_show(clinic_id: str, appointment_id: str, tz: Any) -> str:
    a = common.load_appointment(clinic_id, appointment_id)
    if a is None or a.status != "no_show":
        return "ignored"
    if common.next_booked(clinic_id, a.patient_id) is not None:
        return _close(clinic_id, a.patient_id, "noshow")
    since = datetime.fromisoformat(a.start).astimezone(tz).date().isoformat()
    return _open(clinic_id, a.patient_id, "noshow", "noshow", since, appointment_id)


def on_booked(clinic_id: str, patient_id: str) -> str:
    """The patient has an appointment ahead: no-show and unscheduled-treatment follow-ups end."""
    a = _close(clinic_id, patient_id, "noshow")
    b = _close(clinic_id, patient_id, "plan")
    return "closed" if "closed" in (a, b) else "unchanged"


# --- lists -------------------------------------------------------------------------------------


def out(clinic_id: str, f: FollowUp, today: date, name: str | None = None) -> schemas.FollowUpOut:
    since = date.fromisoformat(f.since)
    notes = [
        {
            "at": n.get("at"),
            "by_name": n.get("by_name"),
            "outcome": n.get("outcome"),
            "note": open_sealed(clinic_id, n["note_sealed"]) if n.get("note_sealed") else None,
        }
        for n in (f.notes or [])
    ]
    return schemas.FollowUpOut(
        followup_id=f.followup_id,
        kind=f.kind,  # type: ignore[arg-type]
        patient_id=f.patient_id,
        patient_name=name,
        ref_id=f.ref_id,
        ref_number=f.ref_number,
        since=since,
        days=(today - since).days,
        status=f.status,  # type: ignore[arg-type]
        contacted_at=f.contacted_at,
        done_at=f.done_at,
        notes=notes,
        messages=list(f.messages or []),
        updated_at=f.updated_at,
    )


def list_kind(principal: Principal, kind: str, q: schemas.FollowUpQuery) -> Page:
    """Open follow-ups of ``kind`` started at least N days ago (the clinic's setting), oldest
    first: one Query on the sparse index and one BatchGetItem for the patients."""
    if kind not in ("budget", "plan", "noshow"):
        raise NotFound(
            tr(
                "Follow-up lists are budget, plan and noshow.",
                "Las listas de seguimiento son budget, plan y noshow.",
            ),
            code="NO_SUCH_FOLLOWUP_LIST",
        )
    cid = principal.clinic_id
    today = common.local_day(cid)
    s = common.settings_of(cid)
    last = date.fromordinal(today.toordinal() - common.delay_days(s, kind))
    pk = FollowUp.list_pk(cid, kind)
    it = FollowUp.gsi1.query(
        pk,
        FollowUp.GSI1SK <= f"{last.isoformat()}#~",  # noqa: SIM300
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", pk)),
    )
    found = [f for f in it if isinstance(f, FollowUp)]
    cursor = encode_cursor(it.last_evaluated_key)
    people = patients.load_many(cid, [f.patient_id for f in found])
    items = []
    for f in found:
        p = people.get(f.patient_id)
        items.append(out(cid, f, today, patients.display_name(p) if p else None))
    return Page(items, cursor)


def of_patient(clinic_id: str, patient_id: str) -> list[FollowUp]:
    return [
        f
        for f in FollowUp.query(
            clinic_pk(clinic_id), FollowUp.SK.startswith(FollowUp.prefix(patient_id))
        )
        if isinstance(f, FollowUp)
    ]


def load(clinic_id: str, patient_id: str, followup_id: str) -> FollowUp:
    patients.load(clinic_id, patient_id)
    f = get(clinic_id, patient_id, followup_id)
    if f is None:
        raise NotFound(
            tr("No such follow-up for this patient.", "Ese seguimiento no existe."),
            code="FOLLOWUP_NOT_FOUND",
        )
    return f


def mark(
    principal: Principal, patient_id: str, followup_id: str, data: schemas.FollowUpDoneIn
) -> schemas.FollowUpOut:
    """``contacted`` keeps it on the list with the note; ``done`` takes it off."""
    cid = principal.clinic_id
    f = load(cid, patient_id, followup_id)
    if f.status == "done":
        raise Conflict(
            tr("This follow-up is already closed.", "Este seguimiento ya está cerrado."),
            code="FOLLOWUP_DONE",
        )
    old = int(f.version)
    at = now()
    f.notes = [
        *(f.notes or []),
        {
            "at": at.isoformat(),
            "by": principal.user_id,
            "by_name": principal.name,
            "outcome": data.outcome,
            "note_sealed": seal(cid, data.note) if data.note else None,
        },
    ][-30:]
    if data.outcome == "done":
        f.status, f.done_at = "done", at
    else:
        f.contacted_at = at
    try:
        save(cid, f, old)
    except PutError as exc:
        raise Conflict(
            tr("The follow-up changed meanwhile; reload it.", "El seguimiento ha cambiado."),
            code="FOLLOWUP_CHANGED",
        ) from exc
    audit.record(
        cid,
        principal.actor,
        f"recalls.followup.{data.outcome}",
        "patient",
        patient_id,
        after={"followup_id": followup_id, "kind": f.kind},
    )
    return out(cid, f, common.local_day(cid))


def patient_view(principal: Principal, patient_id: str, lang: str) -> schemas.PatientRecallsOut:
    """The record's view: recalls (next due first) and follow-ups, open first. Two Queries
    under the patient's prefix, plus the rules."""
    cid = principal.clinic_id
    today = common.local_day(cid)
    recalls = service.patient_recalls(principal, patient_id, lang)
    found = sorted(of_patient(cid, patient_id), key=lambda f: (f.status != "open", f.since))
    return schemas.PatientRecallsOut(recalls=recalls, followups=[out(cid, f, today) for f in found])
