"""The local stack's developer outbox: a sent booking confirmation shows with its HTML, text
and ICS, newest first; outbound WhatsApp goes to the Graph API stand-in and shows too."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from icalendar import Calendar

from chalicelib.comms.models import Message
from chalicelib.core.config import settings
from infra.local import outbox, server
from tests.conftest import free_port
from tests.integration.comms.conftest import at, booked, consent, drain
from tests.integration.comms.test_whatsapp import connect


@pytest.fixture
def stack(app, monkeypatch):
    """The local front door on a free port with the outbox and the Graph stand-in mounted,
    as ``python -m infra.local run`` serves them."""
    box = outbox.Outbox(settings().region)
    box.install()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    private = (server.Private(outbox.OUTBOX, KEY),)
    http = server.start(app, "127.0.0.1", port, extra_routes=box.routes(), private=private)
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", outbox.graph_url(base))
    yield base, box
    http.shutdown()


KEY = "k3y-of-this-run"
OWNER = {"Cookie": f"{server.KEY_COOKIE}={KEY}"}


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers=OWNER):
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - loopback
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_outbox_shows_a_sent_booking_confirmation(api, comms, stack):
    base, _ = stack
    booked(api, comms.ag, at(comms.ag.monday, "10:00"))
    drain()
    status, headers, body = fetch(f"{base}/_local/outbox")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert comms.patient["email"] in page and "Clínica Uno: su cita del" in page

    status, _, body = fetch(f"{base}/_local/outbox/messages.json")
    listing = json.loads(body)
    mine = [m for m in listing["mail"] if comms.patient["email"] in m["to"]]
    assert len(mine) == 1
    mail = mine[0]
    assert mail["subject"].startswith("Clínica Uno: su cita del") and mail["at"]
    assert set(mail["parts"]) == {"html", "text", "ics", "eml"}
    assert f'href="/_local/outbox/mail/{mail["id"]}/ics"' in page

    status, headers, html = fetch(f"{base}/_local/outbox/mail/{mail['id']}/html")
    assert status == 200 and "sandbox" in headers["Content-Security-Policy"]
    assert "Confirmar asistencia" in html.decode()
    status, _, text = fetch(f"{base}/_local/outbox/mail/{mail['id']}/text")
    assert text.decode().startswith("Hola, Marta:")
    status, headers, ics = fetch(f"{base}/_local/outbox/mail/{mail['id']}/ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(ics)
    assert str(cal["METHOD"]) == "REQUEST" and cal.walk("VEVENT")[0]["SEQUENCE"] == 0

    # newest first: a reschedule notice goes above the booking
    appt = booked(api, comms.ag, at(comms.ag.monday, "11:00"))
    drain()
    api.patch(
        f"/appointments/{appt['appointment_id']}",
        {"start": at(comms.ag.monday, "11:30")},
        token=comms.token,
    )
    drain()
    listing = json.loads(fetch(f"{base}/_local/outbox/messages.json")[2])
    subjects = [m["subject"] for m in listing["mail"] if comms.patient["email"] in m["to"]]
    assert len(subjects) == 3 and "ha cambiado" in subjects[0]
    times = [m["at"] for m in listing["mail"] if comms.patient["email"] in m["to"]]
    assert times == sorted(times, reverse=True)


def test_outbox_shows_whatsapp_sent_through_the_graph_stand_in(api, comms, stack):
    base, box = stack
    t, cid = comms.token, comms.ag.clinic_id
    pnid, _ = connect(api, t, cid)
    d = api.post("/comms/whatsapp/test", token=t).json()["data"]
    assert d["status"] == "connected" and d["display_phone_number"] == "+34 600 000 000"
    api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600444555", "preferred_channel": "whatsapp"},
        token=t,
    )
    consent(api, t, comms.ag.patient_id, "whatsapp")
    booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    drain()
    assert len(box.whatsapp) == 1
    sent = box.whatsapp[0]
    assert (sent.phone_number_id, sent.to, sent.type) == (pnid, "34600444555", "template")
    # the app stored the stand-in's wamid, as it would Meta's
    out = [m for m in Message.gsi2.query(Message.list_pk(cid)) if m.channel == "whatsapp"]
    assert [m.provider_id for m in out] == [sent.wamid]
    listing = json.loads(fetch(f"{base}/_local/outbox/messages.json")[2])
    wa = listing["whatsapp"][0]
    assert wa["wamid"] == sent.wamid and wa["to"] == "34600444555"
    assert wa["summary"].startswith("cuspide_booking_confirmation [es_ES] (Marta | Clínica Uno |")
    page = fetch(f"{base}/_local/outbox")[2].decode()
    assert sent.wamid in page and "cuspide_booking_confirmation" in page


def test_outbox_and_stand_in_refuse_what_they_do_not_know(stack):
    base, box = stack
    assert fetch(f"{base}/_local/outbox/mail/nope/html")[0] == 404
    assert fetch(f"{base}/_local/outbox", "POST", b"x")[0] == 405
    status, _, body = fetch(f"{base}/_local/graph/v21.0/123/messages", "POST", b"not json")
    assert status == 400 and json.loads(body)["error"]["code"] == 100
    status, _, body = fetch(
        f"{base}/_local/graph/v21.0/123/messages",
        "POST",
        json.dumps({"messaging_product": "whatsapp", "to": "+34 600", "type": "text"}).encode(),
    )
    assert status == 400
    assert fetch(f"{base}/_local/graph/nonsense", "GET")[0] == 400
    assert box.whatsapp == []
    # the API is still served beside them
    assert fetch(f"{base}/api/v1/health")[0] == 200


def test_outbox_opens_only_with_the_key_the_runner_printed(api, comms, stack):
    """It shows invitation and password links: nobody else on the machine (nor a web page the
    developer visits) may read it."""
    base, _ = stack
    for url in (f"{base}/_local/outbox", f"{base}/_local/outbox/messages.json"):
        assert fetch(url, headers={})[0] == 403
        assert fetch(url + "?key=guess", headers={})[0] == 403
        assert fetch(url, headers={"Cookie": f"{server.KEY_COOKIE}=guess"})[0] == 403
    status, headers, body = fetch(f"{base}/_local/outbox?key={KEY}", headers={})
    assert status == 200 and b"<html" in body.lower()
    cookie = headers["Set-Cookie"]
    assert f"{server.KEY_COOKIE}={KEY}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_local/outbox" in cookie
    assert fetch(f"{base}/_local/outbox/messages.json")[0] == 200  # the cookie opens the rest
    # the API, the SPA and the Graph stand-in (called by the app itself) are not behind it
    assert fetch(f"{base}/api/v1/health", headers={})[0] == 200
    graph = outbox.graph_url(base) + "/123456"
    assert fetch(graph, headers={})[0] == 200
