"""Patient items. Keys:

| item | PK | SK | GSI1 |
|---|---|---|---|
| Patient | C#<cid> | PAT#<pid> | C#<cid>#PATIENTS / <folded surname name>#<pid> |
| PatientIndex (name) | C#<cid> | PIDX#N#<token>#<pid> | |
| PatientIndex (phone, email, id, name+dob) | C#<cid> | PIDX#<P|E|I|D>#<hmac>#<pid> | |

National id, WhatsApp number, legal guardian, insurer and the medical history are sealed
(envelope encryption, clinic id
as associated data). The timeline (``PAT#<pid>#TL#...``) and other modules' items share the
``PAT#<pid>`` prefix, which is why listings go through GSI1, never ``begins_with("PAT#")``.
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


class Patient(Item, discriminator="Patient"):
    patient_id = UnicodeAttribute()
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    second_last_name = UnicodeAttribute(null=True)
    date_of_birth = UnicodeAttribute()  # ISO date
    gender = UnicodeAttribute(default="unknown")
    national_id_type = UnicodeAttribute(null=True)
    national_id_sealed = UnicodeAttribute(null=True)
    profession = UnicodeAttribute(null=True)
    address = JSONAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    whatsapp_sealed = UnicodeAttribute(null=True)
    preferred_channel = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="es")
    emergency_contact = JSONAttribute(null=True)
    # The guardian (a third person: name, phone, identity document) is sealed like the
    # patient's own national id. ``legal_guardian`` is only read, from items written before.
    legal_guardian_sealed = UnicodeAttribute(null=True)
    legal_guardian = JSONAttribute(null=True)
    # The insurer (company and policy/member number) as sealed JSON: the policy number identifies
    # the person at a third party, so it is kept like the national id (ADR 0005).
    insurer_sealed = UnicodeAttribute(null=True)
    medical_sealed = UnicodeAttribute(null=True)
    medical_updated_at = UTCDateTimeAttribute(null=True)
    medical_updated_by = UnicodeAttribute(null=True)
    archived = BooleanAttribute(default=False)
    archived_at = UTCDateTimeAttribute(null=True)
    # Blocked by a GDPR erasure request (LOPDGDD art. 32, ADR 1405): kept only for the legal
    # retention, out of lists, search and the agenda's names; no new bookings or edits.
    blocked = BooleanAttribute(default=False)
    blocked_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PATIENTS"


class PatientIndex(Item, discriminator="PatientIndex"):
    """A search entry pointing at a patient; carries no value, only the key."""

    patient_id = UnicodeAttribute()
