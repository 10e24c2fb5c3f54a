"""WhatsApp Cloud API, per clinic and off by default (docs/adr/0703).

Credentials (access token, app secret, verify token) are sealed with the clinic's data key and
never returned, only masked. ``WaPhone#<phone_number_id>`` routes inbound webhooks to the clinic.
The webhook URL names the clinic; a POST is verified with ``X-Hub-Signature-256`` (HMAC-SHA256 of
the raw body with that clinic's app secret) before anything is parsed or stored, and each change
must come from a phone_number_id that belongs to that same clinic. Inbound messages are
deduplicated by wamid (Meta retries for days). Outbound goes to ``WHATSAPP_GRAPH_URL``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.agenda.models import Appointment
from chalicelib.comms import actions, schemas, service, templates
from chalicelib.comms.models import (
    Conversation,
    Message,
    PatientLink,
    WaMessageRef,
    WaPhone,
    WhatsAppConfig,
)
from chalicelib.core import audit, jsontext, scoping
from chalicelib.core.api import Page, Principal
from chalicelib.core.config import settings
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import clinic_pk, decode_cursor, page, transaction
from chalicelib.core.errors import Conflict, NotFound, TooManyRequests
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.patients import search
from chalicelib.patients.models import Patient, PatientIndex

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
WINDOW = timedelta(hours=24)
TIMEOUT_S = 8
TEMPLATES = {
    "booking": "cuspide_booking_confirmation",
    "reminder": "cuspide_appointment_reminder",
    "reschedule": "cuspide_appointment_rescheduled",
    "cancellation": "cuspide_appointment_cancelled",
    "missed": "cuspide_missed_visit",
}
BUTTON_KINDS = ("booking", "reminder", "reschedule")
TEMPLATE_LANG = {"es": "es_ES", "en": "en_US"}
# Graph API error codes worth retrying later (rate limits, temporary trouble).
RETRYABLE_CODES = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
# Errors that mean the connection itself is broken (Graph API error codes: 190 invalid or
# expired token, 10 and 200-299 permissions). 100 "invalid parameter" usually names one bad
# message (a wrong recipient), so it only breaks the connection when the connection test gets it.
AUTH_CODES = {190, 10, *range(200, 300)}


def graph_url() -> str:
    return (os.environ.get("WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


class GraphError(Exception):
    def __init__(self, code: int, message: str, retryable: bool, status: int = 0) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable, self.status = code, message, retryable, status

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message[:300],
            "retryable": self.retryable,
            "at": now().isoformat(),
        }


class RetryLater(Exception):  # noqa: N818 - a signal to the consumer: fail the record, retry
    pass


# --- configuration -----------------------------------------------------------------------------


def config(clinic_id: str) -> WhatsAppConfig | None:
    try:
        return WhatsAppConfig.get(*WhatsAppConfig.key(clinic_id))
    except DoesNotExist:
        return None


def _mask(value: str) -> str:
    return "••••" + value[-4:] if len(value) > 8 else "••••"


def webhook_url(clinic_id: str) -> str:
    return f"{settings().app_url}/api/v1/public/whatsapp/{clinic_id}/webhook"


def config_out(clinic_id: str, cfg: WhatsAppConfig | None) -> schemas.WhatsAppOut:
    if cfg is None:
        return schemas.WhatsAppOut(connected=False, webhook_url=webhook_url(clinic_id))
    return schemas.WhatsAppOut(
        connected=True,
        phone_number_id=cfg.phone_number_id,
        waba_id=cfg.waba_id,
        display_phone_number=cfg.display_phone_number,
        access_token=_mask(open_sealed(clinic_id, cfg.access_token_sealed)),
        app_secret=_mask(open_sealed(clinic_id, cfg.app_secret_sealed)),
        verify_token=_mask(open_sealed(clinic_id, cfg.verify_token_sealed)),
        status=cfg.status,
        last_error=cfg.last_error,
        last_tested_at=cfg.last_tested_at,
        webhook_url=webhook_url(clinic_id),
        updated_at=cfg.updated_at,
    )


def get_config(principal: Principal) -> schemas.WhatsAppOut:
    return config_out(principal.clinic_id, config(principal.clinic_id))


def put_config(principal: Principal, data: schemas.WhatsAppIn) -> schemas.WhatsAppOut:
    cid = principal.clinic_id
    old = config(cid)
    at = now()
    cfg = WhatsAppConfig(
        *WhatsAppConfig.key(cid),
        phone_number_id=data.phone_number_id,
        waba_id=data.waba_id,
        access_token_sealed=seal(cid, data.access_token),
        app_secret_sealed=seal(cid, data.app_secret),
        verify_token_sealed=seal(cid, data.verify_token),
        status="unverified",
        updated_at=at,
        updated_by=principal.user_id,
    )
    try:
        with transaction() as tx:
            tx.save(cfg)
            if old is None or old.phone_number_id != data.phone_number_id:
                tx.save(
                    WaPhone(*WaPhone.key(data.phone_number_id), clinic_id=cid),
                    condition=WaPhone.PK.does_not_exist() | (WaPhone.clinic_id == cid),
                )
                if old is not None:
                    tx.delete(
                        WaPhone(*WaPhone.key(old.phone_number_id)),
                        condition=WaPhone.clinic_id == cid,
                    )
    except Exception as exc:
        if "ConditionalCheckFailed" in str(getattr(exc, "cause_response_message", "")) or (
            "TransactionCanceled" in str(exc)
        ):
            raise Conflict(
                tr(
                    "That phone_number_id is already connected to another clinic.",
                    "Ese phone_number_id ya está conectado a otra clínica.",
                ),
                code="WHATSAPP_NUMBER_TAKEN",
            ) from exc
        raise
    audit.record(
        cid,
        principal.actor,
        "comms.whatsapp.connected",
        "clinic",
        cid,
        before={
            "phone_number_id": old.phone_number_id if old else None,
            "access_token": "x" if old else None,
        },
        after={"phone_number_id": data.phone_number_id, "access_token": "y"},
    )
    return config_out(cid, cfg)


def delete_config(principal: Principal) -> None:
    cid = principal.clinic_id
    old = config(cid)
    if old is None:
        raise NotFound(
            tr("WhatsApp is not connected.", "WhatsApp no está conectado."),
            code="WHATSAPP_NOT_CONNECTED",
        )
    with transaction() as tx:
        tx.delete(old)
        tx.delete(WaPhone(*WaPhone.key(old.phone_number_id)), condition=WaPhone.clinic_id == cid)
    audit.record(
        cid,
        principal.actor,
        "comms.whatsapp.disconnected",
        "clinic",
        cid,
        before={"phone_number_id": old.phone_number_id},
        after={"phone_number_id": None},
    )


def _record_error(cfg: WhatsAppConfig, err: GraphError, *, testing: bool = False) -> None:
    broken = err.code in AUTH_CODES or err.status in (401, 403) or (testing and not err.retryable)
    status = "error" if broken else cfg.status
    cfg.update(
        actions=[WhatsAppConfig.last_error.set(err.as_dict()), WhatsAppConfig.status.set(status)]
    )


def test_connection(principal: Principal) -> schemas.WhatsAppOut:
    cid = principal.clinic_id
    cfg = config(cid)
    if cfg is None:
        raise NotFound(
            tr("Connect WhatsApp first.", "Conecta WhatsApp primero."),
            code="WHATSAPP_NOT_CONNECTED",
        )
    try:
        info = graph(
            "GET",
            cid,
            cfg,
            f"/{cfg.phone_number_id}",
            query="fields=display_phone_number,verified_name",
        )
    except GraphError as err:
        _record_error(cfg, err, testing=True)
        cfg.last_tested_at = now()
        cfg.update(actions=[WhatsAppConfig.last_tested_at.set(cfg.last_tested_at)])
        return config_out(cid, config(cid))
    cfg.update(
        actions=[
            WhatsAppConfig.status.set("connected"),
            WhatsAppConfig.last_error.set(None),
            WhatsAppConfig.last_tested_at.set(now()),
            WhatsAppConfig.display_phone_number.set(
                str(info.get("display_phone_number") or "")[:30] or None
            ),
        ]
    )
    return config_out(cid, config(cid))


# --- Graph API client --------------------------------------------------------------------------


def graph(
    method: str,
    clinic_id: str,
    cfg: WhatsAppConfig,
    path: str,
    body: dict[str, Any] | None = None,
    query: str = "",
) -> dict[str, Any]:
    token = open_sealed(clinic_id, cfg.access_token_sealed)
    url = graph_url() + path + (f"?{query}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - https/loopback
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read() or b"{}").get("error") or {}
        except ValueError:
            err = {}
        code = int(err.get("code") or 0)
        retryable = exc.code >= 500 or exc.code == 429 or code in RETRYABLE_CODES
        raise GraphError(
            code, str(err.get("message") or f"HTTP {exc.code}"), retryable, exc.code
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise GraphError(0, f"network error: {type(exc).__name__}", True) from None


# --- outbound ----------------------------------------------------------------------------------


def _send(
    clinic_id: str, cfg: WhatsAppConfig, to: str, payload: dict[str, Any], m: Message
) -> Message:
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        **payload,
    }
    try:
        resp = graph("POST", clinic_id, cfg, f"/{cfg.phone_number_id}/messages", body)
    except GraphError as err:
        _record_error(cfg, err)
        if err.retryable:
            raise RetryLater(err.message) from None
        m.status, m.error = "failed", err.as_dict()
        m.status_history = [{"status": "failed", "at": now().isoformat()}]
        m.save()
        service.emit_message_event(clinic_id, m, "message.failed")
        return m
    wamid = str(((resp.get("messages") or [{}])[0]).get("id") or "")
    m.provider_id = wamid or None
    m.save()
    if wamid:
        WaMessageRef(
            *WaMessageRef.key(_h(wamid)), clinic_id=clinic_id, message_id=m.message_id
        ).save()
    service.emit_message_event(clinic_id, m)
    return m


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def send_appointment_template(
    clinic_id: str, p: Patient, a: Appointment, kind: str, to: str
) -> Message:
    cfg = config(clinic_id)
    assert cfg is not None
    c = service.clinic(clinic_id)
    lang = templates.lang_of(p.language)
    params = [
        {"type": "text", "text": p.first_name},
        {"type": "text", "text": c.name},
        {"type": "text", "text": templates.when(service.local_start(a), lang)},
    ]
    components: list[dict[str, Any]] = [{"type": "body", "parameters": params}]
    if kind in BUTTON_KINDS:
        # Quick-reply payloads carry a stored link id: acting on one is the same single-use
        # path as the signed link, and only the verified webhook of this clinic reaches it.
        # The approved template's buttons are fixed: index 0 "Confirm", index 1 "Cancel"
        # (docs/whatsapp-templates.md). Each index always carries its own action: a confirmed
        # appointment's "Confirm" just says it already is, never cancels it.
        buttons = [
            ("confirm", _link_id(clinic_id, p, a, "confirm")),
            ("cancel", _link_id(clinic_id, p, a, "cancel")),
        ]
        for i, (_action, lid) in enumerate(buttons):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(i),
                    "parameters": [{"type": "payload", "payload": f"L:{lid}"}],
                }
            )
    payload = {
        "type": "template",
        "template": {
            "name": TEMPLATES[kind],
            "language": {"code": TEMPLATE_LANG[lang]},
            "components": components,
        },
    }
    m = service.new_message(
        clinic_id,
        patient_id=p.patient_id,
        channel="whatsapp",
        direction="out",
        kind=kind,
        status="sent",
        appointment_id=a.appointment_id,
        subject=TEMPLATES[kind],
    )
    return _send(clinic_id, cfg, to, payload, m)


def _link_id(clinic_id: str, p: Patient, a: Appointment, action: str) -> str:
    token = service.create_link(clinic_id, p, a.appointment_id, action)
    return service.LINKS.verify(token).link_id


def _conversation(clinic_id: str, patient_id: str) -> Conversation | None:
    try:
        return Conversation.get(*Conversation.key(clinic_id, patient_id))
    except DoesNotExist:
        return None


def window_open(conv: Conversation | None, at: datetime | None = None) -> bool:
    return bool(conv and conv.last_inbound_at and (at or now()) - conv.last_inbound_at < WINDOW)


def reply(principal: Principal, patient_id: str, data: schemas.ReplyIn) -> schemas.MessageOut:
    from chalicelib.patients import service as patients  # noqa: PLC0415

    cid = principal.clinic_id
    p = patients.load(cid, patient_id)
    cfg, number = _reachable(cid, p)
    conv = _conversation(cid, patient_id)
    if not window_open(conv):
        raise Conflict(
            tr(
                "Free-form replies are only possible within 24 hours of the patient's last "
                "message; send a template message instead.",
                "Solo puedes responder con texto libre en las 24 horas siguientes al último "
                "mensaje del paciente; envía un mensaje de plantilla.",
            ),
            code="WHATSAPP_WINDOW_CLOSED",
        )
    m = service.new_message(
        cid,
        patient_id=patient_id,
        channel="whatsapp",
        direction="out",
        kind="reply",
        status="sent",
        text=data.text,
    )
    try:
        m = _send(cid, cfg, number, {"type": "text", "text": {"body": data.text}}, m)
    except RetryLater as exc:
        # Meta throttled or had trouble: nothing was stored; the staff try again.
        raise _busy() from exc
    _touch(cid, patient_id, inbound=False, m=m)
    return service.message_out(cid, m)


def _busy() -> TooManyRequests:
    busy = TooManyRequests(
        tr(
            "WhatsApp is busy right now; try again in a minute.",
            "WhatsApp está saturado ahora mismo; inténtalo de nuevo en un minuto.",
        ),
        retry_after=60,
    )
    busy.code = "WHATSAPP_RETRY_LATER"
    return busy


def _reachable(cid: str, p: Patient) -> tuple[WhatsAppConfig, str]:
    """The clinic's connection and the patient's number, or why WhatsApp cannot be used."""
    cfg = config(cid)
    if cfg is None:
        raise Conflict(
            tr(
                "WhatsApp is not connected for this clinic.",
                "WhatsApp no está conectado en esta clínica.",
            ),
            code="WHATSAPP_NOT_CONNECTED",
        )
    number = service.whatsapp_number(cid, p)
    if not number or not service.consent_granted(cid, p.patient_id, "whatsapp"):
        raise Conflict(
            tr(
                "The patient has no WhatsApp number or has not consented to WhatsApp.",
                "El paciente no tiene número de WhatsApp o no ha dado su consentimiento para "
                "WhatsApp.",
            ),
            code="WHATSAPP_NOT_ALLOWED",
        )
    return cfg, number


def _touch(clinic_id: str, patient_id: str, inbound: bool, m: Message | None = None) -> None:
    at = now()
    conv = _conversation(clinic_id, patient_id) or Conversation(
        *Conversation.key(clinic_id, patient_id), patient_id=patient_id, unread=0
    )
    conv.last_activity_at = at
    if m is not None:
        conv.last_text_sealed, conv.last_subject = m.body_sealed, m.subject
        conv.last_direction = m.direction
    if inbound:
        conv.last_inbound_at = at
        conv.unread = int(conv.unread or 0) + 1
    conv.GSI1PK, conv.GSI1SK = Conversation.list_pk(clinic_id), f"{at.isoformat()}#{patient_id}"
    conv.save()


def _last_message(clinic_id: str, patient_id: str) -> Message | None:
    """The patient's newest WhatsApp message (the inbox's preview line)."""
    for m in Message.gsi1.query(
        Message.patient_pk(clinic_id, patient_id), scan_index_forward=False, limit=10
    ):
        if isinstance(m, Message) and m.channel == "whatsapp":
            return m
    return None


def list_conversations(principal: Principal, q: schemas.ListQuery) -> Page:
    from chalicelib.patients import service as patients  # noqa: PLC0415

    cid = principal.clinic_id
    pk = Conversation.list_pk(cid)
    start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
    it = Conversation.gsi1.query(
        pk, scan_index_forward=False, limit=q.limit, last_evaluated_key=start
    )
    items, cursor = page(it)
    convs = [c for c in items if isinstance(c, Conversation)]
    # The inbox shows who and what without one request per row (a page is at most 100).
    people = patients.load_many(cid, [c.patient_id for c in convs if c.patient_id])
    out = []
    for c in convs:
        p = people.get(c.patient_id or "")
        if c.last_direction:
            text = open_sealed(cid, c.last_text_sealed) if c.last_text_sealed else c.last_subject
            direction: str | None = c.last_direction
        else:  # a conversation from before the preview was kept: look it up
            last = _last_message(cid, c.patient_id) if c.patient_id else None
            text = (service.message_out(cid, last).text or last.subject) if last else None
            direction = last.direction if last else None
        is_open = window_open(c)
        out.append(
            schemas.ConversationOut(
                patient_id=c.patient_id or "",
                patient_name=patients.full_name(p) if p else None,
                last_inbound_at=c.last_inbound_at,
                last_activity_at=c.last_activity_at,
                unread=int(c.unread or 0),
                window_open=is_open,
                window_closes_at=c.last_inbound_at + WINDOW
                if is_open and c.last_inbound_at
                else None,
                last_text=text,
                last_direction=direction,
            )
        )
    return Page(out, cursor)


def mark_read(principal: Principal, patient_id: str) -> None:
    """The staff opened the conversation: its unread count goes back to zero."""
    cid = principal.clinic_id
    conv = _conversation(cid, patient_id)
    if conv is None:
        raise NotFound(
            tr(
                "No WhatsApp conversation with this patient.",
                "No hay conversación de WhatsApp con este paciente.",
            ),
            code="NO_CONVERSATION",
        )
    if conv.unread:
        # Only the counter: the list keeps its order (last activity), nothing else changes.
        conv.update(actions=[Conversation.unread.set(0)])


def send_template(
    principal: Principal, patient_id: str, data: schemas.TemplateIn
) -> schemas.MessageOut:
    """Outside the 24-hour window only an approved template reaches the patient: staff pick
    one about one of the patient's appointments (docs/whatsapp-templates.md)."""
    from chalicelib.patients import service as patients  # noqa: PLC0415

    cid = principal.clinic_id
    p = patients.load(cid, patient_id)
    number = _reachable(cid, p)[1]
    try:
        a = Appointment.get(*Appointment.key(cid, data.appointment_id))
    except DoesNotExist:
        a = None
    if a is None or a.patient_id != patient_id:
        raise NotFound(
            tr("No such appointment for this patient.", "Este paciente no tiene esa cita."),
            code="APPOINTMENT_NOT_FOUND",
        )
    try:
        m = send_appointment_template(cid, p, a, data.kind, number)
    except RetryLater as exc:
        raise _busy() from exc
    _touch(cid, patient_id, inbound=False, m=m)
    return service.message_out(cid, m)


