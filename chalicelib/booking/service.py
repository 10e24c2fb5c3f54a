"""Online booking rules: the clinic's settings and types (staff), and what the public page does
(slot search, the email code, identifying or registering the patient, the booking itself).

The page acts as a system actor (:class:`OnlinePrincipal`, actor type ``online``) that holds no
permission: its bookings go through the agenda's own write path (``agenda.service.create`` with
``source="online"``), so the slot locks and the patient guard make a double booking impossible
and it can never book outside hours or in the past. Settings: ADR 1403; codes and limits: 1402.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.agenda import schemas as agenda_schemas
from chalicelib.agenda import service as agenda
from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.booking import schemas, slots
from chalicelib.booking.invites import booking_page_url
from chalicelib.booking.models import BookingCode, BookingPrivacy, BookingSettings
from chalicelib.comms import service as comms
from chalicelib.core import audit, mail
from chalicelib.core.api import Principal
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.links import InvalidLink, LinkSigner
from chalicelib.identity.models import Clinic
from chalicelib.patients import search
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient, PatientIndex
from chalicelib.patients.schemas import PatientIn

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
SESSION_TTL_S = 30 * 60
PRIVACY_VERSION = "2026-12"
# A verified contact: "patient" (subject = the patient) or "new" (subject = the code: register)
SESSIONS = LinkSigner("booking-session", ("patient", "new"))


@dataclass
class OnlinePrincipal(Principal):
    """The public booking page acting in one clinic: no permission, its own actor."""

    @property
    def actor(self) -> dict[str, Any]:
        return {
            "type": "online",
            "id": "online",
            "name": "Online booking",
            "ip": self.ip,
            "user_agent": self.user_agent,
        }


def online_principal(clinic: Clinic, ip: str | None, ua: str | None) -> OnlinePrincipal:
    return OnlinePrincipal(
        user_id="online",
        clinic_id=clinic.clinic_id,
        session_id="",
        role="online",
        plan=clinic.plan or "free",
        permissions=frozenset(),
        name="Online booking",
        ip=ip,
        user_agent=(ua or "")[:200] or None,
    )


# --- settings (staff) ----------------------------------------------------------------------


def load_settings(clinic_id: str) -> BookingSettings:
    try:
        return BookingSettings.get(*BookingSettings.key(clinic_id), consistent_read=True)
    except DoesNotExist:
        return BookingSettings(*BookingSettings.key(clinic_id), types=[], embed_origins=[])


def widget_snippet(clinic_id: str) -> str:
    src = f"{booking_page_url(clinic_id)}/widget.js"
    return f'<script src="{src}" async></script>'


def _out(clinic_id: str, s: BookingSettings) -> schemas.SettingsOut:
    return schemas.SettingsOut(
        enabled=bool(s.enabled),
        horizon_days=int(s.horizon_days or 60),
        min_notice_hours=int(s.min_notice_hours or 0),
        buffer_min=int(s.buffer_min or 0),
        max_pending=int(s.max_pending or 2),
        types=[schemas.BookingTypeOut(**t) for t in (s.types or [])],
        embed_origins=list(s.embed_origins or []),
        public_url=booking_page_url(clinic_id),
        widget_snippet=widget_snippet(clinic_id),
        version=int(s.version or 0),
    )


def get_settings(principal: Principal) -> schemas.SettingsOut:
    return _out(principal.clinic_id, load_settings(principal.clinic_id))


def _field(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "message": message}])


def put_settings(principal: Principal, data: schemas.SettingsIn) -> schemas.SettingsOut:
    cid = principal.clinic_id
    pros = {m.user_id for m in agenda.professionals(cid)}
    cabs = {c.cabinet_id for c in agenda.cabinets(cid) if c.active}
    types: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, t in enumerate(data.types):
        bad_pro = [p for p in t.professional_ids if p not in pros]
        if bad_pro:
            raise _field(
                f"types.{i}.professional_ids",
                tr(
                    "includes someone who is not an active professional of this clinic",
                    "incluye a alguien que no es un profesional en activo de esta clínica",
                ),
            )
        if any(c not in cabs for c in t.cabinet_ids):
            raise _field(
                f"types.{i}.cabinet_ids",
                tr(
                    "includes a cabinet that is not an active cabinet of this clinic",
                    "incluye un gabinete que no es un gabinete activo de esta clínica",
                ),
            )
        tid = t.type_id or new_id().lower()[-10:]
        if tid in seen:
            raise _field(f"types.{i}.type_id", tr("is repeated", "está repetido"))
        seen.add(tid)
        types.append({**t.model_dump(mode="json"), "type_id": tid})
    s = load_settings(cid)
    before = _out(cid, s).model_dump(mode="json", exclude={"public_url", "widget_snippet"})
    version = int(s.version or 0)
    s.enabled, s.horizon_days, s.min_notice_hours = (
        data.enabled,
        data.horizon_days,
        data.min_notice_hours,
    )
    s.buffer_min, s.max_pending, s.types = data.buffer_min, data.max_pending, types
    s.embed_origins, s.updated_at, s.version = data.embed_origins, now(), version + 1
    condition = (
        BookingSettings.SK.does_not_exist() if version == 0 else BookingSettings.version == version
    )
    try:
        s.save(condition=condition)
    except PutError as exc:
        raise Conflict(
            tr(
                "The online booking settings changed meanwhile; reload and try again.",
                "Los ajustes de reserva online han cambiado mientras tanto; recarga e "
                "inténtalo de nuevo.",
            ),
            code="BOOKING_SETTINGS_CHANGED",
        ) from exc
    out = _out(cid, s)
    after = out.model_dump(mode="json", exclude={"public_url", "widget_snippet"})
    audit.record(
        cid,
        principal.actor,
        "booking.settings.updated",
        "booking",
        "settings",
        before=before,
        after=after,
    )
    return out


# --- the public page: context and slots ----------------------------------------------------


class Closed(Exception):  # noqa: N818 - a page reason
    """The page cannot be shown: ``unknown`` clinic or booking ``off``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Context:
    clinic: Clinic
    settings: BookingSettings
    tz: ZoneInfo

    @property
    def clinic_id(self) -> str:
        return str(self.clinic.clinic_id)

    def types(self) -> list[dict[str, Any]]:
        return [t for t in (self.settings.types or []) if t.get("active", True)]

    def type(self, type_id: str | None) -> dict[str, Any] | None:
        return next((t for t in self.types() if t["type_id"] == type_id), None)

    def today(self) -> date:
        return now().astimezone(self.tz).date()

    def last_day(self) -> date:
        return self.today() + timedelta(days=int(self.settings.horizon_days or 60))

    def rules(self, t: dict[str, Any]) -> slots.Rules:
        return slots.Rules(
            duration_min=int(t["duration_min"]),
            professional_ids=list(t["professional_ids"]),
            cabinet_ids=list(t["cabinet_ids"]),
            buffer_min=int(self.settings.buffer_min or 0),
            earliest=now().astimezone(UTC)
            + timedelta(hours=int(self.settings.min_notice_hours or 0)),
            last_day=self.last_day(),
        )


