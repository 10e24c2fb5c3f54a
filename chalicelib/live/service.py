"""Live notifications: tickets, connections, and pushing a clinic's domain events to them
(docs/adr/1101-live-notifications.md).

- ``issue_ticket``: a signed-in staff member gets a single-use ticket (60 s) that opens the
  WebSocket; only its SHA-256 is stored, pointing at the clinic, user and session.
- ``connect``: ``$connect`` consumes the ticket with one conditional delete (a replayed,
  expired or unknown ticket is refused) and stores the connection under the clinic's partition
  until the access token that asked for the ticket expires.
- ``push``: an event of the bus goes to the open connections of ``detail.clinic_id`` only, as
  a message with ids and statuses (no PHI); a connection API Gateway says is gone is deleted.
- ``expire``: the scheduled job warns connections whose token is about to expire
  (``live.expiring``) and closes those whose token has expired.

The WebSocket transport is API Gateway's Management API (``post_to_connection``); locally the
local server implements the same wire protocol (``infra/local/live.py``).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError
from pynamodb.expressions.condition import Condition

from chalicelib.core import auth, aws, scoping
from chalicelib.core.api import Principal
from chalicelib.core.audit import SENSITIVE_FIELDS
from chalicelib.core.config import settings
from chalicelib.core.db import Item
from chalicelib.core.errors import Unauthorized
from chalicelib.core.i18n import tr
from chalicelib.core.ids import iso, now
from chalicelib.core.observability import logger
from chalicelib.identity.models import Membership, Session
from chalicelib.live import schemas
from chalicelib.live.models import (
    CONNECTION_PREFIX,
    LiveConnection,
    LivePushed,
    LiveTicket,
    connection_key,
    connection_lookup,
    expiry_bucket,
    pushed_key,
    ticket_key,
)

TICKET_TTL = timedelta(seconds=60)
# A ticket asked for with less than this left on the access token is refused: the connection
# would close at once. The client refreshes its token first.
MIN_CONNECTION = timedelta(seconds=30)
# The expiry job (every minute) closes connections whose token expires within CLOSE_AHEAD, so a
# connection never outlives its token, and warns those within WARN_AHEAD (``live.expiring``).
CLOSE_AHEAD = timedelta(seconds=60)
WARN_AHEAD = timedelta(seconds=180)
# How far back the expiry job looks for connections it may have missed (a late run).
SWEEP_BEHIND = timedelta(minutes=10)
# Connection items outlive their token a little, so a late expiry job still finds them.
CONNECTION_TTL_SLACK = timedelta(minutes=15)
PUSHED_TTL = timedelta(days=2)
# A toast minutes late is noise (and the screen reloads its data when it reconnects): older
# events are dropped, so a queue catching up does not flood screens or hold back new events.
MAX_AGE = timedelta(minutes=2)
# An event that occurred this long before a connection opened still reaches it (clock skew
# between the API's instances and the socket's).
CONNECT_SKEW = timedelta(seconds=5)

PREFIXES = ("image.", "capture.", "appointment.", "document.", "inventory.", "lab.")
EXACT = ("message.received",)
READY_SOURCE = "cuspide.live"
"""``source`` of the queue message the socket handler sends after ``$connect`` (not a domain
event: it never goes on the bus)."""
"""Detail-types pushed to staff screens (the ``live`` queue's rule in infra/resources.py)."""

# What of an event's payload reaches the browser: ids, and a few enumerations that say what
# happened. Never names, texts, dates of birth, DICOM hints or the actor's ip/user agent.
DATA_FIELDS = frozenset(
    {"status", "previous_status", "kind", "inbox", "count", "channel", "rescheduled"}
)
# Named like ids, but a person's identifiers (or a value read from a DICOM header).
NOT_IDS = SENSITIVE_FIELDS | {"national_id", "tax_id", "passport_id", "insurance_id"}
NOT_ID_PREFIXES = ("dicom_", "national_", "tax_")


class TicketRefused(Exception):
    """The ticket is unknown, used already or expired (one answer for all)."""


def live_url() -> str:
    """The WebSocket URL a browser opens: ``LIVE_URL`` (the API Gateway stage's wss:// URL on
    AWS; ``ws://<host>:<PORT>/live`` locally, set by the local server)."""
    url = os.environ.get("LIVE_URL")
    if url:
        return url
    if settings().stage in ("local", "test"):
        return "ws://127.0.0.1:8000/live"
    raise RuntimeError("LIVE_URL is not set: the CDK stack sets it on the API (infra/stack.py)")


def wants(detail_type: str) -> bool:
    return detail_type.startswith(PREFIXES) or detail_type in EXACT


def _is_id(key: str) -> bool:
    return (
        key.endswith(("_id", "_ids")) and key not in NOT_IDS and not key.startswith(NOT_ID_PREFIXES)
    )


def message_for(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """What the browser receives for a domain event: its type, id and time, and the payload's
    ids and statuses only."""
    data = {
        k: v
        for k, v in detail.items()
        if k not in ("event_id", "clinic_id", "occurred_at", "actor")
        and (k in DATA_FIELDS or _is_id(k))
        and (v is None or isinstance(v, str | int | bool | list))
    }
    return {
        "type": detail_type,
        "event_id": detail.get("event_id"),
        "occurred_at": detail.get("occurred_at"),
        "data": data,
    }


# --- tickets -----------------------------------------------------------------------------


def _hash(ticket: str) -> str:
    return auth.token_hash(ticket)


def issue_ticket(principal: Principal, access_token: str) -> schemas.TicketOut:
    """A ticket for ``principal`` (already authenticated by the route). The connection it
    opens ends when the presented access token expires."""
    claims = auth.verify_access_token(access_token)
    at = now()
    if claims.expires_at - at < MIN_CONNECTION:
        raise Unauthorized(
            tr(
                "The access token is about to expire; refresh it, then ask for a ticket.",
                "El token de acceso está a punto de caducar; renuévalo y pide otro ticket.",
            ),
            code="TOKEN_EXPIRED",
        )
    ticket = secrets.token_urlsafe(32)
    expires = at + TICKET_TTL
    LiveTicket(
        *ticket_key(_hash(ticket)),
        clinic_id=principal.clinic_id,
        user_id=principal.user_id,
        session_id=principal.session_id,
        token_expires_at=claims.expires_at,
        created_at=at,
        expires_at=expires,
    ).save(condition=LiveTicket.PK.does_not_exist())
    return schemas.TicketOut(
        ticket=ticket, url=live_url(), expires_at=expires, closes_at=claims.expires_at
    )


def _consume(ticket: str) -> LiveTicket:
    """Delete the ticket's item if it exists and has not expired, and return what it held:
    one conditional write, so two connections racing with one ticket get one success."""
    if not ticket or len(ticket) > 128:
        raise TicketRefused
    pk, sk = ticket_key(_hash(ticket))
    at = now()
    condition: Condition = LiveTicket.PK.exists() & (LiveTicket.expires_at > at)
    try:
        resp = LiveTicket._get_connection().delete_item(
            pk, range_key=sk, condition=condition, return_values="ALL_OLD"
        )
    except DeleteError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise TicketRefused from exc
        raise
    item = LiveTicket.from_raw_data(resp["Attributes"])
    if item.token_expires_at <= at + timedelta(seconds=1):
        raise TicketRefused
    return item


# --- connections -------------------------------------------------------------------------


def connect(connection_id: str, ticket: str) -> LiveConnection:
    """``$connect``: consume the ticket, store the connection. Raises TicketRefused."""
    t = _consume(ticket)
    if not scoping.is_plain_id(t.clinic_id):
        raise TicketRefused
    # The ticket names the clinic: the rest runs with its credentials (ADR 0012).
    scoping.adopt(t.clinic_id)
    if not _session_active(t.clinic_id, {(t.session_id, t.user_id)}):
        raise TicketRefused
    closes = t.token_expires_at
    conn = LiveConnection(
        *connection_key(t.clinic_id, connection_id),
        GSI1PK=connection_lookup(connection_id),
        GSI1SK=t.clinic_id,
        GSI2PK=expiry_bucket(closes),
        GSI2SK=f"{iso(closes)}#{t.clinic_id}#{connection_id}",
        connection_id=connection_id,
        clinic_id=t.clinic_id,
        user_id=t.user_id,
        session_id=t.session_id,
        connected_at=now(),
        closes_at=closes,
        expires_at=closes + CONNECTION_TTL_SLACK,
    )
    conn.save()
    logger.info("live connected", extra={"clinic_id": t.clinic_id})
    return conn


def find(connection_id: str) -> LiveConnection | None:
    for item in Item.gsi1.query(connection_lookup(connection_id)):
        if isinstance(item, LiveConnection):
            return item
    return None


def disconnect(connection_id: str, clinic_id: str | None = None) -> bool:
    """``$disconnect`` (or a connection found gone): forget it. True if it was known."""
    if clinic_id is None:
        conn = find(connection_id)
        if conn is None:
            return False
        clinic_id = conn.clinic_id
    if not scoping.is_plain_id(clinic_id):
        return False
    scoping.adopt(clinic_id)  # the connection's clinic's credentials from here (ADR 0012)
    LiveConnection(*connection_key(clinic_id, connection_id)).delete()
    _forget_cached(clinic_id, connection_id)
    return True


_batch = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Within one invocation of the push function: a clinic's connections and which of their
    sessions are active are read once, not once per event of the batch."""
    _batch.connections, _batch.allowed = {}, {}
    try:
        yield
    finally:
        _batch.connections = _batch.allowed = None


def _batch_connections(clinic_id: str) -> list[LiveConnection]:
    cache = getattr(_batch, "connections", None)
    if cache is None:
        return connections(clinic_id)
    if clinic_id not in cache:
        cache[clinic_id] = connections(clinic_id)
    return cache[clinic_id]


def _batch_allowed(clinic_id: str, conns: list[LiveConnection]) -> set[tuple[str, str]]:
    wanted = {(c.session_id, c.user_id) for c in conns}
    cache = getattr(_batch, "allowed", None)
    if cache is None:
        return _session_active(clinic_id, wanted)
    known = cache.setdefault(clinic_id, {})
    missing = wanted - known.keys()
    if missing:
        active = _session_active(clinic_id, missing)
        known.update({pair: pair in active for pair in missing})
    return {pair for pair in wanted if known[pair]}


def _forget_cached(clinic_id: str, connection_id: str) -> None:
    cache = getattr(_batch, "connections", None)
    if cache and clinic_id in cache:
        cache[clinic_id] = [c for c in cache[clinic_id] if c.connection_id != connection_id]


def connections(clinic_id: str) -> list[LiveConnection]:
    pk, _ = connection_key(clinic_id, "")
    return [
        c
        for c in LiveConnection.query(pk, LiveConnection.SK.startswith(CONNECTION_PREFIX))
        if isinstance(c, LiveConnection)
    ]


def _session_active(clinic_id: str, sessions: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (session_id, user_id) pairs whose session is active and whose membership of the
    clinic is active: logout or deactivation stops live messages at the next event."""
    if not sessions:
        return set()
    keys = [Session.key(s) for s, _ in sessions] + [
        Membership.key(clinic_id, u) for u in {u for _, u in sessions}
    ]
    active_sessions, active_members = set(), set()
    for item in Item.batch_get(keys):
        if isinstance(item, Session) and item.status == "active" and item.clinic_id == clinic_id:
            active_sessions.add((item.session_id, item.user_id))
        elif isinstance(item, Membership) and item.status == "active":
            active_members.add(item.user_id)
    return {(s, u) for s, u in active_sessions if u in active_members}


# --- sending -----------------------------------------------------------------------------

_lock = threading.Lock()


@cache
def _management_client(endpoint: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name=settings().region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}),
    )


