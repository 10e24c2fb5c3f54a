"""The local server's WebSocket and Management API, in-process against the test moto: a real
socket, the real boto3 ``apigatewaymanagementapi`` client, the live queue pumped by the local
workers into functions/live_push.py."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chalicelib.core import events
from chalicelib.core.config import settings
from infra.local import server
from infra.local.workers import QueuePump, sqs_client
from tests.conftest import ENDPOINT, RESOURCES, free_port
from tests.integration.conftest import signup
from tests.integration.live.test_live_stack import Socket


@pytest.fixture(scope="module")
def local(app: Any) -> Iterator[dict[str, Any]]:
    port = free_port()
    saved = {k: os.environ.get(k) for k in ("LIVE_URL", "LIVE_MANAGEMENT_URL")}
    os.environ["LIVE_URL"] = f"ws://127.0.0.1:{port}/live"
    os.environ["LIVE_MANAGEMENT_URL"] = f"http://127.0.0.1:{port}/_live"
    srv = server.start(app, "127.0.0.1", port)
    queue = next(q for q in RESOURCES.queues if q.name == "live")
    region = settings().region
    pump = QueuePump(
        RESOURCES, queue, sqs_client(ENDPOINT, region), region, threading.Event(), print
    )
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            pump.drain_once(wait_s=1)

    # what is on the queue from earlier modules is not this module's
    while pump.drain_once(wait_s=0):
        pass
    threading.Thread(target=run, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}", "port": port}
    stop.set()
    srv.shutdown()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _open(local: dict[str, Any], token: str) -> Socket:
    r = requests.post(
        local["url"] + "/api/v1/live/tickets",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    t = r.json()["data"]
    assert t["url"] == f"ws://127.0.0.1:{local['port']}/live"
    s = Socket(f"{t['url']}?ticket={t['ticket']}")
    assert s.status == 101
    return s


def test_ready_ping_events_of_its_clinic_only_and_close(api, local):
    a, b = signup(api, "Clínica A"), signup(api, "Clínica B")
    sa, sb = _open(local, a.admin_token), _open(local, b.admin_token)
    started = time.time()
    sa.wait_for(lambda m: m["type"] == "live.ready", timeout=20)
    sb.wait_for(lambda m: m["type"] == "live.ready", timeout=20)
    assert time.time() - started < 15
    sa.send("ping")
    sa.wait_for(lambda m: m["type"] == "pong", timeout=10)

    actor = {"type": "user", "id": a.admin_id, "name": "Ana Admin"}
    events.publish("appointment.scheduled", a.clinic_id, actor, appointment_id="AA", patient_id="P")
    events.publish("image.processed", b.clinic_id, actor, image_id="BB", patient_id="Q")
    got_a = sa.wait_for(lambda m: m["type"] == "appointment.scheduled", timeout=30)
    got_b = sb.wait_for(lambda m: m["type"] == "image.processed", timeout=30)
    assert got_a["data"] == {"appointment_id": "AA", "patient_id": "P"}
    assert got_b["data"] == {"image_id": "BB", "patient_id": "Q"}
    time.sleep(2)
    assert [m["type"] for m in sa.inbox] == ["live.ready", "pong", "appointment.scheduled"]
    assert [m["type"] for m in sb.inbox] == ["live.ready", "image.processed"]

    # the server closes a connection through the Management API (as the expiry job does)
    from chalicelib.live import service

    (conn,) = service.connections(a.clinic_id)
    service.close(conn)
    deadline = time.time() + 10
    while not sa.closed and time.time() < deadline:
        sa._pump(0.5)
    assert sa.closed
    sa.close()
    sb.close()
    # the client closing runs $disconnect: B's connection item goes
    deadline = time.time() + 10
    while service.connections(b.clinic_id) and time.time() < deadline:
        time.sleep(0.2)
    assert service.connections(b.clinic_id) == []
