"""The patient's appointment page behind a signed link (HTML served by the API).

GET shows what the link will do (branded, in the patient's language) and changes nothing, so
mail scanners and link previews that prefetch it cannot confirm or cancel anything; HEAD answers
with no body and no effect; the POST from the page's button performs the action. Every problem
(malformed, tampered, expired, reused, no longer possible, too many requests) is a page that
says so, never a 5xx. Rate limits count per client address.
"""

from __future__ import annotations

from chalice import Response

from chalicelib.agenda.models import Appointment
from chalicelib.comms import actions, service, templates
from chalicelib.comms.models import PatientLink
from chalicelib.core import htmlpage, ratelimit, scoping
from chalicelib.core.errors import TooManyRequests
from chalicelib.core.htmlpage import esc as _e
from chalicelib.core.links import InvalidLink
from chalicelib.core.observability import logger
from chalicelib.identity.models import Clinic

VIEWS_PER_IP_PER_HOUR = 120
POSTS_PER_IP_PER_HOUR = 20

TEXT = {
    "es": {
        "title": "Su cita",
        "confirm_q": "¿Confirma su asistencia a esta cita?",
        "cancel_q": "¿Quiere cancelar esta cita?",
        "confirm_btn": "Sí, confirmo la cita",
        "cancel_btn": "Sí, cancelar la cita",
        "when": "Fecha y hora",
        "with": "Con",
        "done_confirm": "Gracias. Su cita está confirmada.",
        "done_cancel": "Su cita ha sido cancelada. Si quiere otra fecha, contacte con la clínica.",
        "already_confirm": "Esta cita ya estaba confirmada.",
        "already_cancel": "Esta cita ya estaba cancelada.",
        "not_possible": "Esta cita ya no se puede cambiar desde aquí. Contacte con la clínica.",
        "malformed": "Este enlace no es válido.",
        "tampered": "Este enlace no es válido.",
        "expired": "Este enlace ha caducado. Contacte con la clínica.",
        "used": "Este enlace ya se ha utilizado.",
        "too_many": "Demasiadas solicitudes. Inténtelo más tarde.",
        "error": "No hemos podido completar la operación. Inténtelo de nuevo en unos minutos.",
    },
    "en": {
        "title": "Your appointment",
        "confirm_q": "Do you confirm you will attend this appointment?",
        "cancel_q": "Do you want to cancel this appointment?",
        "confirm_btn": "Yes, I confirm",
        "cancel_btn": "Yes, cancel the appointment",
        "when": "Date and time",
        "with": "With",
        "done_confirm": "Thank you. Your appointment is confirmed.",
        "done_cancel": "Your appointment is cancelled. Contact the clinic for a new time.",
        "already_confirm": "This appointment was already confirmed.",
        "already_cancel": "This appointment was already cancelled.",
        "not_possible": "This appointment can no longer be changed here. Contact the clinic.",
        "malformed": "This link is not valid.",
        "tampered": "This link is not valid.",
        "expired": "This link has expired. Please contact the clinic.",
        "used": "This link has already been used.",
        "too_many": "Too many requests. Try again later.",
        "error": "We could not complete this. Please try again in a few minutes.",
    },
}
STATUS = {
    "malformed": 404,
    "tampered": 404,
    "expired": 410,
    "used": 410,
    "not_possible": 409,
    "too_many": 429,
    "error": 503,
}


def page(
    body: str, *, lang: str = "es", brand: templates.Brand | None = None, status: int = 200
) -> Response:
    brand = brand or templates.Brand(name="Cúspide")
    logo = (
        f'<img src="{_e(brand.logo_url)}" alt="" height="36" style="vertical-align:middle;'
        f'margin-right:10px">'
        if brand.logo_url
        else ""
    )
    doc = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">