def context(clinic_id: str) -> Context:
    try:
        c = Clinic.get(*Clinic.key(clinic_id))
    except DoesNotExist as exc:
        raise Closed("unknown") from exc
    s = load_settings(clinic_id)
    if not s.enabled or not [t for t in (s.types or []) if t.get("active", True)]:
        raise Closed("off")
    return Context(c, s, ZoneInfo(c.time_zone))


def _busy(clinic_id: str, lo: datetime, hi: datetime) -> list[slots.Busy]:
    # From MAX_DURATION before: an appointment that began earlier may still run (one Query).
    since = lo - timedelta(minutes=agenda_schemas.MAX_DURATION_MIN)
    return [
        slots.Busy(
            agenda.parse_utc(a.start_utc),
            agenda.parse_utc(a.end_utc),
            a.professional_id,
            a.cabinet_id,
        )
        for a in agenda.live_between(clinic_id, agenda.utc_iso(since), agenda.utc_iso(hi))
    ]


def free_days(
    ctx: Context, t: dict[str, Any], first: date, n: int = 7
) -> dict[date, list[slots.Slot]]:
    """The offered starts of ``n`` days from ``first``: one read of the hours, one Query of the
    holidays and one of the clinic time index, whatever the clinic's data (issue 23)."""
    days = [first + timedelta(days=i) for i in range(n)]
    lo_s, hi_s = agenda.day_bounds_utc(first, ctx.tz, n)
    busy = _busy(ctx.clinic_id, agenda.parse_utc(lo_s), agenda.parse_utc(hi_s))
    hours = agenda.opening_hours(ctx.clinic_id)
    holidays = agenda.holidays_between(ctx.clinic_id, days[0], days[-1])
    return slots.free_slots(days, ctx.tz, hours, holidays, busy, ctx.rules(t))


