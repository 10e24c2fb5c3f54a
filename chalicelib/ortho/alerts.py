"""Orthodontic alerts (visit overdue, aligner change overdue, retention check due), the
reminder staff send from one, and the clinic's case figures. ADR 0662.

The alert list is one Query on the sparse alert index (GSI2 ``C#<cid>#OALERT``, sort key
``<due date>#<kind>#<case id>``) up to today, then per page: one BatchGetItem for the cases and
one for the patients, one for today's reminders, and for a visit or retention alert one Query
(``Limit`` 3) on the agenda's patient index for an appointment booked from now on. Its cost
grows with the page size, never with the number of cases. Figures are two GetItems' worth of
counters (one BatchGetItem).
"""

from __future__ import annotations

from datetime import date
from html import escape

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.comms import service as comms
from chalicelib.comms import templates
from chalicelib.core import audit, events, mail
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.db import Item, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.ortho import schemas
from chalicelib.ortho.common import ENTITY, load_case, today
from chalicelib.ortho.models import OrthoAlert, OrthoCase, OrthoReminder, OrthoStats
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient

BOOKED_STATUSES = ("scheduled", "confirmed", "checked_in", "in_progress")
VISIT_KINDS = ("visit", "retention")


def _booked(clinic_id: str, patient_id: str) -> bool:
    """Whether the patient has an appointment from now on (the agenda's patient index)."""
    pk = patient_index(clinic_id, patient_id)
    pivot = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    it = Item.gsi2.query(pk, Item.GSI2SK >= pivot, limit=3)  # noqa: SIM300
    return any(isinstance(a, Appointment) and a.status in BOOKED_STATUSES for a in it)


def list_alerts(principal: Principal, q: schemas.ListQuery) -> Page:
    cid = principal.clinic_id
    day = today(cid)
    pk = OrthoAlert.index_pk(cid)
    it = OrthoAlert.gsi2.query(
        pk,
        OrthoAlert.GSI2SK <= f"{day.isoformat()}#~",  # noqa: SIM300
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", pk)),
    )
    alerts = [a for a in it if isinstance(a, OrthoAlert)]
    cursor = encode_cursor(it.last_evaluated_key)
    if not alerts:
        return Page([], cursor)
    cases = {
        c.case_id: c
        for c in OrthoCase.batch_get([OrthoCase.key(cid, a.case_id) for a in alerts])
        if isinstance(c, OrthoCase)
    }
    people = patients.load_many(cid, [a.patient_id for a in alerts])
    sent = {
        (r.case_id, r.kind)
        for r in OrthoReminder.batch_get(
            [OrthoReminder.key(cid, a.case_id, a.kind, day.isoformat()) for a in alerts]
        )
        if isinstance(r, OrthoReminder)
    }
    booked: dict[str, bool] = {}
    items = []
    for a in alerts:
        c = cases.get(a.case_id)
        if c is None or c.status != "active":
            continue
        if a.kind in VISIT_KINDS:
            if a.patient_id not in booked:
                booked[a.patient_id] = _booked(cid, a.patient_id)
            if booked[a.patient_id]:
                continue  # the next visit is booked: not overdue
        due = date.fromisoformat(a.due)
        p = people.get(a.patient_id)
        items.append(
            schemas.AlertOut(
                case_id=a.case_id,
                patient_id=a.patient_id,
                patient_name=patients.display_name(p) if p else None,
                kind=a.kind,  # type: ignore[arg-type]
                due=due,
                days_overdue=(day - due).days,
                appliance=c.appliance,  # type: ignore[arg-type]
                current_tray=int(c.current_tray) if c.current_tray is not None else None,
                total_trays=int(c.total_trays) if c.total_trays is not None else None,
                reminded_today=(a.case_id, a.kind) in sent,
            )
        )
    return Page(items, cursor)


# --- reminders ---------------------------------------------------------------------------------

_TEXT = {
    "visit": (
        "It is time for your next orthodontic check-up. Please call us or reply to book it.",
        "Ya toca tu próxima revisión de ortodoncia. Llámanos o responde para reservarla.",
    ),
    "retention": (
        "It is time for your retention check. Please call us or reply to book it.",
        "Ya toca tu revisión de retención. Llámanos o responde para reservarla.",
    ),
    "tray": (
        "It is time to change to your next aligner tray ({tray}). If you have doubts, call us.",
        "Ya toca cambiar a tu siguiente férula ({tray}). Si tienes dudas, llámanos.",
    ),
}
_SUBJECT = {
    "visit": ("Your orthodontic check-up", "Tu revisión de ortodoncia"),
    "retention": ("Your retention check", "Tu revisión de retención"),
    "tray": ("Time to change your aligner", "Toca cambiar de férula"),
}


