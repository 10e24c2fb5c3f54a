"""Live notifications: tickets, connections, pushing a clinic's events to its connections only
(docs/adr/1101-live-notifications.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.ids import iso, new_id, now
from chalicelib.live import service
from chalicelib.live.models import (
    LiveConnection,
    LivePushed,
    LiveTicket,
    connection_key,
    pushed_key,
)
from functions import live_push, live_socket
from infra.local.workers import FakeLambdaContext, sqs_event
from tests.integration.conftest import add_member, signup


def ticket(api: Any, token: str) -> dict:
    r = api.post("/live/tickets", token=token)
    assert r.status == 201, r.body
    return r.json()["data"]


def socket_event(route: str, connection_id: str, **extra: Any) -> dict:
    return {"requestContext": {"routeKey": route, "connectionId": connection_id}, **extra}


def open_socket(gateway: Any, t: str, connection_id: str | None = None) -> tuple[str, dict]:
    cid = connection_id or new_id()
    answer = live_socket.handler(
        socket_event("$connect", cid, queryStringParameters={"ticket": t}),
        FakeLambdaContext("live-socket"),
    )
    if answer["statusCode"] == 200:
        gateway.open.add(cid)
    return cid, answer


def bus_event(name: str, clinic_id: str, **payload: Any) -> dict:
    return {
        "version": "0",
        "id": new_id(),
        "source": "cuspide",
        "detail-type": name,
        "detail": {
            "event_id": new_id(),
            "clinic_id": clinic_id,
            "occurred_at": iso(now()),
            "actor": {"type": "user", "id": "u1", "name": "Ana Admin", "ip": "10.0.0.1"},
            **payload,
        },
    }


def deliver(*events: dict) -> dict:
    """Through the real consumer, as Lambda's SQS integration calls it."""
    messages = [
        {"MessageId": new_id(), "ReceiptHandle": "r", "Body": json.dumps(e)} for e in events
    ]
    return live_push.handler(
        sqs_event(messages, "arn:aws:sqs:eu-south-2:123456789012:cuspide-test-live", "eu-south-2"),
        FakeLambdaContext("live"),
    )


# --- tickets ----------------------------------------------------------------------------------


def test_a_ticket_is_single_use_short_lived_and_stored_hashed(api, clinic, gateway, queued):
    t = ticket(api, clinic.admin_token)
    assert set(t) >= {"ticket", "url", "expires_at", "closes_at"}
    assert t["url"].startswith(("ws://", "wss://")) and "?" not in t["url"]
    ttl = (datetime.fromisoformat(t["expires_at"]) - now()).total_seconds()
    assert 50 < ttl <= 60
    stored = [i for i in LiveTicket.scan() if i.clinic_id == clinic.clinic_id]  # test-only scan
    assert len(stored) == 1 and t["ticket"] not in stored[0].PK
    assert t["ticket"] not in json.dumps(stored[0].attribute_values, default=str)

    cid, answer = open_socket(gateway, t["ticket"])
    assert answer["statusCode"] == 200
    conn = LiveConnection.get(*connection_key(clinic.clinic_id, cid))
    assert conn.user_id == clinic.admin_id and conn.closes_at > now()
    assert [c.connection_id for c in queued] == [cid]  # live.ready follows
    assert not [i for i in LiveTicket.scan() if i.clinic_id == clinic.clinic_id]

    # replayed
    _, again = open_socket(gateway, t["ticket"])
    assert again["statusCode"] == 401


def test_expired_unknown_and_missing_tickets_are_refused(api, clinic, gateway, queued):
    t = ticket(api, clinic.admin_token)
    item = next(i for i in LiveTicket.scan() if i.clinic_id == clinic.clinic_id)
    item.update(actions=[LiveTicket.expires_at.set(now() - timedelta(seconds=1))])
    assert open_socket(gateway, t["ticket"])[1]["statusCode"] == 401
    assert open_socket(gateway, "not-a-ticket")[1]["statusCode"] == 401
    answer = live_socket.handler(socket_event("$connect", "x"), FakeLambdaContext("s"))
    assert answer["statusCode"] == 401
    assert not service.connections(clinic.clinic_id) and not queued


def test_tickets_need_a_signed_in_user(api):
    r = api.post("/live/tickets")
    assert r.status == 401


def test_ping_is_answered_and_disconnect_forgets(api, clinic, gateway, queued):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    ctx = FakeLambdaContext("s")
    pong = live_socket.handler(socket_event("$default", cid, body='{"type":"ping"}'), ctx)
    assert json.loads(pong["body"]) == {"type": "pong"}
    assert "body" not in live_socket.handler(socket_event("$default", cid, body="hello"), ctx)
    live_socket.handler(socket_event("$disconnect", cid), ctx)
    assert service.connections(clinic.clinic_id) == []


# --- pushing ----------------------------------------------------------------------------------


def test_each_connection_gets_its_own_clinics_events_only(api, clinic, gateway, queued):
    other = signup(api, "Clínica Otra")
    mine, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    mine2, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    theirs, _ = open_socket(gateway, ticket(api, other.admin_token)["ticket"])

    a = bus_event("appointment.scheduled", clinic.clinic_id, appointment_id="A1", patient_id="P1")
    b = bus_event("image.processed", other.clinic_id, image_id="I2", patient_id="P2", kind="xray")
    result = deliver(a, b)
    assert result == {"batchItemFailures": []}

    for cid in (mine, mine2):
        assert [m["type"] for m in gateway.sent[cid]] == ["appointment.scheduled"]
        assert gateway.sent[cid][0]["event_id"] == a["detail"]["event_id"]
    assert [m["data"] for m in gateway.sent[theirs]] == [
        {"image_id": "I2", "patient_id": "P2", "kind": "xray"}
    ]


