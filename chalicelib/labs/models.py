"""Lab items (one table; keys from the authenticated clinic). ADR 1221, 1222.

* Lab: ``C#<cid>`` / ``LABS#LAB#<lab id>``.
* LabCase: ``C#<cid>`` / ``LABS#CASE#<case id>``; GSI1 the patient's
  (``C#<cid>#PAT#<pid>#LCASE`` / case id); GSI2 by status (``C#<cid>#LCASE#ST#<status>`` /
  ``<due>#<case id>``); GSI3 by lab (``C#<cid>#LAB#<lab id>#LCASE`` /
  ``<status>#<due>#<case id>``); GSI4 alerts, only while not back (``C#<cid>#LCASE#ALERT`` /
  ``<alert at UTC>#<case id>``).
* LabCaseAppt: ``C#<cid>`` / ``LABS#APPT#<appointment id>#<case id>``.
* LabLink (global, TTL): ``LLINK#<link id>`` / ``LINK``.

A case keeps its history and its files on the item (both capped), so one read shows it all.
``alert_at`` is the earliest moment the case needs attention (the day after its due date, or
48 h before its fitting appointment); the dashboard reads the alert partition up to now.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class Lab(Item, discriminator="LabsLab"):
    lab_id = UnicodeAttribute()
    name = UnicodeAttribute()
    contact = UnicodeAttribute(null=True)
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    archived = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, lab_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"LABS#LAB#{lab_id}"


class LabCase(Item, discriminator="LabsCase"):
    case_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    lab_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute(null=True)
    appointment_start = UnicodeAttribute(null=True)  # the fitting appointment's start, ISO
    teeth = ListAttribute(of=NumberAttribute, default=list)
    work_type = UnicodeAttribute()
    shade = UnicodeAttribute(null=True)
    material = UnicodeAttribute(null=True)
    instructions = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(default="normal")
    due_date = UnicodeAttribute()  # ISO date, the clinic's calendar
    expected_delivery = UnicodeAttribute(null=True)  # ISO date, set by the lab
    status = UnicodeAttribute(default="draft")
    history = JSONAttribute(default=list)  # [{from, to, at, by, by_name, note}]
    files = JSONAttribute(default=list)  # [{file_id, filename, kind, content_type, size, ...}]
    link_id = UnicodeAttribute(null=True)  # the one live link, if any
    link_expires_at = UTCDateTimeAttribute(null=True)
    sent_to = UnicodeAttribute(null=True)
    time_zone = UnicodeAttribute(default="Europe/Madrid")
    created_at = UTCDateTimeAttribute()
    created_by_name = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, case_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"LABS#CASE#{case_id}"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#LCASE"

    @staticmethod
    def status_pk(clinic_id: str, status: str) -> str:
        return f"{clinic_pk(clinic_id)}#LCASE#ST#{status}"

    @staticmethod
    def lab_pk(clinic_id: str, lab_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#LAB#{lab_id}#LCASE"

    @staticmethod
    def alert_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#LCASE#ALERT"


class LabCaseAppt(Item, discriminator="LabsCaseAppt"):
    """Points an appointment at one of its lab cases (the agenda dialog lists them)."""

    case_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, appointment_id: str, case_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"LABS#APPT#{appointment_id}#{case_id}"


class LabLink(Item, discriminator="LabsLink"):
    """A case's signed link id: revoked by a conditional update (or by the next send)."""

    clinic_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    lab_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    valid_until = UTCDateTimeAttribute()

    @staticmethod
    def key(link_id: str) -> tuple[str, str]:
        return f"LLINK#{link_id}", "LINK"