def _email(clinic_id: str, p: Patient, kind: str, tray: int | None) -> templates.Rendered:
    c = comms.clinic(clinic_id)
    lang = templates.lang_of(p.language)
    i = 0 if lang == "en" else 1
    subject = _SUBJECT[kind][i]
    body = _TEXT[kind][i].format(tray=tray or "")
    hello = f"Hello {p.first_name}," if lang == "en" else f"Hola, {p.first_name}:"
    brand = templates.Brand.of(c)
    footer = brand.phone or brand.name
    html = templates.layout(
        brand, lang, subject, f"<p>{escape(hello)}</p><p>{escape(body)}</p>", footer
    )
    return templates.Rendered(subject=subject, text=f"{hello}\n\n{body}\n\n{brand.name}", html=html)


def _refused(message_en: str, message_es: str, code: str) -> Conflict:
    return Conflict(tr(message_en, message_es), code=code)


def send_reminder(
    principal: Principal, patient_id: str, case_id: str, data: schemas.ReminderIn
) -> schemas.ReminderOut:
    """Remind the patient of a due alert, once a day per alert, by email with their consent
    (WhatsApp reaches a patient outside a conversation only with an approved template about an
    appointment, which an ortho alert is not: ADR 0662)."""
    cid = principal.clinic_id
    c = load_case(cid, patient_id, case_id)
    day = today(cid)
    try:
        alert = OrthoAlert.get(*OrthoAlert.key(cid, case_id, data.kind), consistent_read=True)
    except DoesNotExist:
        alert = None
    if c.status != "active" or alert is None or date.fromisoformat(alert.due) > day:
        raise _refused(
            "This case has no such alert due today.",
            "Este caso no tiene esa alerta pendiente hoy.",
            "ORTHO_ALERT_NOT_DUE",
        )
    p = patients.load(cid, patient_id)
    route, why = comms.route_for(cid, p, ["email"])
    if route is None:
        raise _refused(
            "The patient cannot be reached: no email address with consent to use it."
            if why != "undeliverable"
            else "The patient's email address bounced before; update it first.",
            "No se puede avisar al paciente: no hay email con su consentimiento."
            if why != "undeliverable"
            else "El email del paciente rebotó antes; actualízalo primero.",
            "ORTHO_NO_CHANNEL",
        )
    marker = OrthoReminder(
        *OrthoReminder.key(cid, case_id, data.kind, day.isoformat()),
        case_id=case_id,
        patient_id=patient_id,
        kind=data.kind,
        channel=route.channel,
        sent_at=now(),
    )
    try:
        with transaction() as tx:
            tx.save(marker, condition=OrthoReminder.SK.does_not_exist())
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "ortho.reminder.sent",
                    ENTITY,
                    case_id,
                    after={"patient_id": patient_id, "kind": data.kind, "channel": route.channel},
                ),
                condition=AuditEntry.SK.does_not_exist(),
            )
    except TransactWriteError as exc:
        raise _refused(
            "A reminder for this alert was already sent today; try again tomorrow.",
            "Ya se envió hoy un recordatorio de esta alerta; prueba de nuevo mañana.",
            "ORTHO_REMINDER_SENT_TODAY",
        ) from exc
    r = _email(cid, p, data.kind, int(c.current_tray) + 1 if c.current_tray else None)
    try:
        provider_id = mail.send(to=route.address, subject=r.subject, text=r.text, html=r.html)
    except Exception:
        marker.delete()  # not sent: the alert may be reminded again
        raise
    m = comms.new_message(
        cid,
        patient_id=patient_id,
        channel="email",
        direction="out",
        kind="ortho_reminder",
        status="sent",
        subject=r.subject,
        provider_id=provider_id,
    )
    m.save()
    comms.emit_message_event(cid, m)
    marker.update(actions=[OrthoReminder.message_id.set(m.message_id)])
    events.publish(
        "ortho.reminder_sent",
        cid,
        principal.actor,
        case_id=case_id,
        patient_id=patient_id,
        kind=data.kind,
        channel="email",
        message_id=m.message_id,
    )
    return schemas.ReminderOut(
        case_id=case_id,
        patient_id=patient_id,
        kind=data.kind,
        channel="email",
        message_id=m.message_id,
        sent_on=day,
    )


# --- figures -----------------------------------------------------------------------------------


def figures(principal: Principal) -> schemas.FiguresOut:
    cid = principal.clinic_id
    month = today(cid).isoformat()[:7]
    found = {
        s.SK: s
        for s in OrthoStats.batch_get([OrthoStats.key(cid, "ALL"), OrthoStats.key(cid, month)])
        if isinstance(s, OrthoStats)
    }
    total = found.get(OrthoStats.key(cid, "ALL")[1])
    this = found.get(OrthoStats.key(cid, month)[1])
    finished = int(total.finished or 0) if total else 0
    days_per_month = 365.25 / 12
    return schemas.FiguresOut(
        month=month,
        active=int(total.active or 0) if total else 0,
        started_this_month=int(this.started or 0) if this else 0,
        finished_this_month=int(this.finished or 0) if this else 0,
        finished_total=finished,
        average_months=(
            round(int(total.actual_days) / finished / days_per_month, 1)
            if total and finished
            else None
        ),
        average_planned_months=(
            round(int(total.planned_days) / finished / days_per_month, 1)
            if total and finished
            else None
        ),
    )