def management() -> Any:
    """The API Gateway Management API client of the WebSocket stage (``LIVE_MANAGEMENT_URL``:
    ``https://<api>.execute-api.<region>.amazonaws.com/<stage>``; locally the local server's
    ``/_live``)."""
    endpoint = os.environ.get("LIVE_MANAGEMENT_URL")
    if not endpoint:
        raise RuntimeError("LIVE_MANAGEMENT_URL is not set (infra/stack.py sets it)")
    with _lock:
        return _management_client(endpoint)


def _gone(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "GoneException" or (
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
    )


def send(conn: LiveConnection, message: dict[str, Any], *, forget_if_gone: bool = True) -> bool:
    """Post one message; a gone connection is deleted. True if it was delivered. Never
    raises: a failing send loses one message, not the batch (a screen refetches what it shows
    when it reconnects)."""
    try:
        management().post_to_connection(
            ConnectionId=conn.connection_id, Data=json.dumps(message).encode()
        )
        return True
    except ClientError as exc:
        if _gone(exc):
            if forget_if_gone:
                disconnect(conn.connection_id, conn.clinic_id)
            return False
        error = exc.response.get("Error", {}).get("Code")
    except BotoCoreError as exc:
        error = type(exc).__name__
    logger.warning("live send failed", extra={"clinic_id": conn.clinic_id, "error": error})
    return False


def close(conn: LiveConnection) -> None:
    """End a connection from the server side (API Gateway then calls ``$disconnect``)."""
    try:
        management().delete_connection(ConnectionId=conn.connection_id)
    except ClientError as exc:
        if not _gone(exc):
            logger.warning(
                "live close failed",
                extra={"clinic_id": conn.clinic_id, "error": exc.response["Error"].get("Code")},
            )
    except BotoCoreError as exc:
        logger.warning(
            "live close failed", extra={"clinic_id": conn.clinic_id, "error": type(exc).__name__}
        )
    disconnect(conn.connection_id, conn.clinic_id)


READY_DELAY_S = 1


def announce_ready(conn: LiveConnection) -> None:
    """Queue ``live.ready`` for a connection being opened, a second from now: by then
    API Gateway has finished ``$connect`` and accepts posts to it."""
    body = {
        "source": READY_SOURCE,
        "detail-type": "live.ready",
        "detail": {"clinic_id": conn.clinic_id, "connection_id": conn.connection_id},
    }
    aws.client("sqs").send_message(
        QueueUrl=_queue_url(), MessageBody=json.dumps(body), DelaySeconds=READY_DELAY_S
    )


@cache
def _queue_url() -> str:
    name = f"cuspide-{settings().stage}-live"  # infra/resources.py queue_name
    return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def ready(clinic_id: str, connection_id: str) -> str:
    """``live.ready`` to a connection that has just opened (API Gateway cannot send during
    ``$connect``: the socket handler queues this a second later, docs/adr/1101)."""
    try:
        conn = LiveConnection.get(*connection_key(clinic_id, connection_id))
    except DoesNotExist:
        return "gone"
    # Not forgotten if "gone": it may just not be established yet; $disconnect cleans up.
    return "ready" if send(conn, {"type": "live.ready"}, forget_if_gone=False) else "not-sent"


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def push(event: dict[str, Any]) -> str:
    """An EventBridge event (as the ``live`` queue delivers it) -> the open connections of its
    clinic. Idempotent on ``event_id``: a redelivery sends nothing."""
    detail_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    clinic_id, event_id = detail.get("clinic_id"), detail.get("event_id")
    if event.get("source") == READY_SOURCE and detail_type == "live.ready":
        return ready(str(clinic_id), str(detail.get("connection_id")))
    if event.get("source") != "cuspide" or not wants(detail_type):
        return "ignored"
    if not clinic_id or not event_id:
        return "invalid"
    clinic_id = str(clinic_id)
    occurred = _parse_time(detail.get("occurred_at"))
    if occurred is not None and now() - occurred > MAX_AGE:
        return "stale"  # no table read: a backlog drains at the speed of the queue
    # Only what happened while a screen was open: one that connects later loads the current
    # state itself, and a backlog of old events (a queue catching up) is no toast anyone wants.
    conns = [
        c
        for c in _batch_connections(clinic_id)
        if occurred is None or occurred >= c.connected_at - CONNECT_SKEW
    ]
    if not conns:
        return "no-connections"
    at = now()
    claim = LivePushed(
        *pushed_key(clinic_id, str(event_id)), event_type=detail_type, expires_at=at + PUSHED_TTL
    )
    try:
        claim.save(condition=LivePushed.PK.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            return "duplicate"
        raise
    try:
        allowed = _batch_allowed(clinic_id, conns)
    except Exception:
        claim.delete()  # nothing was sent: the redelivery must send it
        raise
    message = message_for(detail_type, detail)
    sent = 0
    for conn in conns:
        if conn.closes_at <= at or (conn.session_id, conn.user_id) not in allowed:
            close(conn)  # its token expired, or its session ended: nothing more for it
            continue
        sent += send(conn, message)
    return f"sent:{sent}"


def expire(at: datetime | None = None) -> dict[str, int]:
    """The expiry job: ``live.expiring`` to connections whose token expires within WARN_AHEAD,
    and close those within CLOSE_AHEAD. Reads the minute buckets from SWEEP_BEHIND ago to
    WARN_AHEAD ahead (GSI2), never the whole table."""
    at = at or now()
    warned = closed = 0
    minute = (at - SWEEP_BEHIND).replace(second=0, microsecond=0)
    while minute <= at + WARN_AHEAD:
        for conn in Item.gsi2.query(expiry_bucket(minute)):
            if not isinstance(conn, LiveConnection):
                continue
            with scoping.for_partition(conn.PK):  # the connection's clinic's credentials
                if conn.closes_at <= at + CLOSE_AHEAD:
                    close(conn)
                    closed += 1
                elif (
                    conn.closes_at <= at + WARN_AHEAD
                    and not conn.warned
                    and send(conn, {"type": "live.expiring", "closes_at": iso(conn.closes_at)})
                ):
                    conn.update(actions=[LiveConnection.warned.set(True)])
                    warned += 1
        minute += timedelta(minutes=1)
    return {"warned": warned, "closed": closed}
