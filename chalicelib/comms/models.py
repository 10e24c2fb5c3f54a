"""Communications items. Keys:

| item | PK | SK | GSI1 | GSI2 |
|---|---|---|---|---|
| CommsSettings | C#<cid> | COMMS#SETTINGS | | |
| Consent | C#<cid> | PAT#<pid>#CONSENT#<channel> | | |
| Message | C#<cid> | MSG#<id> | C#<cid>#PAT#<pid>#MSG / <id> | C#<cid>#MSG / <id> |
| Conversation | C#<cid> | CONV#<pid> | C#<cid>#CONV / <last activity>#<pid> | |
| Due (reminder / EOD) | C#<cid> | DUE#REM#<appt>#<lead min> / DUE#EOD | DUE#<utc 5-min bucket> / <kind>#<cid>#<ref> | |
| EodSent | C#<cid> | EOD#SENT#<local date> | | |
| WhatsAppConfig | C#<cid> | WA#CONFIG | | |
| JobCursor (global) | JOB#<name> | CURSOR | | |
| PatientLink (global) | ALINK#<link id> | LINK | | |
| WaPhone (global) | WAPHONE#<phone_number_id> | WAPHONE | | |
| WaMessageRef (global) | WAMID#<sha256(wamid)> | WAMID | | |
| Claim (global, TTL) | CLAIM#<scope>#<id> | CLAIM | | |

Undeliverable addresses (global, ``UNDELIV#<sha256(email)>``) live in ``chalicelib.core.mail``:
every sender honours them. Global items carry the clinic id they point at; public callers (patient links, the WhatsApp
webhook) reach a clinic only through a verified token or a verified signature.
"""  # noqa: E501

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


class CommsSettings(Item, discriminator="CommsSettings"):
    reminder_leads_min = ListAttribute(of=NumberAttribute, default=list)
    eod_enabled = BooleanAttribute(default=True)
    eod_recipients = ListAttribute(of=UnicodeAttribute, null=True)  # default: clinic admins
    eod_time = UnicodeAttribute(null=True)  # "HH:MM" local; None: 16:00
    reminder_channels = ListAttribute(of=UnicodeAttribute, null=True)  # None: every channel
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "COMMS#SETTINGS"


class Consent(Item, discriminator="CommsConsent"):
    patient_id = UnicodeAttribute()
    channel = UnicodeAttribute()  # email | whatsapp
    granted = BooleanAttribute()
    source = UnicodeAttribute()  # e.g. paper_form, verbal, web_form, whatsapp_opt_in
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()  # user id (or "link:<id>", "system")
    history = JSONAttribute(default=list)  # [{granted, source, at, by}]

    @staticmethod
    def key(clinic_id: str, patient_id: str, channel: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}#CONSENT#{channel}"


class Message(Item, discriminator="CommsMessage"):
    message_id = UnicodeAttribute()
    patient_id = UnicodeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()  # email | whatsapp
    direction = UnicodeAttribute()  # out | in
    kind = (
        UnicodeAttribute()
    )  # booking | reminder | reschedule | cancellation | missed | eod | reply | inbound  # noqa: E501
    status = UnicodeAttribute()  # queued | sent | delivered | read | failed | received | skipped
    subject = UnicodeAttribute(null=True)
    body_sealed = UnicodeAttribute(null=True)  # free text of WhatsApp messages (PHI: sealed)
    provider_id = UnicodeAttribute(null=True)  # SES message id or WhatsApp wamid
    error = JSONAttribute(null=True)  # {code, message, retryable}
    status_history = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, message_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"MSG#{message_id}"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#MSG"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#MSG"


class Conversation(Item, discriminator="CommsConversation"):
    patient_id = UnicodeAttribute(null=True)
    last_inbound_at = UTCDateTimeAttribute(null=True)
    last_activity_at = UTCDateTimeAttribute()
    unread = NumberAttribute(default=0)
    # The inbox's preview line, kept here so listing needs no query per conversation.
    last_text_sealed = UnicodeAttribute(null=True)  # the message's own sealed body (PHI)
    last_subject = UnicodeAttribute(null=True)  # a template's name
    last_direction = UnicodeAttribute(null=True)  # in | out

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"CONV#{patient_id}"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#CONV"


class Due(Item, discriminator="CommsDue"):
    """Something to do at a time: a reminder or the clinic's next end-of-day email."""

    kind = UnicodeAttribute()  # REM | EOD
    clinic_id = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()
    appointment_id = UnicodeAttribute(null=True)
    lead_min = NumberAttribute(null=True)
    planned_start_utc = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)  # failed runs so far (retried in the next bucket)


class EodSent(Item, discriminator="CommsEodSent"):
    day = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    recipients = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str, day: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"EOD#SENT#{day}"


class WhatsAppConfig(Item, discriminator="CommsWhatsAppConfig"):
    phone_number_id = UnicodeAttribute()
    waba_id = UnicodeAttribute()
    access_token_sealed = UnicodeAttribute()
    app_secret_sealed = UnicodeAttribute()
    verify_token_sealed = UnicodeAttribute()
    display_phone_number = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="unverified")  # unverified | connected | error
    last_error = JSONAttribute(null=True)  # {code, message, at}
    last_tested_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "WA#CONFIG"


class JobCursor(Item, discriminator="CommsJobCursor"):
    last_bucket = UnicodeAttribute()

    @staticmethod
    def key(name: str) -> tuple[str, str]:
        return f"JOB#{name}", "CURSOR"


class PatientLink(Item, discriminator="CommsPatientLink"):
    link_id = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    action = UnicodeAttribute()  # confirm | cancel
    language = UnicodeAttribute(default="es")
    created_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    used_via = UnicodeAttribute(null=True)  # link | whatsapp

    @staticmethod
    def key(link_id: str) -> tuple[str, str]:
        return f"ALINK#{link_id}", "LINK"


class WaPhone(Item, discriminator="CommsWaPhone"):
    clinic_id = UnicodeAttribute()

    @staticmethod
    def key(phone_number_id: str) -> tuple[str, str]:
        return f"WAPHONE#{phone_number_id}", "WAPHONE"


class WaMessageRef(Item, discriminator="CommsWaMessageRef"):
    clinic_id = UnicodeAttribute()
    message_id = UnicodeAttribute()

    @staticmethod
    def key(wamid_hash: str) -> tuple[str, str]:
        return f"WAMID#{wamid_hash}", "WAMID"


class Claim(Item, discriminator="CommsClaim"):
    """Idempotency marker: the first writer of ``CLAIM#<scope>#<id>`` does the work."""

    at = UTCDateTimeAttribute()

    @staticmethod
    def key(scope: str, ident: str) -> tuple[str, str]:
        return f"CLAIM#{scope}#{ident}", "CLAIM"
