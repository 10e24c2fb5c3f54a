"""Staff emails (invitation), in the clinic's language, branded with its colour."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from chalicelib.identity.models import Clinic

ROLE_NAMES = {
    "es": {
        "admin": "administrador/a",
        "dentist": "odontólogo/a",
        "hygienist": "higienista",
        "assistant": "auxiliar",
        "receptionist": "recepción",
    },
    "en": {
        "admin": "admin",
        "dentist": "dentist",
        "hygienist": "hygienist",
        "assistant": "assistant",
        "receptionist": "receptionist",
    },
}


def invitation(
    clinic: Clinic, inviter: str, role: str, link: str, valid_until: datetime
) -> tuple[str, str, str]:
    lang = clinic.language if clinic.language in ROLE_NAMES else "es"
    until = valid_until.astimezone(ZoneInfo(clinic.time_zone)).strftime("%d/%m/%Y %H:%M")
    role_name = ROLE_NAMES[lang][role]
    color = (clinic.branding or {}).get("color", "#0f766e")
    if lang == "es":
        subject = f"{clinic.name}: te invitan a unirte al equipo"
        lines = [
            f"{inviter} te invita a unirte a {clinic.name} en Cúspide como {role_name}.",
            f"Acepta la invitación antes del {until}:",
            link,
            "Si no esperabas este correo, ignóralo.",
        ]
        button = "Aceptar invitación"
    else:
        subject = f"{clinic.name}: you are invited to join the team"
        lines = [
            f"{inviter} invites you to join {clinic.name} on Cúspide as {role_name}.",
            f"Accept the invitation before {until}:",
            link,
            "If you did not expect this email, ignore it.",
        ]
        button = "Accept invitation"
    text = "\n\n".join(lines)
    html = (
        f'<div style="font-family:system-ui,sans-serif;max-width:560px">'
        f'<h2 style="color:{escape(color)}">{escape(clinic.name)}</h2>'
        f"<p>{escape(lines[0])}</p><p>{escape(lines[1])}</p>"
        f'<p><a href="{escape(link)}" style="background:{escape(color)};color:#fff;'
        f'padding:10px 16px;border-radius:6px;text-decoration:none">{button}</a></p>'
        f'<p style="color:#666">{escape(lines[3])}</p></div>'
    )
    return subject, text, html
