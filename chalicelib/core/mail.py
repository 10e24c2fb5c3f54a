"""Outbound email through SES (moto's SES locally, where the developer outbox shows it).

Addresses SES reported as bounced or complained about are undeliverable for every sender
(patient mail, staff invitations, end-of-day email): ``send`` and ``send_raw_email`` refuse
them, and callers check ``is_undeliverable`` first to tell the person what to do.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.db import Item
from chalicelib.core.ids import now
from chalicelib.core.observability import logger


class Undeliverable(Item, discriminator="CommsUndeliverable"):
    """Global: ``PK = UNDELIV#<sha256(address)>``, ``SK = UNDELIV``; never the address itself."""

    reason = UnicodeAttribute()  # bounce | complaint
    detail = UnicodeAttribute(null=True)  # bounce type / feedback type (no address)
    at = UTCDateTimeAttribute()

    @staticmethod
    def key(address_hash: str) -> tuple[str, str]:
        return f"UNDELIV#{address_hash}", "UNDELIV"


class AddressUndeliverable(Exception):
    """The address bounced or complained before; nothing was sent."""


def address_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_undeliverable(email: str) -> bool:
    try:
        Undeliverable.get(*Undeliverable.key(address_hash(email)))
        return True
    except DoesNotExist:
        return False


def mark_undeliverable(email: str, reason: str, detail: str | None) -> None:
    Undeliverable(
        *Undeliverable.key(address_hash(email)),
        reason=reason,
        detail=(detail or "")[:60] or None,
        at=now(),
    ).save()
    logger.info("address marked undeliverable", extra={"reason": reason, "detail": detail})


def _refuse_undeliverable(to: str) -> None:
    if is_undeliverable(to):
        raise AddressUndeliverable("the address bounced or complained before")


def _configuration_set() -> dict[str, str]:
    # Named on every send, so bounces and complaints reach this stage's feedback worker even
    # when the sending identity belongs to another stage.
    name = settings().mail_configuration_set
    return {"ConfigurationSetName": name} if name else {}


def send(*, to: str, subject: str, text: str, html: str, reply_to: str | None = None) -> str:
    _refuse_undeliverable(to)
    resp = aws.client("ses").send_email(
        Source=settings().mail_sender,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": text, "Charset": "UTF-8"},
                "Html": {"Data": html, "Charset": "UTF-8"},
            },
        },
        **({"ReplyToAddresses": [reply_to]} if reply_to else {}),
        **_configuration_set(),
    )
    message_id = resp["MessageId"]
    logger.info("mail sent", extra={"message_id": message_id})  # never the address or body
    return message_id


def send_raw_email(*, to: str, raw: bytes) -> str:
    """Send a complete MIME message (e.g. with a text/calendar part); ``raw`` has its headers."""
    _refuse_undeliverable(to)
    resp = aws.client("ses").send_raw_email(
        Source=settings().mail_sender,
        Destinations=[to],
        RawMessage={"Data": raw},
        **_configuration_set(),
    )
    message_id = resp["MessageId"]
    logger.info("mail sent", extra={"message_id": message_id})  # never the address or body
    return message_id