# --- webhook -----------------------------------------------------------------------------------


class WebhookRejected(Exception):  # noqa: N818 - a reason, answered as a status
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def verify_subscription(clinic_id: str, params: dict[str, str]) -> str:
    """GET verification: echo hub.challenge when hub.verify_token matches this clinic's."""
    cfg = _adopted_config(clinic_id)
    if cfg is None:
        raise WebhookRejected(404, "unknown webhook")
    expected = open_sealed(clinic_id, cfg.verify_token_sealed)
    given = params.get("hub.verify_token") or ""
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        expected.encode(), given.encode()
    ):
        raise WebhookRejected(403, "verification failed")
    challenge = params.get("hub.challenge") or ""
    if not challenge or len(challenge) > 200:
        raise WebhookRejected(400, "missing challenge")
    return challenge


def _plausible_id(clinic_id: str) -> bool:
    return 10 <= len(clinic_id) <= 40 and clinic_id.replace("-", "").isalnum()


def _adopted_config(clinic_id: str) -> WhatsAppConfig | None:
    """The configuration of the clinic the webhook's path names, read (like all the rest of
    the request) with that clinic's credentials (ADR 0012); None for an implausible id."""
    if not (_plausible_id(clinic_id) and scoping.is_plain_id(clinic_id)):
        return None
    scoping.adopt(clinic_id)
    return config(clinic_id)


