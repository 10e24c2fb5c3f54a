"""Helpers shared by the billing services: the clinic, the patient and the clinic's date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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
