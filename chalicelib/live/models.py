"""Live-notification items: tickets, open connections and the push guard.

- :class:`LiveTicket` — a global lookup item ``PK = LIVETICKET#<sha256 of the ticket>``,
  ``SK = LIVETICKET``, pointing at the clinic, user and session that asked for it; TTL 60 s and
  deleted (conditionally) by the one ``$connect`` that uses it.
- :class:`LiveConnection` — ``PK = C#<clinic_id>``, ``SK = LIVE#<connection_id>``: a clinic's
  open connections are one Query. ``GSI1`` finds a connection by its id alone (``$disconnect``
  carries nothing else); ``GSI2`` buckets connections by the minute their access token expires,
  so the expiry job reads only what is due (no scan).
- :class:`LivePushed` — ``PK = C#<clinic_id>``, ``SK = LIVEPUSH#<event_id>``: this event has
  been pushed already (a redelivery sends nothing twice).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.db import Item, clinic_pk

CONNECTION_PREFIX = "LIVE#"


def ticket_key(ticket_hash: str) -> tuple[str, str]:
    return f"LIVETICKET#{ticket_hash}", "LIVETICKET"


def connection_key(clinic_id: str, connection_id: str) -> tuple[str, str]:
    return clinic_pk(clinic_id), f"{CONNECTION_PREFIX}{connection_id}"


def connection_lookup(connection_id: str) -> str:
    return f"LIVECONN#{connection_id}"


def expiry_bucket(at: datetime) -> str:
    """The GSI2 partition of connections whose access token expires in ``at``'s minute (UTC)."""
    return "LIVEEXP#" + at.strftime("%Y-%m-%dT%H:%M")


def pushed_key(clinic_id: str, event_id: str) -> tuple[str, str]:
    return clinic_pk(clinic_id), f"LIVEPUSH#{event_id}"


class LiveTicket(Item, discriminator="LiveTicket"):
    clinic_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    # When the access token that asked for the ticket expires: the connection ends by then.
    token_expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()


class LiveConnection(Item, discriminator="LiveConnection"):
    connection_id = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()  # the access token's expiry: nothing is sent after it
    warned = BooleanAttribute(default=False)  # live.expiring sent


class LivePushed(Item, discriminator="LivePushed"):
    event_type = UnicodeAttribute()
    sent = UnicodeAttribute(null=True)  # how many connections got it (diagnostics)
