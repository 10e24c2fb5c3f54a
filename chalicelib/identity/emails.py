"""Staff emails: the invitation (in the clinic's language, branded with its colour) and the
forgotten-password mails (in the user's language, Cúspide's own colour)."""

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


# --- forgotten password (issue 15) ---------------------------------------------------------
# Not a clinic's email (the account spans clinics): Cúspide's own colour, the user's language.

_CUSPIDE_COLOUR = "#0f766e"


def _account_mail(title: str, paragraphs: list[str], button: tuple[str, str] | None) -> str:
    parts = [
        '<div style="font-family:system-ui,sans-serif;max-width:560px">',
        f'<h2 style="color:{_CUSPIDE_COLOUR}">{escape(title)}</h2>',
    ]
    for i, p in enumerate(paragraphs):
        parts.append(f"<p>{escape(p)}</p>")
        if i == 0 and button:
            label, link = button
            parts.append(
                f'<p><a href="{escape(link)}" style="background:{_CUSPIDE_COLOUR};color:#fff;'
                f'padding:10px 16px;border-radius:6px;text-decoration:none">{escape(label)}</a></p>'
            )
    parts.append("</div>")
    return "".join(parts)


def password_reset(name: str, language: str, link: str, valid_minutes: int) -> tuple[str, str, str]:
    """The link to choose a new password (single use, ``valid_minutes`` long)."""
    if language == "en":
        subject = "Cúspide: reset your password"
        first = f"Hello {name}: someone asked to reset the password of your Cúspide account."
        lines = [
            first,
            f"Choose a new password with this link (it works once, for {valid_minutes} minutes):",
            link,
            "If it was not you, ignore this email: your password stays as it is.",
        ]
        button = "Choose a new password"
    else:
        subject = "Cúspide: restablece tu contraseña"
        first = (
            f"Hola, {name}: alguien ha pedido restablecer la contraseña de tu cuenta de Cúspide."
        )
        lines = [
            first,
            f"Elige una nueva contraseña con este enlace (sirve una vez, durante {valid_minutes} "
            "minutos):",
            link,
            "Si no has sido tú, ignora este correo: tu contraseña no cambia.",
        ]
        button = "Elegir una nueva contraseña"
    text = "\n\n".join(lines)
    html = _account_mail("Cúspide", [lines[0], lines[1], lines[3]], (button, link))
    return subject, text, html


def password_changed(name: str, language: str, app_url: str) -> tuple[str, str, str]:
    """Notice that the password was changed through a reset link (every session ended)."""
    if language == "en":
        subject = "Cúspide: your password was changed"
        lines = [
            f"Hello {name}: the password of your Cúspide account was just changed with a reset "
            "link, and every open session was signed out.",
            'If it was not you, reset your password again at once ("Forgot your password?" on '
            "the sign-in page) and tell your clinic's admin:",
            f"{app_url}/login",
        ]
    else:
        subject = "Cúspide: se ha cambiado tu contraseña"
        lines = [
            f"Hola, {name}: se acaba de cambiar la contraseña de tu cuenta de Cúspide con un "
            "enlace de restablecimiento, y se han cerrado todas las sesiones abiertas.",
            'Si no has sido tú, restablece tu contraseña de nuevo cuanto antes ("¿Has olvidado '
            'tu contraseña?" en la página de inicio de sesión) y avisa al administrador de tu '
            "clínica:",
            f"{app_url}/login",
        ]
    text = "\n\n".join(lines)
    link = escape(lines[2])
    html = _account_mail("Cúspide", lines[:2], None).removesuffix("</div>")
    html += f'<p><a href="{link}">{link}</a></p></div>'

    return subject, text, html
