"""Helpers shared by the billing services: the clinic, the patient, the clinic's date, and
mailing a PDF to the patient."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.core.errors import Conflict
from chalicelib.core.ids import now
from chalicelib.identity.models import Clinic
from chalicelib.identity.service import get_clinic
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient

# A budget's status as a Spanish message says it: "un presupuesto {enviado}", "está {enviado}".
BUDGET_STATUS_ES = {
    "draft": "en borrador",
    "sent": "enviado",
    "accepted": "aceptado",
    "rejected": "rechazado",
    "expired": "caducado",
    "cancelled": "anulado",
    "superseded": "sustituido por una revisión",
}


def clinic(clinic_id: str) -> Clinic:
    return get_clinic(clinic_id)


def patient(clinic_id: str, patient_id: str) -> Patient:
    """The clinic's patient, or 404 (also for another clinic's id)."""
    return patients.load(clinic_id, patient_id)


def patient_name(p: Patient) -> str:
    return patients.full_name(p)


def budget_status_es(status: str) -> str:
    return BUDGET_STATUS_ES.get(status, status)


def either_es(words: list[str]) -> str:
    """ "a", "a o b", "a, b o c"."""
    return " o ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def local_today(time_zone: str, at: datetime | None = None) -> date:
    return (at or now()).astimezone(ZoneInfo(time_zone)).date()


def email_pdf(
    c: Clinic,
    *,
    to: str,
    lang: str,
    subject: str,
    intro: str,
    attachment: tuple[str, bytes],
    undeliverable: Conflict,
) -> str:
    """Mail ``attachment`` (file name, PDF bytes) to ``to`` in the clinic's brand, with the
    no-reply footer; an address that bounces at send time is ``undeliverable`` (a 409). The
    message id."""
    from chalicelib.comms import service as comms  # noqa: PLC0415 - the comms stack only here
    from chalicelib.comms import templates  # noqa: PLC0415
    from chalicelib.core import mail  # noqa: PLC0415

    footer = (
        f"{c.name}: please do not reply to this automatic message."
        if lang == "en"
        else f"{c.name}: por favor, no responda a este mensaje automático."
    )
    rendered = templates.sections_email(
        brand=templates.Brand.of(c),
        lang=lang,
        subject=subject,
        intro=intro,
        sections=[],
        footer=footer,
    )
    raw = comms.mime(
        to=to,
        subject=subject,
        text=rendered.text,
        html=rendered.html,
        sender_name=c.name,
        pdf=attachment,
    )
    try:
        return mail.send_raw_email(to=to, raw=raw)
    except mail.AddressUndeliverable as exc:
        raise undeliverable from exc
