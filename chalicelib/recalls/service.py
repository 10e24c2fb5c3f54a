"""Each patient's recalls: set or advanced by completed treatments (the consumer), booked and
reopened by the patient's appointments, snoozed, dismissed or set by staff, and the front
desk's due list. ADR 1404.

Every change is a conditional write on the recall's ``version``; the index keys (due list, per
rule, reminder bucket) are rewritten from the recall's state in the same write, so the lists
cannot drift from the recalls.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import decode_cursor, encode_cursor
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.patients import service as patients
from chalicelib.recalls import common, schemas
from chalicelib.recalls.models import Recall, RecallRule

ENTITY = "patient"


class Stale(Exception):  # noqa: N818
    """Someone changed the recall meanwhile (the caller reads it again)."""


# --- state and keys ----------------------------------------------------------------------------


def effective(r: Recall) -> str:
    """The date the recall is listed at: its due date, or the later snooze date."""
    return max(r.due, r.snoozed_until or "")


def index(clinic_id: str, r: Recall, days: list[int]) -> None:
    """Write the index keys from the recall's state (sparse: only a due recall is listed)."""
    r.GSI1PK = r.GSI1SK = r.GSI2PK = r.GSI2SK = r.GSI3PK = r.GSI3SK = None
    if r.status != "due":
        return
    sk = f"{effective(r)}#{r.patient_id}#{r.rule_id}"
    r.GSI1PK, r.GSI1SK = Recall.due_pk(clinic_id), sk
    r.GSI2PK, r.GSI2SK = Recall.due_pk(clinic_id, r.rule_id), sk
    step = int(r.reminder_count or 0)
    if step < len(days):
        # Not before the gap since the last step, nor in the past (an overdue recall found
        # today is reminded at the next run: the job reads only the last days' buckets).
        day = max(
            common.plus_days(effective(r), days[step]),
            r.not_before or "",
            now().date().isoformat(),
        )
        r.GSI3PK, r.GSI3SK = Recall.reminder_pk(day), f"{r.PK}#{r.SK}"


def save(clinic_id: str, r: Recall, old_version: int | None, days: list[int]) -> None:
    """Write ``r`` if nobody changed it since ``old_version`` (None: it must not exist)."""
    index(clinic_id, r, days)
    r.updated_at = now()
    r.version = (old_version or 0) + 1
    cond = (
        Recall.SK.does_not_exist() if old_version is None else (Recall.version == old_version)  # type: ignore[comparison-overlap]
    )
    try:
        r.save(condition=cond)
    except PutError as exc:
        raise Stale from exc


def get(clinic_id: str, patient_id: str, rule_id: str) -> Recall | None:
    try:
        return Recall.get(*Recall.key(clinic_id, patient_id, rule_id), consistent_read=True)
    except DoesNotExist:
        return None


def of_patient(clinic_id: str, patient_id: str) -> list[Recall]:
    """The patient's recalls: one Query under the patient's prefix (one per rule at most)."""
    return [
        r
        for r in Recall.query(
            f"C#{clinic_id}", Recall.SK.startswith(Recall.prefix(patient_id)), consistent_read=True
        )
        if isinstance(r, Recall)
    ]


def fresh(patient_id: str, rule_id: str, clinic_id: str) -> Recall:
    return Recall(
        *Recall.key(clinic_id, patient_id, rule_id),
        recall_id=new_id(),
        patient_id=patient_id,
        rule_id=rule_id,
        status="due",
        due="",
        source="manual",
        reminder_count=0,
        reminders=[],
        updated_at=now(),
        version=0,
    )


def restart(r: Recall, due: str) -> None:
    """A new cycle: due on ``due``, nothing sent yet, not booked, not snoozed."""
    r.status, r.due, r.snoozed_until, r.appointment_id = "due", due, None, None
    r.reminder_count, r.last_outcome, r.not_before = 0, None, None


# --- from events (the consumer) ----------------------------------------------------------------


