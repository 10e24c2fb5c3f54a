"""Patient communications: consent, settings, messages, and the appointment notices.

Nothing is sent on a channel without the patient's recorded consent for it, nor to an email
address SES reported as bouncing or complaining. A notice goes out on the patient's preferred
channel when it is possible (WhatsApp needs the clinic's connected number, the patient's number
and consent), else by email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.agenda.models import Appointment
from chalicelib.comms import schemas, templates
from chalicelib.comms.models import (
    CommsSettings,
    Consent,
    Message,
    PatientLink,
)
from chalicelib.core import audit, events, mail
from chalicelib.core.api import Page, Principal
from chalicelib.core.config import settings
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import clinic_pk, decode_cursor, page
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.links import LinkSigner
from chalicelib.identity.models import Clinic
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient

DEFAULT_LEADS_MIN = [24 * 60, 120]
LINK_KINDS = ("booking", "reminder", "reschedule")
SYSTEM_ACTOR = {"type": "system", "id": "comms"}
# Confirm / Cancel links in appointment notices: valid 48 hours, single use (ADR 0701).
LINKS = LinkSigner("appt-link", ("confirm", "cancel"))
LINK_TTL_S = 48 * 3600


# --- small helpers ---------------------------------------------------------------------------


def clinic(clinic_id: str) -> Clinic:
    try:
        return Clinic.get(*Clinic.key(clinic_id))
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se ha encontrado la clínica.")) from exc


def local_start(a: Appointment) -> datetime:
    return datetime.fromisoformat(a.start).astimezone(ZoneInfo(a.time_zone))


def start_utc(a: Appointment) -> datetime:
    return datetime.strptime(a.start_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def end_utc(a: Appointment) -> datetime:
    return datetime.strptime(a.end_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# --- settings --------------------------------------------------------------------------------


def load_settings(clinic_id: str) -> CommsSettings:
    try:
        return CommsSettings.get(*CommsSettings.key(clinic_id))
    except DoesNotExist:
        return CommsSettings(
            *CommsSettings.key(clinic_id),
            reminder_leads_min=list(DEFAULT_LEADS_MIN),
            eod_enabled=True,
        )


def _settings_out(s: CommsSettings) -> schemas.SettingsOut:
    return schemas.SettingsOut(
        reminder_leads_min=[int(x) for x in s.reminder_leads_min or []],
        eod_enabled=bool(s.eod_enabled),
        eod_recipients=list(s.eod_recipients) if s.eod_recipients else None,
        eod_time=eod_time(s),
        reminder_channels=reminder_channels(s),
        updated_at=s.updated_at,
    )


def eod_time(s: CommsSettings) -> str:
    return s.eod_time or "16:00"


def reminder_channels(s: CommsSettings) -> list[str]:
    return list(s.reminder_channels) if s.reminder_channels else ["email", "whatsapp"]


def get_settings(principal: Principal) -> schemas.SettingsOut:
    return _settings_out(load_settings(principal.clinic_id))


def put_settings(principal: Principal, data: schemas.SettingsIn) -> schemas.SettingsOut:
    from chalicelib.comms import scheduling  # noqa: PLC0415 - scheduling imports this module

    cid = principal.clinic_id
    s = load_settings(cid)
    before = _settings_out(s).model_dump(mode="json", exclude={"updated_at"})
    s.reminder_leads_min = list(data.reminder_leads_min)
    s.eod_enabled = data.eod_enabled
    s.eod_recipients = [str(e) for e in data.eod_recipients] if data.eod_recipients else None
    moved = eod_time(s) != data.eod_time
    s.eod_time = data.eod_time
    s.reminder_channels = [c for c in ("email", "whatsapp") if c in data.reminder_channels]
    s.updated_at, s.updated_by = now(), principal.user_id
    s.save()
    after = _settings_out(s).model_dump(mode="json", exclude={"updated_at"})
    audit.record(
        cid,
        principal.actor,
        "comms.settings.updated",
        "clinic",
        cid,
        before={k: str(v) for k, v in before.items()},
        after={k: str(v) for k, v in after.items()},
    )
    if moved:  # the next summary goes at the new time (today's, if it is still ahead)
        scheduling.schedule_eod(cid, clinic(cid).time_zone, now())
    else:
        scheduling.ensure_eod(cid)
    return _settings_out(s)


# --- consent ---------------------------------------------------------------------------------


def consent_granted(clinic_id: str, patient_id: str, channel: str) -> bool:
    try:
        return bool(Consent.get(*Consent.key(clinic_id, patient_id, channel)).granted)
    except DoesNotExist:
        return False


def _consent_out(channel: str, c: Consent | None) -> schemas.ConsentOut:
    if c is None:
        return schemas.ConsentOut(channel=channel, granted=False, source=None, at=None, by=None)  # type: ignore[arg-type]
    return schemas.ConsentOut(
        channel=channel,  # type: ignore[arg-type]
        granted=bool(c.granted),
        source=c.source,
        at=c.at,
        by=c.by,
        by_name=((c.history or [{}])[-1]).get("by_name"),
        history=c.history or [],
    )


def list_consents(principal: Principal, patient_id: str) -> list[schemas.ConsentOut]:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    found = {
        c.channel: c
        for c in Consent.query(clinic_pk(cid), Consent.SK.startswith(f"PAT#{patient_id}#CONSENT#"))
        if isinstance(c, Consent)
    }
    return [_consent_out(ch, found.get(ch)) for ch in ("email", "whatsapp")]


def record_consent(
    clinic_id: str,
    patient_id: str,
    channel: str,
    granted: bool,
    source: str,
    actor: dict[str, Any],
) -> Consent:
    at = now()
    try:
        c = Consent.get(*Consent.key(clinic_id, patient_id, channel))
        before = {"granted": bool(c.granted)}
    except DoesNotExist:
        c = Consent(
            *Consent.key(clinic_id, patient_id, channel),
            patient_id=patient_id,
            channel=channel,
            history=[],
        )
        before = {"granted": None}
    c.granted, c.source, c.at, c.by = granted, source, at, str(actor.get("id"))
    c.history = [
        *(c.history or []),
        {
            "granted": granted,
            "source": source,
            "at": at.isoformat(),
            "by": str(actor.get("id")),
            # the name as it was then, so the record's history reads "who" without a lookup
            "by_name": actor.get("name"),
        },
    ][-50:]
    c.save()
    audit.record(
        clinic_id,
        actor,
        f"comms.consent.{'granted' if granted else 'withdrawn'}",
        "patient",
        patient_id,
        before={f"consent_{channel}": before["granted"]},
        after={f"consent_{channel}": granted},
    )
    return c


def set_consent(
    principal: Principal, patient_id: str, channel: str, data: schemas.ConsentIn
) -> schemas.ConsentOut:
    if channel not in ("email", "whatsapp"):
        raise NotFound(
            tr(
                "Consent channels are 'email' and 'whatsapp'.",
                "Los canales de consentimiento son 'email' y 'whatsapp'.",
            ),
            code="NO_SUCH_CHANNEL",
        )
    patients.load(principal.clinic_id, patient_id)
    c = record_consent(
        principal.clinic_id, patient_id, channel, data.granted, data.source, principal.actor
    )
    return _consent_out(channel, c)


# --- messages --------------------------------------------------------------------------------


def new_message(
    clinic_id: str,
    *,
    patient_id: str | None,
    channel: str,
    direction: str,
    kind: str,
    status: str,
    appointment_id: str | None = None,
    subject: str | None = None,
    text: str | None = None,
    provider_id: str | None = None,
    error: dict | None = None,
    message_id: str | None = None,
) -> Message:
    mid, at = message_id or new_id(), now()
    m = Message(
        *Message.key(clinic_id, mid),
        message_id=mid,
        patient_id=patient_id,
        appointment_id=appointment_id,
        channel=channel,
        direction=direction,
        kind=kind,
        status=status,
        subject=subject,
        body_sealed=seal(clinic_id, text) if text else None,
        provider_id=provider_id,
        error=error,
        status_history=[{"status": status, "at": at.isoformat()}],
        created_at=at,
        updated_at=at,
        GSI2PK=Message.list_pk(clinic_id),
        GSI2SK=mid,
    )
    if patient_id:
        m.GSI1PK, m.GSI1SK = Message.patient_pk(clinic_id, patient_id), mid
    return m


def message_out(clinic_id: str, m: Message) -> schemas.MessageOut:
    return schemas.MessageOut(
        message_id=m.message_id,
        patient_id=m.patient_id,
        appointment_id=m.appointment_id,
        channel=m.channel,
        direction=m.direction,
        kind=m.kind,
        status=m.status,
        subject=m.subject,
        text=open_sealed(clinic_id, m.body_sealed) if m.body_sealed else None,
        error=m.error,
        status_history=m.status_history or [],
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def list_messages(
    principal: Principal, q: schemas.ListQuery, patient_id: str | None = None
) -> Page:
    cid = principal.clinic_id
    if patient_id:
        patients.load(cid, patient_id)
        pk, index, attr = Message.patient_pk(cid, patient_id), Message.gsi1, "GSI1PK"
    else:
        pk, index, attr = Message.list_pk(cid), Message.gsi2, "GSI2PK"
    start = decode_cursor(q.cursor, partition=(attr, pk))
    it = index.query(pk, scan_index_forward=False, limit=q.limit, last_evaluated_key=start)
    items, cursor = page(it)
    return Page([message_out(cid, m) for m in items if isinstance(m, Message)], cursor)


def emit_message_event(clinic_id: str, m: Message, name: str = "message.sent") -> None:
    events.publish(
        name,
        clinic_id,
        SYSTEM_ACTOR,
        message_id=m.message_id,
        patient_id=m.patient_id,
        appointment_id=m.appointment_id,
        channel=m.channel,
        kind=m.kind,
        status=m.status,
    )


# --- links -----------------------------------------------------------------------------------


def link_url(token: str) -> str:
    return f"{settings().app_url}/api/v1/public/appointments/{token}"


def create_link(clinic_id: str, patient: Patient, appointment_id: str, action: str) -> str:
    """Store a link and return its signed token (valid 48 hours, single use)."""
    lid, at = new_id(), now()
    expires = int(at.timestamp()) + LINK_TTL_S
    PatientLink(
        *PatientLink.key(lid),
        link_id=lid,
        clinic_id=clinic_id,
        patient_id=patient.patient_id,
        appointment_id=appointment_id,
        action=action,
        language=templates.lang_of(patient.language),
        created_at=at,
        expires_at=datetime.fromtimestamp(expires + 7 * 86400, UTC),
    ).save(condition=PatientLink.SK.does_not_exist())
    return LINKS.sign(lid, action, appointment_id, expires)


# --- channel choice --------------------------------------------------------------------------


@dataclass
class Route:
    channel: str  # email | whatsapp
    address: str


def whatsapp_number(clinic_id: str, p: Patient) -> str | None:
    return open_sealed(clinic_id, p.whatsapp_sealed) if p.whatsapp_sealed else None


def route_for(
    clinic_id: str, p: Patient, channels: list[str] | None = None
) -> tuple[Route | None, str]:
    """Where to reach the patient (only by ``channels`` when given), or None and why not. A
    patient blocked by a GDPR erasure request is reached by nothing (ADR 1405)."""
    from chalicelib.comms import whatsapp  # noqa: PLC0415

    if p.blocked:
        return None, "blocked"

    order = ["whatsapp", "email"] if p.preferred_channel == "whatsapp" else ["email", "whatsapp"]
    if channels is not None:
        order = [ch for ch in order if ch in channels]
    why = "no_channel"
    for ch in order:
        if ch == "email":
            if not p.email:
                continue
            if not consent_granted(clinic_id, p.patient_id, "email"):
                why = "no_consent"
                continue
            if mail.is_undeliverable(p.email):
                why = "undeliverable"
                continue
            return Route("email", p.email), ""
        if ch == "whatsapp":
            number = whatsapp_number(clinic_id, p)
            if not number or whatsapp.config(clinic_id) is None:
                continue
            if not consent_granted(clinic_id, p.patient_id, "whatsapp"):
                why = "no_consent"
                continue
            return Route("whatsapp", number), ""
    return None, why


# --- appointment notices ---------------------------------------------------------------------


def _ics(kind: str, c: Clinic, p: Patient, a: Appointment) -> tuple[bytes, str] | None:
    # RFC 5545 SEQUENCE: each reschedule raises it, and so does each cancellation and each
    # booking again after one (a CANCEL is one above its request; the request that reinstates
    # the appointment one above that CANCEL), so calendars always keep the newest.
    reinstated = sum(1 for h in (a.status_history or [])[1:] if h.get("status") == "scheduled")
    request_seq = len(a.reschedules or []) + 2 * reinstated
    if kind in ("booking", "reschedule", "reminder"):
        method, seq = "REQUEST", request_seq
    elif kind == "cancellation":
        method, seq = "CANCEL", request_seq + 1
    else:
        return None
    # icalendar loads only when an invitation is built, not with the API (issue 23).
    from chalicelib.comms import ics  # noqa: PLC0415

    brand = templates.Brand.of(c)
    data = ics.build(
        method=method,
        appointment_id=a.appointment_id,
        start=start_utc(a),
        end=end_utc(a),
        sequence=seq,
        summary=f"{c.name}: {a.reason}",
        location=brand.address,
        description=None,
        organizer_email=settings().mail_sender,
        organizer_name=c.name,
        attendee_email=p.email or "",
        attendee_name=patients.full_name(p),
    )
    return data, method


def mime(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    sender_name: str,
    calendar: tuple[bytes, str] | None = None,
    pdf: tuple[str, bytes] | None = None,
) -> bytes:
    """The raw MIME message: text and HTML alternatives, plus an invitation (`calendar`: its
    bytes and iTIP method) or a PDF (`pdf`: its file name and bytes) when given."""
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, settings().mail_sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)  # RFC 5322 3.6: Date and From are required
    msg["Message-ID"] = make_msgid(domain="cuspide.app")
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    if calendar:
        data, method = calendar
        # Inline text/calendar with METHOD for clients that act on iTIP, and the same file as
        # an attachment for the rest (RFC 6047).
        msg.add_alternative(
            data.decode(), subtype="calendar", cte="quoted-printable", params={"method": method}
        )
        msg.add_attachment(data, maintype="application", subtype="ics", filename="invite.ics")
    if pdf:
        name, data = pdf
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes()


def notify_appointment(clinic_id: str, a: Appointment, kind: str) -> Message | None:
    """Send one appointment notice (booking | reminder | reschedule | cancellation | missed)."""
    try:
        p = patients.load(clinic_id, a.patient_id)
    except NotFound:
        return None
    # The clinic chooses which channels reminders use; the other notices use any.
    allowed = reminder_channels(load_settings(clinic_id)) if kind == "reminder" else None
    route, why = route_for(clinic_id, p, allowed)
    if route is None:
        m = new_message(
            clinic_id,
            patient_id=p.patient_id,
            channel="none",
            direction="out",
            kind=kind,
            status="skipped",
            appointment_id=a.appointment_id,
            error={"code": why, "message": tr("not sent", "no enviado"), "retryable": False},
        )
        m.save()
        return m
    if route.channel == "whatsapp":
        from chalicelib.comms import whatsapp  # noqa: PLC0415

        return whatsapp.send_appointment_template(clinic_id, p, a, kind, route.address)
    c = clinic(clinic_id)
    lang = templates.lang_of(p.language)
    confirm = cancel = None
    if kind in LINK_KINDS:
        if a.status == "scheduled":
            confirm = link_url(create_link(clinic_id, p, a.appointment_id, "confirm"))
        cancel = link_url(create_link(clinic_id, p, a.appointment_id, "cancel"))
    cal = _ics(kind, c, p, a)
    r = templates.appointment_email(
        kind,
        brand=templates.Brand.of(c),
        lang=lang,
        patient_name=p.first_name,
        start_local=local_start(a),
        professional=a.professional_name,
        reason=a.reason,
        confirm_url=confirm,
        cancel_url=cancel,
        has_ics=cal is not None,
    )
    raw = mime(
        to=route.address,
        subject=r.subject,
        text=r.text,
        html=r.html,
        sender_name=c.name,
        calendar=cal,
    )
    provider_id = mail.send_raw_email(to=route.address, raw=raw)
    m = new_message(
        clinic_id,
        patient_id=p.patient_id,
        channel="email",
        direction="out",
        kind=kind,
        status="sent",
        appointment_id=a.appointment_id,
        subject=r.subject,
        provider_id=provider_id,
    )
    m.save()
    emit_message_event(clinic_id, m)
    return m


def is_claimed_error(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None) or getattr(exc, "cause", None)
    return "ConditionalCheckFailed" in str(cause) or "ConditionalCheckFailed" in str(exc)


def claim(scope: str, ident: str, ttl: timedelta = timedelta(days=14)) -> bool:
    """True for the first caller only (idempotency of consumers and jobs)."""
    from chalicelib.comms.models import Claim  # noqa: PLC0415

    at = now()
    try:
        Claim(*Claim.key(scope, ident), at=at, expires_at=at + ttl).save(
            condition=Claim.PK.does_not_exist()
        )
        return True
    except PutError as exc:
        if is_claimed_error(exc):
            return False
        raise


def release(scope: str, ident: str) -> None:
    from chalicelib.comms.models import Claim  # noqa: PLC0415

    Claim(*Claim.key(scope, ident)).delete()
