"""Routes of online booking: the clinic's settings (staff) and the public booking page and
widget (ADR 1403). Handlers parse, call one service or page function and shape the response."""

from __future__ import annotations

from chalice import Response
from pydantic import BaseModel, ConfigDict

from chalicelib.booking import page, schemas, service, widget
from chalicelib.core.api import PUBLIC, Req, Router

router = Router("booking")
r = router.route
FORM = "application/x-www-form-urlencoded"
PAGE = "/public/booking/{clinic_id}"


@r(
    "/booking/settings",
    "GET",
    permission="agenda.appointments.read",
    response=schemas.SettingsOut,
    summary="Online booking settings and types, the public link and the widget snippet",
)
def get_booking_settings(req: Req) -> schemas.SettingsOut:
    return service.get_settings(req.user)


@r(
    "/booking/settings",
    "PUT",
    permission="booking.manage",
    body=schemas.SettingsIn,
    response=schemas.SettingsOut,
    summary="Switch online booking on or off and set its types, horizon, notice, buffers and cap",
)
def put_booking_settings(req: Req) -> schemas.SettingsOut:
    return service.put_settings(req.user, req.body)


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lang: str | None = None
    type: str | None = None
    week: str | None = None
    start: str | None = None
    invite: str | None = None
    ref: str | None = None


@r(
    PAGE,
    "GET",
    permission=PUBLIC,
    query=PageQuery,
    produces="text/html",
    summary="The clinic's public booking page (a step; changes nothing)",
    tags=("public",),
)
def booking_page(req: Req, clinic_id: str) -> Response:
    q = {k: v for k, v in req.query.model_dump().items() if isinstance(v, str)}
    return page.view(clinic_id, q, req.headers.get("accept-language"), req.ip)


@r(
    PAGE,
    "POST",
    permission=PUBLIC,
    produces="text/html",
    # Anything else is read as an empty form (a page that says what is missing), not a 415.
    content_types=(FORM, "application/json", "text/plain"),
    summary="The booking page's forms: send a code, verify it, register, book",
    tags=("public",),
)
def booking_page_act(req: Req, clinic_id: str) -> Response:
    return page.act(
        clinic_id, req.raw_body, req.headers.get("accept-language"), req.ip, req.user_agent
    )


@r(
    PAGE + "/widget.js",
    "GET",
    permission=PUBLIC,
    produces="text/javascript",
    summary="The widget a clinic pastes into its website (a button to the booking page)",
    tags=("public",),
)
def booking_widget(req: Req, clinic_id: str) -> Response:
    return widget.script(clinic_id, req.ip)