def check_signature(clinic_id: str, raw: bytes, header: str | None) -> WhatsAppConfig:
    """The clinic's config when ``X-Hub-Signature-256`` is the HMAC of ``raw``; else reject."""
    cfg = _adopted_config(clinic_id)
    if cfg is None:
        raise WebhookRejected(404, "unknown webhook")
    if not header or not header.startswith("sha256=") or len(header) != 71:
        raise WebhookRejected(401, "missing or malformed signature")
    secret = open_sealed(clinic_id, cfg.app_secret_sealed).encode()
    expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.lower().encode()):
        raise WebhookRejected(401, "bad signature")
    return cfg


def handle_webhook(clinic_id: str, raw: bytes, signature: str | None) -> dict[str, int]:
    """Verify, then store what the notification carries. Never raises after verification for
    content problems (Meta would retry forever); returns counts."""
    cfg = check_signature(clinic_id, raw, signature)
    counts = {"messages": 0, "duplicates": 0, "statuses": 0, "ignored": 0}
    try:
        doc = jsontext.loads(raw)
    except (ValueError, UnicodeDecodeError):
        counts["ignored"] += 1
        return counts
    if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
        counts["ignored"] += 1
        return counts
    for entry in doc.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            pnid = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if not _routes_to(pnid, clinic_id) or pnid != cfg.phone_number_id:
                counts["ignored"] += 1
                continue
            for msg in value.get("messages") or []:
                if _inbound(clinic_id, msg):
                    counts["messages"] += 1
                else:
                    counts["duplicates"] += 1
            for st in value.get("statuses") or []:
                counts["statuses"] += _status(clinic_id, st)
    return counts


