"""Communications routes: settings, consent, messages, conversations, WhatsApp connection, the
WhatsApp webhook and the patient's appointment link page."""

from __future__ import annotations

import json

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.comms import public, schemas, service, whatsapp
from chalicelib.core.api import PUBLIC, Page, Req, Router
from chalicelib.core.observability import logger

router = Router("comms")
r = router.route
FORM = "application/x-www-form-urlencoded"


# --- settings and consent --------------------------------------------------------------------


@r(
    "/comms/settings",
    "GET",
    permission="settings.clinic.read",
    response=schemas.SettingsOut,
    summary="Reminder lead times and the end-of-day email",
)
def get_comms_settings(req: Req) -> schemas.SettingsOut:
    return service.get_settings(req.user)


@r(
    "/comms/settings",
    "PUT",
    permission="settings.clinic.write",
    body=schemas.SettingsIn,
    response=schemas.SettingsOut,
    summary="Set reminder lead times and the end-of-day email",
)
def put_comms_settings(req: Req) -> schemas.SettingsOut:
    return service.put_settings(req.user, req.body)


@r(
    "/comms/patients/{patient_id}/consents",
    "GET",
    permission="comms.messages.read",
    response=list[schemas.ConsentOut],
    summary="The patient's consent per channel",
)
def list_consents(req: Req, patient_id: str) -> list[schemas.ConsentOut]:
    return service.list_consents(req.user, patient_id)


@r(
    "/comms/patients/{patient_id}/consents/{channel}",
    "PUT",
    permission="comms.messages.write",
    body=schemas.ConsentIn,
    response=schemas.ConsentOut,
    summary="Record the patient's consent (or its withdrawal) for email or WhatsApp",
)
def set_consent(req: Req, patient_id: str, channel: str) -> schemas.ConsentOut:
    return service.set_consent(req.user, patient_id, channel, req.body)


# --- messages and conversations --------------------------------------------------------------


@r(
    "/comms/messages",
    "GET",
    permission="comms.messages.read",
    query=schemas.ListQuery,
    response=list[schemas.MessageOut],
    paged=True,
    summary="Messages of the clinic, newest first",
)
def list_messages(req: Req) -> Page:
    return service.list_messages(req.user, req.query)


@r(
    "/comms/patients/{patient_id}/messages",
    "GET",
    permission="comms.messages.read",
    query=schemas.ListQuery,
    response=list[schemas.MessageOut],
    paged=True,
    summary="The patient's messages (the conversation), newest first",
)
def patient_messages(req: Req, patient_id: str) -> Page:
    return service.list_messages(req.user, req.query, patient_id)


@r(
    "/comms/conversations",
    "GET",
    permission="comms.messages.read",
    query=schemas.ListQuery,
    response=list[schemas.ConversationOut],
    paged=True,
    summary="WhatsApp conversations, most recent activity first",
)
def list_conversations(req: Req) -> Page:
    return whatsapp.list_conversations(req.user, req.query)


@r(
    "/comms/patients/{patient_id}/whatsapp/reply",
    "POST",
    permission="comms.messages.write",
    body=schemas.ReplyIn,
    response=schemas.MessageOut,
    status=201,
    summary="Free-form WhatsApp reply (only within 24 h of the patient's last message)",
)
def reply(req: Req, patient_id: str) -> schemas.MessageOut:
    return whatsapp.reply(req.user, patient_id, req.body)


@r(
    "/comms/patients/{patient_id}/whatsapp/template",
    "POST",
    permission="comms.messages.write",
    body=schemas.TemplateIn,
    response=schemas.MessageOut,
    status=201,
    summary="Send an approved template about one of the patient's appointments (any time)",
)
def send_template(req: Req, patient_id: str) -> schemas.MessageOut:
    return whatsapp.send_template(req.user, patient_id, req.body)


@r(
    "/comms/patients/{patient_id}/whatsapp/read",
    "POST",
    permission="comms.messages.read",
    status=204,
    summary="Mark the patient's WhatsApp conversation as read (unread back to 0)",
)
def mark_read(req: Req, patient_id: str) -> None:
    whatsapp.mark_read(req.user, patient_id)


# --- WhatsApp connection ---------------------------------------------------------------------


