"""Recall reminders and automatic follow-up messages: the daily job and "send now".

The job reads only the reminder buckets (GSI3 ``RECREM#<day>`` and ``FUREM#<day>``) of the last
days up to today, so its cost grows with what is due, never with the clinic's recalls. Each
step is claimed with a conditional write before the message goes (the recall's
``reminder_count``, the follow-up's ``auto_sent``), so a second run, or two at once, never sends
the same step twice; a failed send gives the step back. ADR 1404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError

from chalicelib.core import audit, scoping
from chalicelib.core.api import Principal
from chalicelib.core.errors import Conflict
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient
from chalicelib.recalls import common, followups, messages, schemas, service
from chalicelib.recalls.models import FollowUp, FollowUpSettings, Recall, RecallRule

LOOKBACK_DAYS = 7
ACTOR = {"type": "system", "id": "recall-reminders"}


def _what(rule: RecallRule | None, p: Patient) -> str:
    lang = "en" if (p.language or "es").startswith("en") else "es"
    name = common.rule_name(rule, lang) if rule else None
    return (name or ("check-up" if lang == "en" else "revisión")).lower()


def _entry(step: int | None, o: messages.Outcome, by: str | None) -> dict[str, Any]:
    return {
        "at": now().isoformat(),
        "step": step,
        "channel": o.channel,
        "status": o.status,
        "reason": o.reason,
        "message_id": o.message_id,
        "by": by,
    }


def _send_recall(
    cid: str,
    r: Recall,
    rule: RecallRule | None,
    p: Patient,
    step: int | None,
    days: list[int],
    today: date,
    by: str | None,
) -> messages.Outcome:
    """Claim the step (if any), send, record. Raises Stale when someone claimed it first."""
    old = int(r.version)
    if step is not None:
        r.reminder_count = step + 1
        if step + 1 < len(days):
            r.not_before = (today + timedelta(days=days[step + 1] - days[step])).isoformat()
        service.save(cid, r, old, days)  # the claim: a second run finds the step taken
        old = int(r.version)
    link = messages.booking_link(
        cid, r.patient_id, rule.booking_type_id if rule else None, f"recall:{r.recall_id}"
    )
    try:
        o = messages.send(cid, p, "recall", _what(rule, p), link)
    except Exception:
        if step is not None:  # give the step back: the next run tries again
            r.reminder_count, r.not_before = step, None
            service.save(cid, r, old, days)
        raise
    r.reminders = [*(r.reminders or []), _entry(step, o, by)][-20:]
    r.last_outcome = "sent" if o.status == "sent" else o.reason
    try:
        service.save(cid, r, old, days)
    except service.Stale:
        logger.warning("recall changed while reminding", extra={"recall_id": r.recall_id})
    return o


def run(at: Any = None) -> dict[str, int]:
    """The daily job: recall reminders, then automatic follow-up messages."""
    at = at or now()
    counts = {"sent": 0, "skipped": 0, "booked": 0, "not_due": 0, "failed": 0, "followups": 0}
    tz: dict[str, ZoneInfo] = {}
    conf: dict[str, FollowUpSettings] = {}
    rules: dict[str, dict[str, RecallRule]] = {}
    start = at.date() - timedelta(days=LOOKBACK_DAYS)
    for i in range(LOOKBACK_DAYS + 2):  # up to tomorrow (UTC): zones ahead of UTC
        day = (start + timedelta(days=i)).isoformat()
        for ref in Recall.gsi3.query(Recall.reminder_pk(day)):
            with scoping.for_partition(ref.PK):  # the recall's clinic's credentials (ADR 0012)
                cid = ref.PK[2:]
                try:
                    _one_recall(cid, ref, at, tz, conf, rules, counts)
                except Exception:  # one recall's trouble must not stop the others
                    counts["failed"] += 1
                    logger.exception("recall reminder failed", extra={"clinic_id": cid})
        for ref in FollowUp.gsi3.query(FollowUp.auto_pk(day)):
            with scoping.for_partition(ref.PK):
                cid = ref.PK[2:]
                try:
                    _one_followup(cid, ref, at, tz, conf, counts)
                except Exception:
                    counts["failed"] += 1
                    logger.exception("follow-up message failed", extra={"clinic_id": cid})
    return counts


def _clinic(cid: str, tz: dict, conf: dict) -> tuple[ZoneInfo, FollowUpSettings]:
    if cid not in tz:
        tz[cid] = common.zone(cid)
        conf[cid] = common.settings_of(cid)
    return tz[cid], conf[cid]


def _one_recall(
    cid: str, ref: Any, at: Any, tz: dict, conf: dict, rules: dict, counts: dict
) -> None:
    if not isinstance(ref, Recall):
        return
    zone, s = _clinic(cid, tz, conf)
    days = common.reminder_days(s)
    r = service.get(cid, ref.patient_id, ref.rule_id)
    if r is None or r.status != "due":
        return
    step = int(r.reminder_count or 0)
    today = common.local_day(cid, at, zone)
    if step >= len(days):
        service.save(cid, r, int(r.version), days)  # settings changed: off the buckets
        return
    due_on = max(
        date.fromisoformat(service.effective(r)) + timedelta(days=days[step]),
        date.fromisoformat(r.not_before) if r.not_before else date.min,
    )
    if due_on > today:
        counts["not_due"] += 1
        return
    booked = common.next_booked(cid, r.patient_id)
    if booked:  # the patient booked: stop (the recall waits for that appointment)
        old = int(r.version)
        r.status, r.appointment_id = "booked", booked
        service.save(cid, r, old, days)
        counts["booked"] += 1
        return
    if cid not in rules:
        rules[cid] = {x.rule_id: x for x in common.rules(cid)}
    rule = rules[cid].get(r.rule_id)
    p = patients.load_many(cid, [r.patient_id]).get(r.patient_id)
    if p is None or p.archived:
        return  # archived patients are not recalled
    try:
        o = _send_recall(cid, r, rule, p, step, days, today, None)
    except service.Stale:
        return  # another run took the step
    counts["sent" if o.status == "sent" else "skipped"] += 1


def _one_followup(cid: str, ref: Any, at: Any, tz: dict, conf: dict, counts: dict) -> None:
    if not isinstance(ref, FollowUp):
        return
    zone, s = _clinic(cid, tz, conf)
    f = followups.get(cid, ref.patient_id, ref.followup_id)
    if f is None or f.status != "open" or f.auto_sent or not common.auto_on(s, f.kind):
        return
    today = common.local_day(cid, at, zone)
    if date.fromisoformat(f.since) + timedelta(days=common.delay_days(s, f.kind)) > today:
        return
    old = int(f.version)
    f.auto_sent = True
    try:
        followups.save(cid, f, old, s)  # the claim
    except PutError:
        return
    try:
        o = _send_followup(cid, f, True, None)
    except Exception:
        f.auto_sent = False
        followups.save(cid, f, int(f.version), s)
        raise
    counts["followups"] += 1 if o.status == "sent" else 0


def _send_followup(cid: str, f: FollowUp, auto: bool, by: str | None) -> messages.Outcome:
    p = patients.load(cid, f.patient_id)
    if f.kind == "budget":
        o = messages.send(cid, p, "followup_budget", f.ref_number or "", None)
    else:
        link = messages.booking_link(cid, f.patient_id, None, f"followup:{f.followup_id}")
        o = messages.send(cid, p, f"followup_{f.kind}", "", link)
    for _ in range(3):
        old = int(f.version)
        f.messages = [*(f.messages or []), {**_entry(None, o, by), "auto": auto}][-20:]
        try:
            followups.save(cid, f, old)
            break
        except PutError:
            f = followups.get(cid, f.patient_id, f.followup_id) or f
    return o


# --- send now (staff) --------------------------------------------------------------------------


def _sent_today(entries: list[dict], today: date, zone: ZoneInfo) -> bool:
    from datetime import datetime  # noqa: PLC0415

    return any(
        e.get("status") == "sent"
        and datetime.fromisoformat(e["at"]).astimezone(zone).date() == today
        for e in entries or []
    )


def _no_channel(why: str) -> Conflict:
    return Conflict(
        tr(
            "The patient cannot be reached: no email address with consent to use it."
            if why != "undeliverable"
            else "The patient's email address bounced before; update it first.",
            "No se puede avisar al paciente: no hay email con su consentimiento."
            if why != "undeliverable"
            else "El email del paciente rebotó antes; actualízalo primero.",
        ),
        code="RECALL_NO_CHANNEL",
    )


def _already() -> Conflict:
    return Conflict(
        tr(
            "A message was already sent today; try again tomorrow.",
            "Ya se envió un mensaje hoy; prueba de nuevo mañana.",
        ),
        code="RECALL_SENT_TODAY",
    )


def send_recall_now(principal: Principal, patient_id: str, rule_id: str) -> schemas.SendOut:
    from chalicelib.comms import service as comms  # noqa: PLC0415

    cid = principal.clinic_id
    r = service.load(cid, patient_id, rule_id)
    if r.status == "dismissed":
        raise Conflict(
            tr("The recall was dismissed.", "La revisión está descartada."),
            code="RECALL_DISMISSED",
        )
    zone = common.zone(cid)
    today = common.local_day(cid, tz=zone)
    if _sent_today(r.reminders, today, zone):
        raise _already()
    p = patients.load(cid, patient_id)
    route, why = comms.route_for(cid, p, ["email"])
    if route is None:
        raise _no_channel(why)
    days = common.reminder_days(common.settings_of(cid))
    step = int(r.reminder_count or 0)
    rule = {x.rule_id: x for x in common.rules(cid)}.get(rule_id)
    try:
        o = _send_recall(
            cid, r, rule, p, step if step < len(days) else None, days, today, principal.user_id
        )
    except service.Stale as exc:
        raise _already() from exc
    audit.record(
        cid,
        principal.actor,
        "recalls.recall.reminded",
        "patient",
        patient_id,
        after={"rule_id": rule_id, "channel": o.channel, "message_id": o.message_id},
    )
    return schemas.SendOut(
        status=o.status,
        channel=o.channel,
        reason=o.reason,
        message_id=o.message_id,  # type: ignore[arg-type]
    )


def send_followup_now(principal: Principal, patient_id: str, followup_id: str) -> schemas.SendOut:
    from chalicelib.comms import service as comms  # noqa: PLC0415

    cid = principal.clinic_id
    f = followups.load(cid, patient_id, followup_id)
    if f.status != "open":
        raise Conflict(
            tr("This follow-up is already closed.", "Este seguimiento ya está cerrado."),
            code="FOLLOWUP_DONE",
        )
    zone = common.zone(cid)
    if _sent_today(f.messages, common.local_day(cid, tz=zone), zone):
        raise _already()
    route, why = comms.route_for(cid, patients.load(cid, patient_id), ["email"])
    if route is None:
        raise _no_channel(why)
    old = int(f.version)
    f.auto_sent = True  # staff wrote: no automatic message after this one
    try:
        followups.save(cid, f, old)
    except PutError as exc:
        raise _already() from exc
    o = _send_followup(cid, f, False, principal.user_id)
    audit.record(
        cid,
        principal.actor,
        "recalls.followup.sent",
        "patient",
        patient_id,
        after={"followup_id": followup_id, "channel": o.channel, "message_id": o.message_id},
    )
    return schemas.SendOut(
        status=o.status,
        channel=o.channel,
        reason=o.reason,
        message_id=o.message_id,  # type: ignore[arg-type]
    )