def _routes_to(phone_number_id: str, clinic_id: str) -> bool:
    if not phone_number_id:
        return False
    try:
        return WaPhone.get(*WaPhone.key(phone_number_id)).clinic_id == clinic_id
    except DoesNotExist:
        return False


def patient_by_number(clinic_id: str, wa_number: str) -> Patient | None:
    """The clinic's patient whose WhatsApp number (or phone) is ``wa_number``."""
    try:
        e164 = search.normalise_phone("+" + wa_number.lstrip("+"))
    except ValueError:
        return None
    digest = search.blind(clinic_id, "phone", e164)
    ids = [
        i.patient_id
        for i in PatientIndex.query(
            clinic_pk(clinic_id), PatientIndex.SK.startswith(f"PIDX#P#{digest}#")
        )
    ]
    from chalicelib.patients import service as patients  # noqa: PLC0415

    found = patients.load_many(clinic_id, ids)
    ranked = sorted(
        found.values(),
        key=lambda p: (service.whatsapp_number(clinic_id, p) != e164, bool(p.archived)),
    )
    return ranked[0] if ranked else None


def _inbound(clinic_id: str, msg: dict[str, Any]) -> bool:
    wamid = str(msg.get("id") or "")
    if not wamid:
        return False
    if not service.claim("wa-in", _h(f"{clinic_id}|{wamid}"), ttl=timedelta(days=30)):
        return False
    sender = str(msg.get("from") or "")
    p = patient_by_number(clinic_id, sender) if sender else None
    mtype = str(msg.get("type") or "")
    text, payload = None, None
    if mtype == "text":
        text = str((msg.get("text") or {}).get("body") or "")[:4096]
    elif mtype == "button":
        payload = str((msg.get("button") or {}).get("payload") or "")
        text = str((msg.get("button") or {}).get("text") or "")[:200]
    elif mtype == "interactive":
        br = (msg.get("interactive") or {}).get("button_reply") or {}
        payload, text = str(br.get("id") or ""), str(br.get("title") or "")[:200]
    else:
        text = f"[{mtype}]"
    m = service.new_message(
        clinic_id,
        patient_id=p.patient_id if p else None,
        channel="whatsapp",
        direction="in",
        kind="inbound",
        status="received",
        text=text or None,
    )
    m.provider_id = wamid
    m.save()
    if p is not None:
        _touch(clinic_id, p.patient_id, inbound=True, m=m)
        if payload and payload.startswith("L:"):
            _button(clinic_id, p, payload[2:])
    service.emit_message_event(clinic_id, m, "message.received")
    return True