@r(
    "/comms/whatsapp",
    "GET",
    permission="comms.whatsapp.admin",
    response=schemas.WhatsAppOut,
    summary="The clinic's WhatsApp connection (secrets masked) and its webhook URL",
)
def get_whatsapp(req: Req) -> schemas.WhatsAppOut:
    return whatsapp.get_config(req.user)


@r(
    "/comms/whatsapp",
    "PUT",
    permission="comms.whatsapp.admin",
    body=schemas.WhatsAppIn,
    response=schemas.WhatsAppOut,
    summary="Store the clinic's Meta credentials (encrypted)",
)
def put_whatsapp(req: Req) -> schemas.WhatsAppOut:
    return whatsapp.put_config(req.user, req.body)


@r(
    "/comms/whatsapp",
    "DELETE",
    permission="comms.whatsapp.admin",
    status=204,
    summary="Disconnect WhatsApp (nothing is sent or received afterwards)",
)
def delete_whatsapp(req: Req) -> None:
    whatsapp.delete_config(req.user)


@r(
    "/comms/whatsapp/test",
    "POST",
    permission="comms.whatsapp.admin",
    response=schemas.WhatsAppOut,
    summary="Test the connection against the Graph API",
)
def test_whatsapp(req: Req) -> schemas.WhatsAppOut:
    return whatsapp.test_connection(req.user)


# --- public: WhatsApp webhook ----------------------------------------------------------------


class HubQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    mode: str | None = Field(default=None, alias="hub.mode", max_length=40)
    verify_token: str | None = Field(default=None, alias="hub.verify_token", max_length=200)
    challenge: str | None = Field(default=None, alias="hub.challenge", max_length=200)


def _plain(status: int, text: str) -> Response:
    return Response(body=text, status_code=status, headers={"Content-Type": "text/plain"})


@r(
    "/public/whatsapp/{clinic_id}/webhook",
    "GET",
    permission=PUBLIC,
    query=HubQuery,
    produces="text/plain",
    summary="Meta webhook verification (echoes hub.challenge)",
    tags=("public",),
)
def whatsapp_verify(req: Req, clinic_id: str) -> Response:
    q = req.query
    params = {
        "hub.mode": q.mode or "",
        "hub.verify_token": q.verify_token or "",
        "hub.challenge": q.challenge or "",
    }
    try:
        return _plain(200, whatsapp.verify_subscription(clinic_id, params))
    except whatsapp.WebhookRejected as exc:
        return _plain(exc.status, exc.reason)


@r(
    "/public/whatsapp/{clinic_id}/webhook",
    "POST",
    permission=PUBLIC,
    summary="Meta webhook notifications (X-Hub-Signature-256 verified before parsing)",
    tags=("public",),
)
def whatsapp_webhook(req: Req, clinic_id: str) -> Response:
    try:
        counts = whatsapp.handle_webhook(
            clinic_id, req.raw_body, req.headers.get("x-hub-signature-256")
        )
    except whatsapp.WebhookRejected as exc:
        logger.warning("webhook rejected", extra={"reason": exc.reason})
        return Response(
            body=json.dumps({"data": None, "message": exc.reason}),
            status_code=exc.status,
            headers={"Content-Type": "application/json"},
        )
    return Response(
        body=json.dumps({"data": counts, "message": None}),
        status_code=200,
        headers={"Content-Type": "application/json"},
    )


# --- public: the patient's appointment link ---------------------------------------------------


@r(
    "/public/appointments/{token}",
    "GET",
    permission=PUBLIC,
    produces="text/html",
    content_types=(FORM, "application/json", "text/plain"),
    summary="Patient's appointment page (signed link; changes nothing)",
    tags=("public",),
)
def link_page(req: Req, token: str) -> Response:
    return public.view(token, req.ip)


@r(
    "/public/appointments/{token}",
    "HEAD",
    permission=PUBLIC,
    produces="text/html",
    content_types=(FORM, "application/json", "text/plain"),
    summary="Link checkers: empty answer, no effect",
    tags=("public",),
)
def link_head(req: Req, token: str) -> Response:
    return public.head()


@r(
    "/public/appointments/{token}",
    "POST",
    permission=PUBLIC,
    produces="text/html",
    content_types=(FORM, "application/json", "text/plain"),
    summary="Confirm or cancel the appointment (the page's button)",
    tags=("public",),
)
def link_act(req: Req, token: str) -> Response:
    return public.act(token, req.ip, req.user_agent)