<title>{_e(brand.name)}</title><style>
body{{font-family:system-ui,sans-serif;margin:0;color:#171717;background:#fafafa}}
header{{background:{_e(brand.colour)};color:#fff;padding:16px 20px;font-size:20px;font-weight:600}}
main{{max-width:560px;margin:0 auto;padding:20px}}
.box{{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:16px;margin:12px 0}}
button{{background:{_e(brand.colour)};color:#fff;border:0;border-radius:6px;
padding:12px 18px;font-size:16px}}
td{{padding:4px 12px 4px 0}}</style></head>
<body><header>{logo}{_e(brand.name)}</header><main>{body}</main></body></html>"""
    return htmlpage.response(doc, status=status, img="https: data:")


def message(reason: str, lang: str = "es", brand: templates.Brand | None = None) -> Response:
    t = TEXT[templates.lang_of(lang)]
    body = f"<div class='box'><p>{_e(t.get(reason, t['malformed']))}</p></div>"
    return page(body, lang=lang, brand=brand, status=STATUS.get(reason, 200))


def too_many(exc: TooManyRequests, lang: str, brand: templates.Brand | None) -> Response:
    resp = message("too_many", lang, brand)
    resp.headers["Retry-After"] = str(max(1, exc.retry_after))
    return resp


def _limit(kind: str, ip: str | None, limit: int) -> None:
    ratelimit.hit(
        f"appt-link-{kind}",
        ip or "unknown",
        limit=limit,
        window_s=3600,
        message="Too many requests; try again later.",
    )


def _resolve(token: str) -> tuple[PatientLink, Clinic, templates.Brand, str]:
    try:
        claims = service.LINKS.verify(token)
    except InvalidLink as exc:
        raise actions.LinkProblem(exc.reason) from exc
    link = actions.load_link(claims.link_id)
    if (
        link.appointment_id != claims.subject_id
        or link.action != claims.action
        or not scoping.is_plain_id(link.clinic_id)
    ):
        raise actions.LinkProblem("tampered")
    scoping.adopt(link.clinic_id)  # the rest of the request runs as the link's clinic (ADR 0012)
    c = service.clinic(link.clinic_id)
    return link, c, templates.Brand.of(c), templates.lang_of(link.language)


def view(token: str, ip: str | None) -> Response:
    lang, brand = "es", None
    try:
        _limit("view", ip, VIEWS_PER_IP_PER_HOUR)
        link, c, brand, lang = _resolve(token)
        if link.used_at is not None:
            raise actions.LinkProblem("used")
        a = Appointment.get(*Appointment.key(link.clinic_id, link.appointment_id))
    except TooManyRequests as exc:
        return too_many(exc, lang, brand)
    except actions.LinkProblem as exc:
        return message(exc.reason, lang, brand)
    except Exception:  # noqa: BLE001 - a patient page never answers 5xx
        logger.exception("appointment link page failed")
        return message("error", lang, brand)
    t = TEXT[lang]
    rows = [(t["when"], templates.when(service.local_start(a), lang))]
    if a.professional_name:
        rows.append((t["with"], a.professional_name))
    table = "".join(f"<tr><td>{_e(k)}</td><td><b>{_e(v)}</b></td></tr>" for k, v in rows)
    q, btn = t[f"{link.action}_q"], t[f"{link.action}_btn"]
    body = (
        f"<h1>{_e(t['title'])}</h1><div class='box'><table>{table}</table></div>"
        f"<div class='box'><p>{_e(q)}</p><form method='post'>"
        f"<button type='submit'>{_e(btn)}</button></form></div>"
    )
    return page(body, lang=lang, brand=brand)


def head() -> Response:
    """Prefetchers and link checkers: an empty answer, nothing verified, nothing changed."""
    return htmlpage.response("", img="https: data:")


def act(token: str, ip: str | None, ua: str | None) -> Response:
    lang, brand = "es", None
    try:
        _limit("post", ip, POSTS_PER_IP_PER_HOUR)
        link, _c, brand, lang = _resolve(token)
        outcome = actions.perform(link, ip, ua, via="link")
    except TooManyRequests as exc:
        return too_many(exc, lang, brand)
    except actions.LinkProblem as exc:
        return message(exc.reason, lang, brand)
    except Exception:  # noqa: BLE001 - a patient page never answers 5xx
        logger.exception("appointment link action failed")
        return message("error", lang, brand)
    return message(outcome, lang, brand)
