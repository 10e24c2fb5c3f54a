"""Agenda items. Keys:

| item | PK | SK | GSI1 | GSI2 | GSI3 | GSI4 |
|---|---|---|---|---|---|---|
| Cabinet | C#<cid> | CAB#<id> | | | | |
| OpeningHours | C#<cid> | AGENDA#HOURS | | | | |
| Holiday | C#<cid> | HOL#<YYYY-MM-DD> | | | | |
| Appointment | C#<cid> | APPT#<id> | C#<cid>#CAB#<cab>#APPT / <start utc>#<id> | C#<cid>#PAT#<pid>#APPT / <start utc>#<id> | C#<cid>#PRO#<uid>#APPT / <start utc>#<id> | C#<cid>#APPT / <start utc>#<id> |
| SlotLock | C#<cid> | SLOT#CAB#<cab>#<slot utc> or SLOT#PRO#<uid>#<slot utc> | | | | |
| PatientBookings | C#<cid> | SLOT#PAT#<pid> | | | | |

GSI4 is the clinic's whole agenda in time order: a day or a week of every cabinet is one Query
(docs/adr/0305-agenda-clinic-time-index.md).

A SlotLock is one 5-minute slot of one cabinet or one professional held by one appointment;
they are written with ``attribute_not_exists`` in the same transaction as the appointment, so
two bookings racing for the same slot cannot both succeed (docs/adr/0302-appointment-slot-locks.md).

A PatientBookings item is one patient's booking guard: every booking or move of that patient's
time is written with a condition on its ``version``, so two bookings of the same patient are
serialised; ``recent`` journals what was written in the last hour, which the patient index
(GSI2, eventually consistent) may not show yet (ADR 0302, "The patient").
"""  # noqa: E501

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class Cabinet(Item, discriminator="Cabinet"):
    cabinet_id = UnicodeAttribute()
    name = UnicodeAttribute()
    colour = UnicodeAttribute(null=True)
    position = NumberAttribute(default=0)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, cabinet_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"CAB#{cabinet_id}"


class OpeningHours(Item, discriminator="OpeningHours"):
    hours = JSONAttribute()  # {"monday": [{"start": "09:00", "end": "14:00"}], ...}
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "AGENDA#HOURS"


class Holiday(Item, discriminator="Holiday"):
    date = UnicodeAttribute()
    name = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, day: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"HOL#{day}"


class Appointment(Item, discriminator="Appointment"):
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    professional_id = UnicodeAttribute()
    professional_name = UnicodeAttribute(null=True)
    cabinet_id = UnicodeAttribute()
    start = UnicodeAttribute()  # ISO 8601 with the clinic zone's offset
    start_utc = UnicodeAttribute()  # 2026-03-09T09:00:00Z
    end_utc = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    duration_min = NumberAttribute()
    reason = UnicodeAttribute()
    treatment = UnicodeAttribute(null=True)
    colour = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="scheduled")
    status_history = JSONAttribute(default=list)  # [{status, at, by, reason}]
    reschedules = JSONAttribute(default=list)  # [{at, by, reason, from: {...}, to: {...}}]
    outside_hours = BooleanAttribute(default=False)
    source = UnicodeAttribute(null=True)  # None = "staff"; "online": the public booking page
    booking_ref = UnicodeAttribute(null=True)  # what led to an online booking (recall:<id>)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, appointment_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"APPT#{appointment_id}"


class SlotLock(Item, discriminator="SlotLock"):
    appointment_id = UnicodeAttribute()


class PatientBookings(Item, discriminator="PatientBookings"):
    version = NumberAttribute(default=0)
    # {appointment_id: [start_utc, end_utc, written_at utc]}: the last hour's writes only
    recent = JSONAttribute(default=dict)

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"SLOT#PAT#{patient_id}"


def cabinet_index(clinic_id: str, cabinet_id: str) -> str:
    return f"{clinic_pk(clinic_id)}#CAB#{cabinet_id}#APPT"


def patient_index(clinic_id: str, patient_id: str) -> str:
    return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#APPT"


def professional_index(clinic_id: str, user_id: str) -> str:
    return f"{clinic_pk(clinic_id)}#PRO#{user_id}#APPT"


def clinic_index(clinic_id: str) -> str:
    """GSI4: every appointment of the clinic, by start (ADR 0305)."""
    return f"{clinic_pk(clinic_id)}#APPT"
