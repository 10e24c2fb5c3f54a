"""WhatsApp: masked credentials, Test connection, webhook verification and signatures (nothing
stored on failure), dedupe, routing by phone_number_id and by number, buttons acting like links,
templates, statuses, the 24-hour window and Graph API errors shown to the admin."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import timedelta

import pytest

from chalicelib.comms.models import Conversation, Message
from chalicelib.core.db import clinic_pk
from tests.integration.comms.conftest import at, booked, consent, drain
from tests.integration.comms.graph_stub import GraphStub
from tests.integration.patients.helpers import create_patient
from tests.waiting import wait_for

_pn = itertools.count(100000001)
SECRET = "app-secret-0123456789abcdef"
VERIFY = "verify-token-0123456789"


@pytest.fixture
def graph(monkeypatch):
    stub = GraphStub()
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", stub.url)
    yield stub
    stub.stop()


def connect(api, token, clinic_id, pnid=None):
    from chalicelib.identity import service as identity

    identity.set_plan(clinic_id, "pro")  # WhatsApp is not in the free plan
    pnid = pnid or str(next(_pn))
    body = {
        "phone_number_id": pnid,
        "waba_id": "200000001",
        "access_token": "EAAG-access-token-1234567890",
        "app_secret": SECRET,
        "verify_token": VERIFY,
    }
    r = api.put("/comms/whatsapp", body, token=token)
    assert r.status == 200, r.body
    return pnid, r.json()["data"]


def identity_plan(clinic_id):
    from chalicelib.identity import service as identity

    identity.set_plan(clinic_id, "pro")


def sign(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def inbound(pnid, sender, wamid, text="Hola", button=None):
    msg = {
        "from": sender,
        "id": wamid,
        "timestamp": "1760000000",
        "type": "text",
        "text": {"body": text},
    }
    if button:
        msg = {
            "from": sender,
            "id": wamid,
            "timestamp": "1760000000",
            "type": "button",
            "button": {"payload": button, "text": "Confirmar"},
        }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": pnid},
                            "messages": [msg],
                        },
                    }
                ],
            }
        ],
    }


def post_hook(api, clinic_id, doc, secret=SECRET, sig=None):
    raw = json.dumps(doc).encode()
    return api.post(
        f"/public/whatsapp/{clinic_id}/webhook",
        raw=raw,
        headers={"X-Hub-Signature-256": sig or sign(raw, secret)},
    )


def _messages(clinic_id):
    return [m for m in Message.gsi2.query(Message.list_pk(clinic_id))]


def _out(m):
    from chalicelib.comms.service import message_out

    return message_out(m.PK[2:], m)


def test_credentials_masked_and_test_connection(api, clinic, graph):
    identity_plan(clinic.clinic_id)
    r = api.get("/comms/whatsapp", token=clinic.admin_token)
    assert r.json()["data"]["connected"] is False, r.body
    pnid, out = connect(api, clinic.admin_token, clinic.clinic_id)
    assert out["access_token"].startswith("••••") and "EAAG" not in json.dumps(out)
    assert SECRET not in json.dumps(out) and VERIFY not in json.dumps(out)
    r = api.post("/comms/whatsapp/test", token=clinic.admin_token)
    d = r.json()["data"]
    assert d["status"] == "connected" and d["display_phone_number"] == "+34 600 000 000"
    assert graph.requests[-1]["auth"] == "Bearer EAAG-access-token-1234567890"
    graph.fail_next.append((401, {"error": {"code": 190, "message": "Session has expired"}}))
    d = api.post("/comms/whatsapp/test", token=clinic.admin_token).json()["data"]
    assert d["status"] == "error" and d["last_error"]["code"] == 190
    assert "expired" in d["last_error"]["message"]


def test_same_phone_number_id_cannot_join_two_clinics(api, clinic, other_clinic):
    pnid, _ = connect(api, clinic.admin_token, clinic.clinic_id)
    identity_plan(other_clinic.clinic_id)
    body = {
        "phone_number_id": pnid,
        "waba_id": "200000001",
        "access_token": "EAAG-access-token-1234567890",
        "app_secret": SECRET,
        "verify_token": VERIFY,
    }
    r = api.put("/comms/whatsapp", body, token=other_clinic.admin_token)
    assert r.status == 409


def test_webhook_get_verification(api, clinic):
    connect(api, clinic.admin_token, clinic.clinic_id)
    base = f"/public/whatsapp/{clinic.clinic_id}/webhook"
    r = api.get(f"{base}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=12345")
    assert r.status == 200 and r.body == b"12345"
    r = api.get(f"{base}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=12345")
    assert r.status == 403
    r = api.get(
        "/public/whatsapp/01JZZZZZZZZZZZZZZZZZZZZZZZ/webhook?hub.mode=subscribe"
        f"&hub.verify_token={VERIFY}&hub.challenge=1"
    )
    assert r.status == 404


def test_webhook_signature_failures_store_nothing(api, clinic, other_clinic):
    pnid, _ = connect(api, clinic.admin_token, clinic.clinic_id)
    connect(api, other_clinic.admin_token, other_clinic.clinic_id)
    doc = inbound(pnid, "34600111222", "wamid.SIG1")
    raw = json.dumps(doc).encode()
    for sig in (None, "", "sha256=" + "0" * 64, sign(raw, "other-secret-xxxxxxxx"), "md5=abc"):
        h = {"X-Hub-Signature-256": sig} if sig is not None else {}
        r = api.post(f"/public/whatsapp/{clinic.clinic_id}/webhook", raw=raw, headers=h)
        assert r.status == 401, sig
    # a genuine notification of this clinic's number replayed at another clinic's webhook
    # (same app secret there): routed by phone_number_id, it belongs to neither and is ignored
    r = post_hook(api, other_clinic.clinic_id, doc)
    assert r.status == 200 and r.json()["data"]["ignored"] == 1
    assert _messages(clinic.clinic_id) == [] and _messages(other_clinic.clinic_id) == []


def test_inbound_routing_dedupe_and_window(api, clinic, other_clinic, graph):
    pnid, _ = connect(api, clinic.admin_token, clinic.clinic_id)
    other_pnid, _ = connect(api, other_clinic.admin_token, other_clinic.clinic_id)
    p = create_patient(api, clinic.admin_token, whatsapp="+34600123456")
    consent(api, clinic.admin_token, p["patient_id"], "whatsapp")
    doc = inbound(pnid, "34600123456", "wamid.IN1", "¿Puedo cambiar la cita?")
    r = post_hook(api, clinic.clinic_id, doc)
    assert r.status == 200 and r.json()["data"]["messages"] == 1
    r = post_hook(api, clinic.clinic_id, doc)  # Meta retries
    assert r.status == 200 and r.json()["data"]["duplicates"] == 1
    msgs = api.get(f"/comms/patients/{p['patient_id']}/messages", token=clinic.admin_token)
    items = msgs.json()["data"]["items"]
    assert len(items) == 1 and items[0]["direction"] == "in"
    assert items[0]["text"] == "¿Puedo cambiar la cita?"
    # another clinic's phone_number_id on this clinic's webhook is ignored
    r = post_hook(api, clinic.clinic_id, inbound(other_pnid, "34600123456", "wamid.IN2"))
    assert r.json()["data"]["ignored"] == 1 and r.json()["data"]["messages"] == 0
    convs = api.get("/comms/conversations", token=clinic.admin_token).json()["data"]["items"]
    assert convs[0]["patient_id"] == p["patient_id"] and convs[0]["window_open"] is True
    r = api.post(
        f"/comms/patients/{p['patient_id']}/whatsapp/reply",
        {"text": "Claro"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    # Meta throttles a reply: 429 with a code the SPA can show, nothing stored
    graph.fail_next.append((429, {"error": {"code": 130429, "message": "Rate limit hit"}}))
    r = api.post(
        f"/comms/patients/{p['patient_id']}/whatsapp/reply",
        {"text": "Otra"},
        token=clinic.admin_token,
    )
    assert r.status == 429 and r.json()["code"] == "WHATSAPP_RETRY_LATER"
    assert int(r.headers["Retry-After"]) == 60
    assert [m.text for m in map(_out, _messages(clinic.clinic_id)) if m.direction == "out"] == [
        "Claro"
    ]
    sent = graph.requests[-2]
    assert sent["path"].endswith(f"/{pnid}/messages") and sent["body"]["type"] == "text"
    # close the window: free-form refused
    conv = Conversation.get(clinic_pk(clinic.clinic_id), f"CONV#{p['patient_id']}")
    conv.last_inbound_at = conv.last_inbound_at - timedelta(hours=25)
    conv.save()
    r = api.post(
        f"/comms/patients/{p['patient_id']}/whatsapp/reply",
        {"text": "Hola"},
        token=clinic.admin_token,
    )
    assert r.status == 409 and r.json()["code"] == "WHATSAPP_WINDOW_CLOSED"


def test_template_statuses_and_quick_reply_button_confirms(api, comms, graph):
    cid, t = comms.ag.clinic_id, comms.token
    pnid, _ = connect(api, t, comms.ag.clinic_id)
    r = api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600987654", "preferred_channel": "whatsapp"},
        token=t,
    )
    assert r.status == 200, r.body
    consent(api, t, comms.ag.patient_id, "whatsapp")
    a = booked(api, comms.ag, at(comms.ag.monday, "13:00"))
    drain()
    tpl = [q for q in graph.requests if (q["body"] or {}).get("type") == "template"][-1]["body"]
    assert tpl["template"]["name"] == "cuspide_booking_confirmation"
    assert tpl["template"]["language"]["code"] == "es_ES" and tpl["to"] == "34600987654"
    buttons = [c for c in tpl["template"]["components"] if c["type"] == "button"]
    payload = buttons[0]["parameters"][0]["payload"]
    assert payload.startswith("L:")
    out = [m for m in _messages(cid) if m.channel == "whatsapp" and m.direction == "out"]
    wamid = out[0].provider_id
    status = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": pnid},
                            "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1"}],
                        },
                    }
                ],
            }
        ],
    }
    assert post_hook(api, cid, status).json()["data"]["statuses"] == 1
    assert Message.get(clinic_pk(cid), f"MSG#{out[0].message_id}").status == "delivered"
    r = post_hook(api, cid, inbound(pnid, "34600987654", "wamid.BTN1", button=payload))
    assert r.status == 200
    g = api.get(f"/appointments/{a['appointment_id']}", token=t).json()["data"]
    assert g["status"] == "confirmed"
    # the same button again (a new wamid) does nothing more: the link is spent
    post_hook(api, cid, inbound(pnid, "34600987654", "wamid.BTN2", button=payload))
    g = api.get(f"/appointments/{a['appointment_id']}", token=t).json()["data"]
    assert g["status"] == "confirmed"


def test_each_button_index_always_carries_its_own_action(api, comms, graph):
    """The template's buttons are fixed (0 Confirm, 1 Cancel): a reminder of an appointment
    already confirmed must not put the cancel link under "Confirm"."""
    cid, t = comms.ag.clinic_id, comms.token
    pnid, _ = connect(api, t, cid)
    api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600987600", "preferred_channel": "whatsapp"},
        token=t,
    )
    consent(api, t, comms.ag.patient_id, "whatsapp")
    a = booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    r = api.post(f"/appointments/{a['appointment_id']}/status", {"status": "confirmed"}, token=t)
    assert r.status == 200, r.body
    drain()
    moved = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(comms.ag.monday, "12:30"), "reschedule_reason": "hueco"},
        token=t,
    )
    assert moved.status == 200, moved.body
    drain()
    tpl = [q for q in graph.requests if (q["body"] or {}).get("type") == "template"][-1]["body"]
    assert tpl["template"]["name"] == "cuspide_appointment_rescheduled"
    buttons = [c for c in tpl["template"]["components"] if c["type"] == "button"]
    assert [b["index"] for b in buttons] == ["0", "1"]
    confirm = buttons[0]["parameters"][0]["payload"]
    post_hook(api, cid, inbound(pnid, "34600987600", "wamid.CONF0", button=confirm))
    g = api.get(f"/appointments/{a['appointment_id']}", token=t).json()["data"]
    assert g["status"] == "confirmed"  # "Confirm" on a confirmed appointment never cancels it


def test_graph_rate_limit_is_retried_by_the_consumer(api, comms, graph):
    t = comms.token
    connect(api, t, comms.ag.clinic_id)
    api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600555444", "preferred_channel": "whatsapp"},
        token=t,
    )
    consent(api, t, comms.ag.patient_id, "whatsapp")
    graph.fail_next.append((429, {"error": {"code": 130429, "message": "Rate limit hit"}}))
    booked(api, comms.ag, at(comms.ag.monday, "17:00"))
    drain()  # first attempt fails and is left on the queue, to come back after a delay

    def templates_sent() -> int:
        drain()
        return len([q for q in graph.requests if (q["body"] or {}).get("type") == "template"])

    wait_for(lambda: templates_sent() >= 2, "the reminder to be retried after Meta's 429")
    assert templates_sent() == 2
    d = api.get("/comms/whatsapp", token=t).json()["data"]
    assert d["last_error"]["code"] == 130429


def _status_doc(pnid, wamid, status, errors=None):
    st = {"id": wamid, "status": status, "timestamp": "1760000000", "recipient_id": "34600"}
    if errors:
        st["errors"] = errors
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": pnid},
                            "statuses": [st],
                        },
                    }
                ],
            }
        ],
    }


def test_status_notifications_are_deduplicated_and_never_go_backwards(api, clinic, graph):
    cid, t = clinic.clinic_id, clinic.admin_token
    pnid, _ = connect(api, t, cid)
    p = create_patient(api, t, whatsapp="+34600321321")
    consent(api, t, p["patient_id"], "whatsapp")
    assert post_hook(api, cid, inbound(pnid, "34600321321", "wamid.OPEN")).status == 200
    sent = []
    for text in ("Primera", "Segunda"):
        r = api.post(f"/comms/patients/{p['patient_id']}/whatsapp/reply", {"text": text}, token=t)
        assert r.status == 201, r.body
        sent.append(r.json()["data"]["message_id"])
    first, second = (Message.get(clinic_pk(cid), f"MSG#{mid}") for mid in sent)

    def status(wamid, st, errors=None):
        r = post_hook(api, cid, _status_doc(pnid, wamid, st, errors))
        assert r.status == 200
        return r.json()["data"]["statuses"]

    assert status(first.provider_id, "read") == 1
    assert status(first.provider_id, "read") == 0  # Meta's retry of the same notification
    assert status(first.provider_id, "delivered") == 1  # arrives late: recorded, not applied
    m = Message.get(clinic_pk(cid), f"MSG#{first.message_id}")
    assert m.status == "read"
    assert [h["status"] for h in m.status_history] == ["sent", "read", "delivered"]
    err = [{"code": 131026, "title": "Message undeliverable"}]
    assert status(second.provider_id, "failed", err) == 1
    m = Message.get(clinic_pk(cid), f"MSG#{second.message_id}")
    assert m.status == "failed" and m.error["code"] == 131026
    assert "undeliverable" in m.error["message"]
    assert status("wamid.UNKNOWN", "delivered") == 0
    # the staff see it through the API
    items = api.get(f"/comms/patients/{p['patient_id']}/messages", token=t).json()["data"]["items"]
    by_id = {i["message_id"]: i for i in items}
    assert by_id[first.message_id]["status"] == "read"
    assert by_id[second.message_id]["status"] == "failed"


def test_inbound_from_an_unknown_number_is_kept_without_a_patient(api, clinic):
    cid = clinic.clinic_id
    pnid, _ = connect(api, clinic.admin_token, cid)
    r = post_hook(api, cid, inbound(pnid, "34999000111", "wamid.STRANGER", "¿Abren el sábado?"))
    assert r.status == 200 and r.json()["data"]["messages"] == 1
    msgs = _messages(cid)
    assert len(msgs) == 1 and msgs[0].patient_id is None and msgs[0].direction == "in"
    items = api.get("/comms/messages", token=clinic.admin_token).json()["data"]["items"]
    assert items[0]["text"] == "¿Abren el sábado?"
    assert api.get("/comms/conversations", token=clinic.admin_token).json()["data"]["items"] == []
    # malformed or foreign JSON after a good signature: 200 (Meta would retry forever), ignored
    for doc in ({"object": "page", "entry": []}, {"object": "whatsapp_business_account"}):
        r = post_hook(api, cid, doc)
        assert r.status == 200
    raw = b"not json"
    r = api.post(
        f"/public/whatsapp/{cid}/webhook", raw=raw, headers={"X-Hub-Signature-256": sign(raw)}
    )
    assert r.status == 200 and r.json()["data"]["ignored"] == 1
    assert len(_messages(cid)) == 1


def test_a_bad_parameter_breaks_one_message_not_the_connection(api, comms, graph):
    t = comms.token
    connect(api, t, comms.ag.clinic_id)
    assert api.post("/comms/whatsapp/test", token=t).json()["data"]["status"] == "connected"
    r = api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600987655", "preferred_channel": "whatsapp"},
        token=t,
    )
    assert r.status == 200, r.body
    consent(api, t, comms.ag.patient_id, "whatsapp")
    # Meta refuses one message with 100 "invalid parameter" (e.g. a recipient it cannot reach)
    graph.fail_next.append((400, {"error": {"code": 100, "message": "Invalid parameter"}}))
    booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    drain()
    d = api.get("/comms/whatsapp", token=t).json()["data"]
    assert d["status"] == "connected" and d["last_error"]["code"] == 100
    # the same code on the connection test means the phone number id itself is wrong
    graph.fail_next.append((400, {"error": {"code": 100, "message": "Object does not exist"}}))
    assert api.post("/comms/whatsapp/test", token=t).json()["data"]["status"] == "error"


def test_the_webhook_runs_with_the_credentials_of_the_clinic_it_names(
    api, clinic, other_clinic, scoped_as
):
    """ADR 0012: the webhook's clinic (its path, checked against the signature of that
    clinic's app secret) signs every read and write of the notification."""
    pnid, _ = connect(api, clinic.admin_token, clinic.clinic_id)
    create_patient(api, clinic.admin_token, whatsapp="+34600765432")
    scoped_as.clear()
    r = post_hook(api, clinic.clinic_id, inbound(pnid, "34600765432", "wamid.SCOPE1"))
    assert r.status == 200 and r.json()["data"]["messages"] == 1
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
    # an id that is no plain id is an unknown webhook, never a 5xx
    r = api.post("/public/whatsapp/01J*ZZZZZZZZZZZZZZZZZZZZZZ/webhook", raw=b"{}")
    assert r.status == 404