def parse_start(ctx: Context, value: str | None) -> datetime | None:
    """A start from the page (``2026-12-09T10:30`` local), or None when malformed."""
    try:
        dt = datetime.strptime(value or "", "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return agenda.localise(dt, ctx.tz) if dt.year < 2100 else None


def offered(ctx: Context, t: dict[str, Any], start: datetime) -> bool:
    day = start.date()
    return any(s.start == start for s in free_days(ctx, t, day, 1)[day])


# --- codes and sessions --------------------------------------------------------------------


class CodeProblem(Exception):  # noqa: N818 - a page reason
    """``expired`` (or unknown / used / too many attempts: a new code is needed) or ``wrong``."""

    def __init__(self, reason: str, left: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.left = reason, left


def _code_hash(code_id: str, code: str) -> str:
    return hashlib.sha256(f"{code_id}:{code}".encode()).hexdigest()


CODE_TEXT = {
    "es": (
        "Su código para reservar en {clinic}",
        "Su código para reservar cita en {clinic} es: {code}\n\nCaduca en 10 minutos. Si no lo "
        "ha pedido usted, ignore este mensaje.",
    ),
    "en": (
        "Your booking code for {clinic}",
        "Your code to book an appointment at {clinic} is: {code}\n\nIt expires in 10 minutes. "
        "If you did not ask for it, ignore this message.",
    ),
}


def send_code(ctx: Context, email: str, lang: str) -> str:
    """Send a 6-digit code to ``email`` and return the code's id. The same answer whether or
    not the address is a patient's (the page never tells)."""
    code_id, code, at = new_id(), f"{secrets.randbelow(10**6):06d}", now()
    BookingCode(
        *BookingCode.key(ctx.clinic_id, code_id),
        code_id=code_id,
        email=search.normalise_email(email),
        code_hash=_code_hash(code_id, code),
        attempts=0,
        valid_until=at + CODE_TTL,
        created_at=at,
        expires_at=at + timedelta(days=1),
    ).save(condition=BookingCode.SK.does_not_exist())
    subject, text = CODE_TEXT["en" if lang == "en" else "es"]
    name = ctx.clinic.name
    if not mail.is_undeliverable(email):
        body = text.format(clinic=name, code=code)
        mail.send(
            to=email,
            subject=subject.format(clinic=name),
            text=body,
            html=f"<p>{body.replace(chr(10), '<br>')}</p>",
        )
    return code_id


def _patient_by_email(clinic_id: str, email: str) -> str | None:
    """The one live patient of this clinic with this email (the patient index, no Scan)."""
    prefix = f"{patients.IDX}E#{search.blind(clinic_id, 'email', search.normalise_email(email))}#"
    ids = [
        i.patient_id
        for i in PatientIndex.query(clinic_pk(clinic_id), PatientIndex.SK.startswith(prefix))
    ]
    live = [p for p in patients.load_many(clinic_id, ids).values() if not (p.archived or p.blocked)]
    return live[0].patient_id if len(live) == 1 else None


def verify_code(ctx: Context, code_id: str, code: str) -> str:
    """A session token once the code is right (single use; :data:`MAX_ATTEMPTS` tries)."""
    cid = ctx.clinic_id
    try:
        item = BookingCode.get(*BookingCode.key(cid, code_id), consistent_read=True)
    except (DoesNotExist, ValueError) as exc:
        raise CodeProblem("expired") from exc
    if item.used_at is not None or item.valid_until <= now() or item.attempts >= MAX_ATTEMPTS:
        raise CodeProblem("expired")
    right = hmac.compare_digest(item.code_hash, _code_hash(code_id, code.strip()))
    if not right:
        try:
            item.update(
                actions=[BookingCode.attempts.add(1)],
                condition=BookingCode.attempts < MAX_ATTEMPTS,
            )
        except UpdateError as exc:
            raise CodeProblem("expired") from exc
        left = MAX_ATTEMPTS - int(item.attempts)
        raise CodeProblem("wrong" if left > 0 else "expired", left)
    pid = _patient_by_email(cid, item.email)
    try:
        item.update(
            actions=[BookingCode.used_at.set(now()), BookingCode.patient_id.set(pid)]
            if pid
            else [BookingCode.used_at.set(now())],
            condition=BookingCode.used_at.does_not_exist(),
        )
    except UpdateError as exc:
        raise CodeProblem("expired") from exc
    exp = int(time.time()) + SESSION_TTL_S
    if pid:
        return SESSIONS.sign(code_id, "patient", pid, exp)
    return SESSIONS.sign(code_id, "new", code_id, exp)


@dataclass
class Who:
    """Who is booking: a known patient, or a verified email that will register."""

    patient_id: str | None
    code_id: str | None = None
    ref_ok: bool = False  # identified by an invitation (ref applies)


def from_session(ctx: Context, token: str) -> Who:
    try:
        claims = SESSIONS.verify(token)
    except InvalidLink as exc:
        raise CodeProblem("expired") from exc
    try:
        item = BookingCode.get(
            *BookingCode.key(ctx.clinic_id, claims.link_id), consistent_read=True
        )
    except DoesNotExist as exc:  # another clinic's session
        raise CodeProblem("expired") from exc
    if claims.action == "patient":
        if item.patient_id != claims.subject_id:
            raise CodeProblem("expired")
        return Who(claims.subject_id, claims.link_id)
    return Who(item.patient_id, claims.link_id)  # registered already with this code, or None


def from_invite(ctx: Context, token: str) -> Who:
    """The invited patient, if the invitation is genuine, unexpired, of this clinic's live
    patient; :class:`InvalidLink` (``tampered``/``expired``/``malformed``) otherwise."""
    from chalicelib.booking.invites import verify_invite

    claims = verify_invite(token)
    try:
        p = Patient.get(*Patient.key(ctx.clinic_id, claims.subject_id))
    except DoesNotExist as exc:
        raise InvalidLink("tampered") from exc
    if p.archived or p.blocked:  # blocked: a GDPR erasure request (ADR 1405)
        raise InvalidLink("expired")
    return Who(p.patient_id, ref_ok=True)


def email_of_code(ctx: Context, code_id: str) -> str:
    return BookingCode.get(*BookingCode.key(ctx.clinic_id, code_id), consistent_read=True).email


# --- registration and booking --------------------------------------------------------------


class Refused(Exception):  # noqa: N818 - a page reason
    """``taken`` (the slot went meanwhile), ``cap`` (too many pending), ``gone`` (no longer
    offered), ``invalid`` (the form: ``errors``)."""

    def __init__(self, reason: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason)
        self.reason, self.errors = reason, errors or []


def register(
    ctx: Context,
    principal: OnlinePrincipal,
    code_id: str,
    form: dict[str, str],
    lang: str,
) -> str:
    """Create the patient behind a verified email (once per code) with their consents."""
    item = BookingCode.get(*BookingCode.key(ctx.clinic_id, code_id), consistent_read=True)
    if item.patient_id:
        return str(item.patient_id)
    if form.get("privacy") != "yes":
        raise Refused(
            "invalid",
            [{"field": "privacy", "problem": "required"}],
        )
    try:
        data = PatientIn(
            first_name=form.get("first_name", ""),
            last_name=form.get("last_name", ""),
            date_of_birth=form.get("date_of_birth", ""),
            phone=form.get("phone") or None,
            email=item.email,
            language="en" if lang == "en" else "es",
            preferred_channel="email",
            confirm_duplicate=True,  # never tell the page that someone else exists
        )
    except Exception as exc:  # noqa: BLE001 - pydantic or our own validation: a form error
        errors = getattr(exc, "errors", None)
        fields = []
        if callable(errors):
            for e in errors():
                loc = e.get("loc") or ("form",)
                missing = e.get("type") in ("missing", "string_too_short")
                fields.append(
                    {
                        "field": str(loc[0]) if loc else "form",
                        "problem": "required" if missing else "not_valid",
                    }
                )
        raise Refused("invalid", fields or [{"field": "form", "problem": "not_valid"}]) from exc
    out = patients.create(principal, data)
    pid = out.patient_id
    # A twin request may have registered first: both records stay for the front desk.
    with contextlib.suppress(UpdateError):
        item.update(
            actions=[BookingCode.patient_id.set(pid)],
            condition=BookingCode.patient_id.does_not_exist(),
        )
    at = now()
    BookingPrivacy(
        *BookingPrivacy.key(ctx.clinic_id, pid),
        patient_id=pid,
        accepted_at=at,
        text_version=PRIVACY_VERSION,
        ip=principal.ip,
    ).save()
    audit.record(
        ctx.clinic_id,
        principal.actor,
        "booking.privacy_accepted",
        "patient",
        pid,
        after={"text_version": PRIVACY_VERSION, "at": at.isoformat()},
    )
    comms.record_consent(
        ctx.clinic_id,
        pid,
        "email",
        form.get("email_consent") == "yes",
        "online_booking",
        principal.actor,
    )
    return pid


def pending_online(ctx: Context, patient_id: str) -> int:
    """The patient's upcoming online bookings not yet confirmed (one Query of GSI2)."""
    lo = agenda.utc_iso(now())
    hi = agenda.utc_iso(now() + timedelta(days=int(ctx.settings.horizon_days or 60) + 2))
    found = Item.gsi2.query(patient_index(ctx.clinic_id, patient_id), Item.GSI2SK.between(lo, hi))
    return sum(
        1
        for a in found
        if isinstance(a, Appointment) and a.source == "online" and a.status == "scheduled"
    )


def book(
    ctx: Context,
    principal: OnlinePrincipal,
    patient_id: str,
    t: dict[str, Any],
    start: datetime,
    ref: str | None,
) -> agenda_schemas.AppointmentOut:
    if pending_online(ctx, patient_id) >= int(ctx.settings.max_pending or 2):
        raise Refused("cap")
    day = start.date()
    lo_s, hi_s = agenda.day_bounds_utc(day, ctx.tz, 1)
    busy = _busy(ctx.clinic_id, agenda.parse_utc(lo_s), agenda.parse_utc(hi_s))
    rules = ctx.rules(t)
    offered_now = slots.free_slots(
        [day],
        ctx.tz,
        agenda.opening_hours(ctx.clinic_id),
        agenda.holidays_between(ctx.clinic_id, day, day),
        busy,
        rules,
    )[day]
    if not any(s.start == start for s in offered_now):
        raise Refused("gone")
    last: Exception | None = None
    for pro, cab in slots.pairs_for(start, busy, rules)[:4]:
        data = agenda_schemas.AppointmentIn(
            patient_id=patient_id,
            professional_id=pro,
            cabinet_id=cab,
            start=start.replace(tzinfo=None),
            duration_min=int(t["duration_min"]),
            reason=t["reason"],
            colour=t.get("colour"),
        )
        try:
            return agenda.create(principal, data, source="online", booking_ref=(ref or None))
        except Conflict as exc:
            last = exc
            if getattr(exc, "code", None) == "APPOINTMENT_CONFLICT" and (
                (getattr(exc, "data", None) or {}).get("resource") == "patient"
            ):
                raise Refused("patient_busy") from exc
        except (Unprocessable, NotFound) as exc:
            raise Refused("gone") from exc
    raise Refused("taken") from last
