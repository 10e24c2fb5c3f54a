"""Patient and staff emails: branded (clinic logo and colour), HTML + plain text, es / en."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

DEFAULT_COLOUR = "#0f766e"
LANGS = ("es", "en")
MONTHS = {
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
WEEKDAYS = {
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}

TEXT: dict[str, dict[str, str]] = {
    "es": {
        "hello": "Hola, {name}:",
        "booking.subject": "{clinic}: su cita del {when}",
        "booking.lead": "Le confirmamos su cita en {clinic}.",
        "reminder.subject": "Recordatorio: su cita en {clinic} el {when}",
        "reminder.lead": "Le recordamos su próxima cita en {clinic}.",
        "reschedule.subject": "{clinic}: su cita ha cambiado al {when}",
        "reschedule.lead": "Su cita en {clinic} ha cambiado. La nueva fecha es:",
        "cancellation.subject": "{clinic}: cita del {when} cancelada",
        "cancellation.lead": "Su cita en {clinic} ha sido cancelada.",
        "missed.subject": "{clinic}: le echamos de menos",
        "missed.lead": "No pudimos verle en su cita del {when}. Llámenos o responda a este "
        "correo para buscar una nueva fecha.",
        "when": "Fecha y hora",
        "with": "Con",
        "reason": "Motivo",
        "confirm": "Confirmar asistencia",
        "cancel": "Cancelar la cita",
        "links_note": "Los enlaces caducan en 48 horas.",
        "calendar": "Añada la cita a su calendario con el archivo adjunto.",
        "footer": "Ha recibido este mensaje porque es paciente de {clinic}.",
    },
    "en": {
        "hello": "Hello {name},",
        "booking.subject": "{clinic}: your appointment on {when}",
        "booking.lead": "Your appointment at {clinic} is booked.",
        "reminder.subject": "Reminder: your appointment at {clinic} on {when}",
        "reminder.lead": "A reminder of your upcoming appointment at {clinic}.",
        "reschedule.subject": "{clinic}: your appointment moved to {when}",
        "reschedule.lead": "Your appointment at {clinic} has changed. The new time is:",
        "cancellation.subject": "{clinic}: appointment on {when} cancelled",
        "cancellation.lead": "Your appointment at {clinic} has been cancelled.",
        "missed.subject": "{clinic}: we missed you",
        "missed.lead": "We could not see you at your appointment on {when}. Call us or reply "
        "to this email to find a new time.",
        "when": "Date and time",
        "with": "With",
        "reason": "Reason",
        "confirm": "Confirm attendance",
        "cancel": "Cancel the appointment",
        "links_note": "The links expire in 48 hours.",
        "calendar": "Add the appointment to your calendar with the attached file.",
        "footer": "You received this message because you are a patient of {clinic}.",
    },
}


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "es"


def when(dt: datetime, lang: str) -> str:
    """'martes, 10 de marzo de 2026, 09:30' / 'Tuesday, 10 March 2026, 09:30' (local time)."""
    wd = WEEKDAYS[lang][dt.weekday()]
    month = MONTHS[lang][dt.month - 1]
    if lang == "es":
        return f"{wd}, {dt.day} de {month} de {dt.year}, {dt:%H:%M}"
    return f"{wd}, {dt.day} {month} {dt.year}, {dt:%H:%M}"


def short_when(dt: datetime, lang: str) -> str:
    return f"{dt:%d/%m/%Y %H:%M}" if lang == "es" else f"{dt:%d %b %Y %H:%M}"


@dataclass
class Brand:
    name: str
    colour: str = DEFAULT_COLOUR
    logo_url: str | None = None
    phone: str | None = None
    address: str | None = None

    @classmethod
    def of(cls, clinic: Any) -> Brand:
        b = clinic.branding or {}
        addr = clinic.address or {}
        line = ", ".join(str(addr[k]) for k in ("street", "city") if addr.get(k)) or None
        return cls(
            name=clinic.name,
            colour=b.get("color") or b.get("colour") or DEFAULT_COLOUR,
            logo_url=b.get("logo_url"),
            phone=addr.get("phone") if isinstance(addr, dict) else None,
            address=line,
        )


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


@dataclass
class Section:
    """A block of an email: a title and lines (plain strings) or rows (label, value)."""

    title: str
    lines: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)


def layout(brand: Brand, lang: str, title: str, blocks_html: str, footer: str) -> str:
    c = escape(brand.colour)
    logo = (
        f'<img src="{escape(brand.logo_url)}" alt="{escape(brand.name)}" height="40" '
        f'style="vertical-align:middle;margin-right:10px">'
        if brand.logo_url
        else ""
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="margin:0;background:#f5f5f5;font-family:system-ui,Arial,sans-serif;'
        f'color:#171717"><div style="max-width:600px;margin:0 auto;background:#fff">'
        f'<div style="background:{c};color:#fff;padding:16px 20px;font-size:20px;'
        f'font-weight:600">{logo}{escape(brand.name)}</div>'
        f'<div style="padding:20px">{blocks_html}</div>'
        f'<div style="padding:12px 20px;color:#737373;font-size:12px;border-top:1px solid '
        f'#e5e5e5">{escape(footer)}</div></div></body></html>'
    )


def _button(href: str, label: str, colour: str, outline: bool = False) -> str:
    style = (
        f"border:2px solid {colour};color:{colour};background:#fff"
        if outline
        else f"background:{colour};color:#fff;border:2px solid {colour}"
    )
    return (
        f'<a href="{escape(href)}" style="{escape(style)};padding:10px 16px;border-radius:6px;'
        f'text-decoration:none;display:inline-block;margin:4px 8px 4px 0">{escape(label)}</a>'
    )


def appointment_email(
    kind: str,
    *,
    brand: Brand,
    lang: str,
    patient_name: str,
    start_local: datetime,
    professional: str | None,
    reason: str | None,
    confirm_url: str | None = None,
    cancel_url: str | None = None,
    has_ics: bool = False,
) -> Rendered:
    """booking | reminder | reschedule | cancellation | missed."""
    t = TEXT[lang_of(lang)]
    w = when(start_local, lang)
    subject = t[f"{kind}.subject"].format(clinic=brand.name, when=short_when(start_local, lang))
    lead = t[f"{kind}.lead"].format(clinic=brand.name, when=w)
    rows = [(t["when"], w)]
    if professional and kind != "missed":
        rows.append((t["with"], professional))
    if reason and kind != "missed":
        rows.append((t["reason"], reason))
    footer = t["footer"].format(clinic=brand.name)
    text = [t["hello"].format(name=patient_name), "", lead, ""]
    text += [f"{k}: {v}" for k, v in rows]
    html = [f"<p>{escape(t['hello'].format(name=patient_name))}</p><p>{escape(lead)}</p>"]
    if kind != "missed":
        html.append(
            '<table style="border-collapse:collapse;margin:8px 0">'
            + "".join(
                f'<tr><td style="padding:4px 12px 4px 0;color:#737373">{escape(k)}</td>'
                f'<td style="padding:4px 0"><b>{escape(v)}</b></td></tr>'
                for k, v in rows
            )
            + "</table>"
        )
    if confirm_url or cancel_url:
        text.append("")
        buttons = []
        if confirm_url:
            text += [f"{t['confirm']}: {confirm_url}"]
            buttons.append(_button(confirm_url, t["confirm"], brand.colour))
        if cancel_url:
            text += [f"{t['cancel']}: {cancel_url}"]
            buttons.append(_button(cancel_url, t["cancel"], brand.colour, outline=True))
        text.append(t["links_note"])
        html.append(f"<p>{''.join(buttons)}</p>")
        html.append(f'<p style="color:#737373;font-size:13px">{escape(t["links_note"])}</p>')
    if has_ics:
        text += ["", t["calendar"]]
        html.append(f'<p style="color:#737373;font-size:13px">{escape(t["calendar"])}</p>')
    extra = [x for x in (brand.address, brand.phone) if x]
    if extra:
        text += ["", " · ".join(extra)]
        html.append(f'<p style="color:#525252">{escape(" · ".join(extra))}</p>')
    text += ["", "--", brand.name, footer]
    return Rendered(subject, "\n".join(text), layout(brand, lang, subject, "".join(html), footer))


def sections_email(
    *, brand: Brand, lang: str, subject: str, intro: str, sections: list[Section], footer: str
) -> Rendered:
    """A report made of sections (the end-of-day summary)."""
    text = [intro, ""]
    html = [f"<p>{escape(intro)}</p>"]
    for s in sections:
        text += [s.title, "-" * len(s.title)]
        html.append(
            f'<h3 style="color:{escape(brand.colour)};margin:18px 0 6px">{escape(s.title)}</h3>'
        )  # noqa: E501
        if s.rows:
            text += [f"{k}: {v}" for k, v in s.rows]
            html.append(
                '<table style="border-collapse:collapse">'
                + "".join(
                    f'<tr><td style="padding:3px 14px 3px 0">{escape(k)}</td>'
                    f'<td style="padding:3px 0"><b>{escape(v)}</b></td></tr>'
                    for k, v in s.rows
                )
                + "</table>"
            )
        if s.lines:
            text += [f"- {ln}" for ln in s.lines]
            html.append("<ul>" + "".join(f"<li>{escape(ln)}</li>" for ln in s.lines) + "</ul>")
        text.append("")
    text += ["--", footer]
    return Rendered(subject, "\n".join(text), layout(brand, lang, subject, "".join(html), footer))
