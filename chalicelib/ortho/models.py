"""Orthodontic case items (one table; keys from the authenticated clinic). ADR 0661, 0662.

| item | PK | SK | GSI1 | GSI2 |
|---|---|---|---|---|
| OrthoCase | C#<cid> | OCASE#<case id> | C#<cid>#PAT#<pid>#OCASE / <case id> | active only: C#<cid>#OCASE#ACTIVE / <start date>#<case id> |
| OrthoActive | C#<cid> | OACTIVE#<pid> | | |
| OrthoVisit | C#<cid> | OCASE#<case id>#V#<date>#<visit id> | | |
| OrthoAlert | C#<cid> | OALERT#<case id>#<kind> | | C#<cid>#OALERT / <due date>#<kind>#<case id> |
| OrthoReminder | C#<cid> | OREM#<case id>#<kind>#<local date> | | |
| OrthoStats | C#<cid> | OSTATS#ALL or OSTATS#<YYYY-MM> | | |

OrthoActive is the patient's one active case (written with ``attribute_not_exists`` in the
transaction that starts a case, deleted in the one that finishes it). OrthoAlert is the sparse
alert index: one item per (active case, kind) whose due date is what the alert list reads with
one Query on GSI2 up to today. OrthoStats are counters kept in the same transactions.
"""  # noqa: E501

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class OrthoCase(Item, discriminator="OrthoCase"):
    case_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | finished
    appliance = UnicodeAttribute()
    bracket_material = UnicodeAttribute(null=True)
    total_trays = NumberAttribute(null=True)
    days_per_tray = NumberAttribute(null=True)
    arches = UnicodeAttribute(default="both")
    start_date = UnicodeAttribute()  # ISO dates throughout
    planned_months = NumberAttribute()
    visit_interval_weeks = NumberAttribute()
    phases = JSONAttribute(default=list)
    milestones = JSONAttribute(default=list)
    current_tray = NumberAttribute(null=True)
    tray_since = UnicodeAttribute(null=True)
    last_visit = UnicodeAttribute(null=True)
    photos = JSONAttribute(default=list)  # [{"image_id", "taken_on"}]
    finished_on = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, case_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"OCASE#{case_id}"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#OCASE"

    @staticmethod
    def active_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#OCASE#ACTIVE"


class OrthoActive(Item, discriminator="OrthoActive"):
    case_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"OACTIVE#{patient_id}"


class OrthoVisit(Item, discriminator="OrthoVisit"):
    visit_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    date = UnicodeAttribute()
    note_sealed = UnicodeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)
    tray = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def prefix(case_id: str) -> str:
        return f"OCASE#{case_id}#V#"

    @staticmethod
    def key(clinic_id: str, case_id: str, day: str, visit_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{OrthoVisit.prefix(case_id)}{day}#{visit_id}"


class OrthoAlert(Item, discriminator="OrthoAlert"):
    case_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # visit | tray | retention
    due = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, case_id: str, kind: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"OALERT#{case_id}#{kind}"

    @staticmethod
    def index_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#OALERT"


class OrthoReminder(Item, discriminator="OrthoReminder"):
    case_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, case_id: str, kind: str, day: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"OREM#{case_id}#{kind}#{day}"


class OrthoStats(Item, discriminator="OrthoStats"):
    active = NumberAttribute(default=0)
    started = NumberAttribute(default=0)
    finished = NumberAttribute(default=0)
    actual_days = NumberAttribute(default=0)
    planned_days = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str, bucket: str) -> tuple[str, str]:
        """``bucket``: "ALL" or a month "YYYY-MM"."""
        return clinic_pk(clinic_id), f"OSTATS#{bucket}"
