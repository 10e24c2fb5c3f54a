"""Online booking items. Keys:

| item | PK | SK |
|---|---|---|
| BookingSettings | C#<cid> | BOOKING#SETTINGS |
| BookingCode | C#<cid> | BOOKING#CODE#<code_id> |
| BookingPowUsed | C#<cid> | BOOKING#POW#<challenge_id> |
| BookingPrivacy | C#<cid> | BOOKING#PRIVACY#<patient_id> |

BookingSettings holds whether the page is on and the online appointment types (one item: a
clinic has a handful of types). A BookingCode is one 6-digit code sent to an email address:
only its salted hash is stored, it expires after 10 minutes (``expires_at`` is the TTL a day
later), counts wrong attempts and is used once. A BookingPowUsed marks a proof-of-work
challenge as spent (written with ``attribute_not_exists``; TTL). BookingPrivacy records that a
patient registered on the page accepted the privacy notice: when, which text version, from
which address (docs/adr/1402-online-booking-anti-abuse.md).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class BookingSettings(Item, discriminator="BookingSettings"):
    enabled = BooleanAttribute(default=False)
    horizon_days = NumberAttribute(default=60)
    min_notice_hours = NumberAttribute(default=12)
    buffer_min = NumberAttribute(default=0)
    max_pending = NumberAttribute(default=2)
    types = JSONAttribute(default=list)  # [{type_id, name_es, name_en, duration_min, ...}]
    embed_origins = JSONAttribute(default=list)  # ["https://www.clinic.example"]
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "BOOKING#SETTINGS"


class BookingCode(Item, discriminator="BookingCode"):
    code_id = UnicodeAttribute()
    email = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    valid_until = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    patient_id = UnicodeAttribute(null=True)  # identified, or registered with this code
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, code_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BOOKING#CODE#{code_id}"


class BookingPowUsed(Item, discriminator="BookingPowUsed"):
    @staticmethod
    def key(clinic_id: str, challenge_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BOOKING#POW#{challenge_id}"


class BookingPrivacy(Item, discriminator="BookingPrivacy"):
    patient_id = UnicodeAttribute()
    accepted_at = UTCDateTimeAttribute()
    text_version = UnicodeAttribute()
    ip = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BOOKING#PRIVACY#{patient_id}"
