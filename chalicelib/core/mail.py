"""Outbound email through SES (moto's SES locally, where the developer outbox shows it)."""

from __future__ import annotations

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.observability import logger


def _configuration_set() -> dict[str, str]:
    # Named on every send, so bounces and complaints reach this stage's feedback worker even
    # when the sending identity belongs to another stage.
    name = settings().mail_configuration_set
    return {"ConfigurationSetName": name} if name else {}


def send(*, to: str, subject: str, text: str, html: str, reply_to: str | None = None) -> str:
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
    resp = aws.client("ses").send_raw_email(
        Source=settings().mail_sender,
        Destinations=[to],
        RawMessage={"Data": raw},
        **_configuration_set(),
    )
    message_id = resp["MessageId"]
    logger.info("mail sent", extra={"message_id": message_id})  # never the address or body
    return message_id
