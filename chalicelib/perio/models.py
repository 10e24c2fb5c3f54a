"""Periodontal exams (one table; keys from the authenticated clinic). ADR 0621.

| item | PK | SK | GSI1 | GSI2 |
|---|---|---|---|---|
| PerioExam | C#<cid> | PERIO#<id> | C#<cid>#PAT#<pid>#PERIO / <date>#<id> | (1) |

(1) GSI2 of an exam, only while it is completed and not amended:
``C#<cid>#PAT#<pid>#PERIODONE`` / ``<date>#<id>``, so the previous exam of a patient is one
Query of one item.

The chart (``teeth``) lives inside the item: 32 teeth of six sites is a few kilobytes.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class PerioExam(Item, discriminator="PerioExam"):
    exam_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    exam_date = UnicodeAttribute()  # ISO date of the visit, clinic's zone
    appointment_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # draft | completed
    teeth = JSONAttribute(default=dict)
    examiner_id = UnicodeAttribute()
    examiner_name = UnicodeAttribute(null=True)
    amends = UnicodeAttribute(null=True)  # the completed exam this one corrects
    amended_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    completed_by = UnicodeAttribute(null=True)
    completed_by_name = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, exam_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PERIO#{exam_id}"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#PERIO"

    @staticmethod
    def done_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#PERIODONE"

    @staticmethod
    def sort(exam_date: str, exam_id: str) -> str:
        return f"{exam_date}#{exam_id}"
