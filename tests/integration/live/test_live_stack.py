"""Live notifications on `make run`'s stack, for real: a browser-like WebSocket client opens
``ws://<host>:<PORT>/live?ticket=...`` on the local server, an appointment is booked through
the API, the event goes bus -> ``live`` queue -> functions/live_push.py -> the real boto3
``apigatewaymanagementapi`` client -> the local Management API -> the socket. A connection of
another clinic receives nothing of it."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

from tests.e2e.test_local_stack import TIMEOUT, Stack
from tests.integration.patients.helpers import patient_body

pytestmark = pytest.mark.e2e


class Socket:
    """A minimal WebSocket client (wsproto over a plain socket), as a browser would connect."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        self.ws = WSConnection(ConnectionType.CLIENT)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall(self.ws.send(Request(host=parts.netloc, target=target)))
        self.status: int | None = None
        self.inbox: list[dict[str, Any]] = []
        self.closed = False
        while self.status is None:
            self._pump(TIMEOUT)

    def _pump(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        self.ws.receive_data(data or None)
        for ev in self.ws.events():
            if isinstance(ev, AcceptConnection):
                self.status = 101
            elif isinstance(ev, RejectConnection):
                self.status = ev.status_code
            elif isinstance(ev, TextMessage):
                self.inbox.append(json.loads(ev.data))
            elif isinstance(ev, CloseConnection):
                self.closed = True
        if not data:
            self.closed = True

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def wait_for(self, check: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.inbox:
                if check(m):
                    return m
            if self.closed:
                break
            self._pump(0.5)
        raise AssertionError(f"no such message; got {self.inbox}")

    def close(self) -> None:
        with contextlib.suppress(OSError, LocalProtocolError):
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        self.sock.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("live-stack") / "state").start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def _token(stack: Stack, email: str) -> str:
    r = stack.login(email)
    assert r.status_code == 200, r.text
    return r.json()["data"]["access_token"]


def _ticket(stack: Stack, token: str) -> dict[str, Any]:
    r = requests.post(
        stack.url + "/api/v1/live/tickets",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _open(stack: Stack, token: str) -> Socket:
    t = _ticket(stack, token)
    assert t["url"] == f"ws://127.0.0.1:{stack.port}/live"
    s = Socket(f"{t['url']}?ticket={t['ticket']}")
    assert s.status == 101
    s.wait_for(lambda m: m["type"] == "live.ready", timeout=60)
    return s


def _book(stack: Stack, token: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {token}"}
    get = lambda p: requests.get(stack.url + "/api/v1" + p, headers=h, timeout=TIMEOUT)  # noqa: E731
    r = requests.post(stack.url + "/api/v1/patients", json=patient_body(), headers=h, timeout=60)
    assert r.status_code == 201, r.text
    patient_id = r.json()["data"]["patient_id"]
    pro = get("/agenda/professionals").json()["data"][0]["user_id"]
    cab = get("/agenda/cabinets").json()["data"][0]["cabinet_id"]
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=5)
    for day in range(5):
        for hour in ("10:00", "11:30", "12:30", "16:30", "17:30"):
            body = {
                "patient_id": patient_id,
                "professional_id": pro,
                "cabinet_id": cab,
                "start": f"{(monday + timedelta(days=day)).isoformat()}T{hour}:00",
                "duration_min": 15,
                "reason": "Revisión",
            }
            r = requests.post(stack.url + "/api/v1/appointments", json=body, headers=h, timeout=60)
            if r.status_code == 201:
                return r.json()["data"]
    raise AssertionError(f"could not book: {r.text}")


def test_a_clinics_screen_receives_its_events_and_no_other_clinics(stack):
    demo = _token(stack, "admin@demo.clinic")
    norte = _token(stack, "admin@norte.clinic")
    mine, theirs = _open(stack, demo), _open(stack, norte)
    try:
        # pings are answered
        mine.send('{"type":"ping"}')
        mine.wait_for(lambda m: m["type"] == "pong", timeout=20)

        appt = _book(stack, demo)
        got = mine.wait_for(
            lambda m: (
                m["type"] == "appointment.scheduled"
                and m["data"].get("appointment_id") == appt["appointment_id"]
            ),
            timeout=90,
        )
        assert set(got) == {"type", "event_id", "occurred_at", "data"}
        assert got["data"]["patient_id"] == appt["patient_id"]
        assert "start" not in got["data"] and "actor" not in got

        # Norte's screen is open and answering, and never sees Demo's booking.
        theirs.send("ping")
        theirs.wait_for(lambda m: m["type"] == "pong", timeout=20)
        time.sleep(3)
        assert appt["appointment_id"] not in json.dumps(theirs.inbox)
        assert appt["patient_id"] not in json.dumps(theirs.inbox)
    finally:
        mine.close()
        theirs.close()


def test_a_ticket_opens_one_connection_only(stack):
    demo = _token(stack, "admin@demo.clinic")
    t = _ticket(stack, demo)
    first = Socket(f"{t['url']}?ticket={t['ticket']}")
    assert first.status == 101
    second = Socket(f"{t['url']}?ticket={t['ticket']}")
    assert second.status == 401
    assert Socket(f"{t['url']}?ticket=made-up").status == 401
    # the access token itself opens nothing
    assert Socket(f"{t['url']}?ticket={demo}").status == 401
    first.close()


def test_the_management_api_answers_gone_for_unknown_connections(stack):
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{stack.url}/_live",
        region_name="eu-south-2",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106
    )
    with pytest.raises(ClientError) as err:
        client.post_to_connection(ConnectionId="nope=", Data=b"{}")
    assert err.value.response["Error"]["Code"] == "GoneException"
    # a browser's cross-origin POST carries no SigV4 signature: refused
    r = requests.post(f"{stack.url}/_live/@connections/nope=", data=b"x", timeout=TIMEOUT)
    assert r.status_code == 403