def _button(clinic_id: str, p: Patient, link_id: str) -> None:
    """A quick reply acts like the signed link it stands for (same single-use path)."""
    try:
        link = PatientLink.get(*PatientLink.key(link_id[:26]), consistent_read=True)
    except DoesNotExist:
        return
    if link.clinic_id != clinic_id or link.patient_id != p.patient_id:
        return
    if (now() - link.created_at) > timedelta(seconds=48 * 3600):
        return
    try:
        actions.perform(link, None, "whatsapp", via="whatsapp")
    except actions.LinkProblem as exc:
        logger.info("whatsapp button not applied", extra={"reason": exc.reason})


STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def _status(clinic_id: str, st: dict[str, Any]) -> int:
    wamid = str(st.get("id") or "")
    status = str(st.get("status") or "")
    if not wamid or status not in STATUS_ORDER:
        return 0
    try:
        ref = WaMessageRef.get(*WaMessageRef.key(_h(wamid)))
    except DoesNotExist:
        return 0
    if ref.clinic_id != clinic_id:
        return 0
    try:
        m = Message.get(*Message.key(clinic_id, ref.message_id))
    except DoesNotExist:
        return 0
    if any(h.get("status") == status for h in m.status_history or []):
        return 0  # duplicate delivery of the same status
    hist = [*(m.status_history or []), {"status": status, "at": now().isoformat()}]
    actions_ = [Message.status_history.set(hist), Message.updated_at.set(now())]
    if STATUS_ORDER[status] >= STATUS_ORDER.get(m.status, 0):
        actions_.append(Message.status.set(status))
    if status == "failed":
        errs = st.get("errors") or [{}]
        actions_.append(
            Message.error.set(
                {
                    "code": errs[0].get("code"),
                    "message": str(errs[0].get("title") or "")[:200],
                    "retryable": False,
                }
            )
        )
    m.update(actions=actions_)
    return 1