def completed(
    clinic_id: str,
    patient_id: str,
    rule: RecallRule,
    done: date,
    source: str,
    ref: str | None,
    days: list[int],
) -> str:
    """A treatment matching ``rule`` was done on ``done``: the recall is due ``interval``
    months later. An older completion (a late or repeated event) changes nothing."""
    for _ in range(5):
        r = get(clinic_id, patient_id, rule.rule_id)
        old = int(r.version) if r is not None else None
        if r is not None and r.last_done and r.last_done >= done.isoformat():
            return "unchanged"
        r = r or fresh(patient_id, rule.rule_id, clinic_id)
        restart(r, common.add_months(done, int(rule.interval_months)).isoformat())
        r.last_done, r.source, r.source_ref = done.isoformat(), source, ref
        try:
            save(clinic_id, r, old, days)
            return "set"
        except Stale:
            continue
    raise Stale


def booked(clinic_id: str, patient_id: str, appointment_id: str, days: list[int]) -> int:
    """The patient booked: their due recalls wait for that appointment."""
    n = 0
    for r in of_patient(clinic_id, patient_id):
        if r.status != "due":
            continue
        old = int(r.version)
        r.status, r.appointment_id = "booked", appointment_id
        save(clinic_id, r, old, days)  # Stale fails the message: retried alone
        n += 1
    return n


def unbooked(clinic_id: str, patient_id: str, appointment_id: str, days: list[int]) -> int:
    """The appointment the recalls waited for was cancelled, missed or done without the
    treatment: they are due again (or wait for another booked appointment)."""
    other = None
    n = 0
    for r in of_patient(clinic_id, patient_id):
        if r.status != "booked" or r.appointment_id != appointment_id:
            continue
        if other is None:
            other = common.next_booked(clinic_id, patient_id) or ""
        old = int(r.version)
        if other and other != appointment_id:
            r.appointment_id = other
        else:
            r.status, r.appointment_id = "due", None
        save(clinic_id, r, old, days)
        n += 1
    return n


# --- output ------------------------------------------------------------------------------------


def out(
    clinic_id: str,
    r: Recall,
    today: date,
    rule: RecallRule | None,
    lang: str,
    name: str | None = None,
) -> schemas.RecallOut:
    eff = date.fromisoformat(effective(r))
    return schemas.RecallOut(
        recall_id=r.recall_id,
        patient_id=r.patient_id,
        patient_name=name,
        rule_id=r.rule_id,
        rule_name=common.rule_name(rule, lang),
        status=r.status,  # type: ignore[arg-type]
        due=date.fromisoformat(r.due),
        snoozed_until=date.fromisoformat(r.snoozed_until) if r.snoozed_until else None,
        effective_due=eff,
        days_overdue=(today - eff).days,
        last_done=date.fromisoformat(r.last_done) if r.last_done else None,
        source=r.source,
        appointment_id=r.appointment_id,
        reminder_count=int(r.reminder_count or 0),
        reminders=[schemas.ReminderOut(**x) for x in (r.reminders or [])],
        last_outcome=r.last_outcome,
        note=open_sealed(clinic_id, r.note_sealed) if r.note_sealed else None,
        updated_at=r.updated_at,
    )


def due_list(principal: Principal, q: schemas.DueQuery, lang: str) -> Page:
    """Due recalls up to ``until`` (default: a week from today), most overdue first: one Query
    on the due index (per rule when ``rule`` is given), one BatchGetItem for the patients,
    one Query for the rules."""
    cid = principal.clinic_id
    tz = common.zone(cid)
    today = common.local_day(cid, tz=tz)
    until = q.until or date.fromordinal(today.toordinal() + 7)
    pk = Recall.due_pk(cid, q.rule)
    attr = "GSI2PK" if q.rule else "GSI1PK"
    index_ = Recall.gsi2 if q.rule else Recall.gsi1
    sk = Recall.GSI2SK if q.rule else Recall.GSI1SK
    it = index_.query(
        pk,
        sk <= f"{until.isoformat()}#~",
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=(attr, pk)),
    )
    found = [r for r in it if isinstance(r, Recall)]
    cursor = encode_cursor(it.last_evaluated_key)
    if not found:
        return Page([], cursor)
    rules = {r.rule_id: r for r in common.rules(cid)}
    people = patients.load_many(cid, [r.patient_id for r in found])
    items = []
    for r in found:
        p = people.get(r.patient_id)
        items.append(
            out(
                cid,
                r,
                today,
                rules.get(r.rule_id),
                lang,
                patients.display_name(p) if p else None,
            )
        )
    return Page(items, cursor)