def test_other_detail_types_are_not_pushed(api, clinic, gateway, queued):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    deliver(
        bus_event("invoice.issued", clinic.clinic_id, invoice_id="F1"),
        bus_event("message.sent", clinic.clinic_id, message_id="M1"),
        bus_event("message.received", clinic.clinic_id, message_id="M2", patient_id=None),
        bus_event("capture.received", clinic.clinic_id, image_id="C1", inbox=True),
    )
    assert [m["type"] for m in gateway.sent[cid]] == ["message.received", "capture.received"]


def test_the_message_carries_ids_and_statuses_never_phi(api, clinic, gateway, queued):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    deliver(
        bus_event(
            "capture.received",
            clinic.clinic_id,
            image_id="I1",
            device_id="D1",
            patient_id=None,
            inbox=True,
            kind="xray",
            # what a careless publisher might add: none of it may reach a screen
            patient_name="María López",
            hints={"dicom_patient_name": "LOPEZ^MARIA", "dicom_birth_date": "19800101"},
            filename="lopez_maria.dcm",
            notes="alergia a la penicilina",
            national_id="12345678Z",
            start="2026-03-09T09:00:00+01:00",
        )
    )
    (msg,) = gateway.sent[cid]
    assert set(msg) == {"type", "event_id", "occurred_at", "data"}
    assert msg["data"] == {
        "image_id": "I1",
        "device_id": "D1",
        "patient_id": None,
        "inbox": True,
        "kind": "xray",
    }
    text = json.dumps(msg)
    for phi in ("María", "LOPEZ", "1980", "lopez_maria", "penicilina", "12345678Z", "Ana Admin"):
        assert phi not in text


def test_a_redelivered_event_is_not_sent_twice(api, clinic, gateway, queued):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    e = bus_event("appointment.cancelled", clinic.clinic_id, appointment_id="A9")
    deliver(e)
    deliver(e)
    deliver(e, e)
    assert len(gateway.sent[cid]) == 1
    assert LivePushed.get(*pushed_key(clinic.clinic_id, e["detail"]["event_id"]))


def test_a_gone_connection_is_deleted(api, clinic, gateway, queued):
    alive, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    gone, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    gateway.open.discard(gone)  # the browser went away without a $disconnect
    deliver(bus_event("document.uploaded", clinic.clinic_id, document_id="D1"))
    assert [c.connection_id for c in service.connections(clinic.clinic_id)] == [alive]
    assert len(gateway.sent[alive]) == 1


def test_a_signed_out_session_gets_nothing_more(api, clinic, gateway, queued):
    member = add_member(api, clinic, "receptionist", "Rita Recepción")
    admin, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    desk, _ = open_socket(gateway, ticket(api, member["token"])["ticket"])
    assert api.post("/auth/logout", token=member["token"]).status in (200, 204)
    deliver(bus_event("appointment.confirmed", clinic.clinic_id, appointment_id="A2"))
    assert len(gateway.sent[admin]) == 1 and desk not in gateway.sent
    assert desk in gateway.closed
    assert [c.connection_id for c in service.connections(clinic.clinic_id)] == [admin]


def test_a_connection_ends_when_its_access_token_expires(
    api, clinic, gateway, queued, own_credentials
):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    conn = LiveConnection.get(*connection_key(clinic.clinic_id, cid))
    closes = conn.closes_at

    def expire(at):
        # The job's own role reaches the global path only (ADR 0012): each connection it
        # warns or closes is read and written with its clinic's credentials.
        own_credentials.clear()
        out = service.expire(at)
        assert own_credentials and set(own_credentials) == {"global"}
        return out

    # Well before: nothing happens.
    assert expire(closes - timedelta(minutes=10)) == {"warned": 0, "closed": 0}
    # Two minutes before: live.expiring, once.
    assert expire(closes - timedelta(seconds=150))["warned"] >= 1
    assert expire(closes - timedelta(seconds=100))["warned"] == 0
    assert [m["type"] for m in gateway.sent[cid]] == ["live.expiring"]
    # Within the last minute: closed (never after the token's expiry).
    assert expire(closes - timedelta(seconds=30))["closed"] >= 1
    assert cid in gateway.closed and service.connections(clinic.clinic_id) == []


def test_nothing_is_sent_past_the_tokens_expiry_even_before_the_job_runs(
    api, clinic, gateway, queued
):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    conn = LiveConnection.get(*connection_key(clinic.clinic_id, cid))
    conn.update(actions=[LiveConnection.closes_at.set(now() - timedelta(seconds=1))])
    deliver(bus_event("image.processed", clinic.clinic_id, image_id="I1", patient_id="P1"))
    assert cid not in gateway.sent and cid in gateway.closed


def test_events_from_before_the_connection_opened_are_not_replayed(api, clinic, gateway, queued):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    old = bus_event("appointment.scheduled", clinic.clinic_id, appointment_id="OLD")
    old["detail"]["occurred_at"] = iso(now() - timedelta(minutes=5))  # a queue catching up
    new = bus_event("appointment.scheduled", clinic.clinic_id, appointment_id="NEW")
    deliver(old, new)
    assert [m["data"]["appointment_id"] for m in gateway.sent[cid]] == ["NEW"]


def test_stale_events_are_dropped_without_reading_the_table(
    api, clinic, gateway, queued, monkeypatch
):
    cid, _ = open_socket(gateway, ticket(api, clinic.admin_token)["ticket"])
    stale = bus_event("image.processed", clinic.clinic_id, image_id="I0")
    stale["detail"]["occurred_at"] = iso(now() - timedelta(minutes=3))
    monkeypatch.setattr(service, "connections", lambda _c: 1 / 0)
    assert service.push(stale) == "stale"