def patient_recalls(principal: Principal, patient_id: str, lang: str) -> list[schemas.RecallOut]:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    rules = {r.rule_id: r for r in common.rules(cid)}
    today = common.local_day(cid)
    found = sorted(of_patient(cid, patient_id), key=effective)
    return [out(cid, r, today, rules.get(r.rule_id), lang) for r in found]


# --- staff actions -----------------------------------------------------------------------------


def _rule(clinic_id: str, rule_id: str) -> RecallRule:
    try:
        return RecallRule.get(*RecallRule.key(clinic_id, rule_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr("No recall rule with that id in this clinic.", "No hay esa regla de revisión."),
            code="RECALL_RULE_NOT_FOUND",
        ) from exc


def load(clinic_id: str, patient_id: str, rule_id: str) -> Recall:
    patients.load(clinic_id, patient_id)
    r = get(clinic_id, patient_id, rule_id)
    if r is None:
        raise NotFound(
            tr("The patient has no recall of that rule.", "El paciente no tiene esa revisión."),
            code="RECALL_NOT_FOUND",
        )
    return r


def _changed(principal: Principal, r: Recall, old: int | None, action: str, **after: Any) -> None:
    cid = principal.clinic_id
    try:
        save(cid, r, old, common.reminder_days(common.settings_of(cid)))
    except Stale as exc:
        raise Conflict(
            tr(
                "The recall changed meanwhile; reload and try again.",
                "La revisión ha cambiado mientras tanto; recarga e inténtalo de nuevo.",
            ),
            code="RECALL_CHANGED",
        ) from exc
    audit.record(
        cid,
        principal.actor,
        action,
        ENTITY,
        r.patient_id,
        after={"rule_id": r.rule_id, "recall_id": r.recall_id, **after},
    )


def set_recall(
    principal: Principal, patient_id: str, rule_id: str, data: schemas.RecallSetIn, lang: str
) -> schemas.RecallOut:
    """Set the recall by hand (a new cycle from ``due``)."""
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    _rule(cid, rule_id)
    r = get(cid, patient_id, rule_id)
    old = int(r.version) if r is not None else None
    r = r or fresh(patient_id, rule_id, cid)
    restart(r, data.due.isoformat())
    r.source, r.source_ref = "manual", principal.user_id
    if data.note is not None:
        r.note_sealed = seal(cid, data.note) if data.note else None
    _changed(principal, r, old, "recalls.recall.set", due=data.due.isoformat())
    return out(cid, r, common.local_day(cid), _rule(cid, rule_id), lang)


def snooze(
    principal: Principal, patient_id: str, rule_id: str, data: schemas.SnoozeIn, lang: str
) -> schemas.RecallOut:
    cid = principal.clinic_id
    r = load(cid, patient_id, rule_id)
    today = common.local_day(cid)
    if data.until <= today:
        raise Unprocessable(
            tr("Snooze until a later day.", "Pospón hasta un día posterior a hoy."),
            code="RECALL_SNOOZE_PAST",
            errors=[{"field": "until", "message": tr("a future date", "una fecha futura")}],
        )
    if r.status == "dismissed":
        raise Conflict(
            tr("The recall was dismissed; set it again first.", "La revisión está descartada."),
            code="RECALL_DISMISSED",
        )
    old = int(r.version)
    r.snoozed_until, r.status, r.appointment_id = data.until.isoformat(), "due", None
    if data.note is not None:
        r.note_sealed = seal(cid, data.note) if data.note else None
    _changed(principal, r, old, "recalls.recall.snoozed", until=data.until.isoformat())
    return out(cid, r, today, _rule(cid, rule_id), lang)


def dismiss(
    principal: Principal, patient_id: str, rule_id: str, data: schemas.DismissIn, lang: str
) -> schemas.RecallOut:
    """No more reminders and off the due list, until a new completion or staff set it."""
    cid = principal.clinic_id
    r = load(cid, patient_id, rule_id)
    old = int(r.version)
    r.status, r.appointment_id = "dismissed", None
    if data.note is not None:
        r.note_sealed = seal(cid, data.note) if data.note else None
    _changed(principal, r, old, "recalls.recall.dismissed")
    return out(cid, r, common.local_day(cid), _rule(cid, rule_id), lang)
