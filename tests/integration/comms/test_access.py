"""Every communications route: 401 without a token, 403 naming the permission (and the plan for
WhatsApp), 422 on bad input, and one clinic never reaching another's patients, consents,
messages, conversations, settings or WhatsApp connection."""

from __future__ import annotations

import json
import re

from chalicelib.comms.models import Message
from chalicelib.comms.routes import router
from chalicelib.core.api import PUBLIC
from tests.integration.comms.conftest import at, booked, consent, drain, make_agenda
from tests.integration.comms.test_whatsapp import SECRET, connect, inbound, post_hook
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient

FAKE = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _path(p: str) -> str:
    return re.sub(r"\{channel\}", "email", re.sub(r"\{patient_id\}", FAKE, p))


def staff_specs():
    return [s for s in router.specs if s.permission != PUBLIC]


def test_every_staff_route_401_and_403_naming_the_permission(api, clinic):
    specs = staff_specs()
    assert len(specs) == 14
    member = add_member(api, clinic, "assistant")
    r = api.put("/roles/assistant", {"grants": []}, token=clinic.admin_token)
    assert r.status == 200
    for s in specs:
        r = api.request(s.method, _path(s.path), {} if s.body else None)
        assert r.status == 401, (s.method, s.path, r.status)
        r = api.request(s.method, _path(s.path), {} if s.body else None, token=member["token"])
        assert r.status == 403, (s.method, s.path, r.status)
        assert r.json()["data"]["permission"] == s.permission


def test_role_defaults_read_versus_write(api, clinic):
    p = create_patient(api, clinic.admin_token)
    hygienist = add_member(api, clinic, "hygienist")  # comms.messages.read only
    r = api.get(f"/comms/patients/{p['patient_id']}/consents", token=hygienist["token"])
    assert r.status == 200
    r = api.put(
        f"/comms/patients/{p['patient_id']}/consents/email",
        {"granted": True, "source": "verbal"},
        token=hygienist["token"],
    )
    assert r.status == 403 and r.json()["data"]["permission"] == "comms.messages.write"
    reception = add_member(api, clinic, "receptionist")
    r = api.put(
        f"/comms/patients/{p['patient_id']}/consents/email",
        {"granted": True, "source": "verbal"},
        token=reception["token"],
    )
    assert r.status == 200
    assert (
        api.put("/comms/settings", {"reminder_leads_min": [60]}, token=reception["token"]).status
        == 403
    )
    assert api.get("/comms/whatsapp", token=reception["token"]).status == 403


def test_whatsapp_is_not_in_the_free_plan(api, clinic):
    for method, path in (
        ("GET", "/comms/whatsapp"),
        ("PUT", "/comms/whatsapp"),
        ("DELETE", "/comms/whatsapp"),
        ("POST", "/comms/whatsapp/test"),
    ):
        r = api.request(method, path, {} if method == "PUT" else None, token=clinic.admin_token)
        assert r.status == 403, (method, path)
        assert r.json()["data"]["permission"] == "comms.whatsapp.admin"


def test_bad_input_is_422_with_the_field(api, clinic):
    from chalicelib.identity import service as identity

    identity.set_plan(clinic.clinic_id, "pro")
    t = clinic.admin_token
    p = create_patient(api, t)
    cases = [
        ("PUT", "/comms/settings", {"reminder_leads_min": [7]}, "reminder_leads_min"),
        ("PUT", "/comms/settings", {"reminder_leads_min": [60], "extra": 1}, "extra"),
        ("PUT", "/comms/settings", {"reminder_leads_min": [60], "eod_recipients": ["x"]}, None),
        (
            "PUT",
            f"/comms/patients/{p['patient_id']}/consents/email",
            {"granted": "maybe", "source": "verbal"},
            "granted",
        ),
        (
            "PUT",
            f"/comms/patients/{p['patient_id']}/consents/email",
            {"granted": True},
            "source",
        ),
        ("POST", f"/comms/patients/{p['patient_id']}/whatsapp/reply", {"text": ""}, "text"),
        (
            "PUT",
            "/comms/whatsapp",
            {
                "phone_number_id": "abc",
                "waba_id": "200000001",
                "access_token": "short",
                "app_secret": SECRET,
                "verify_token": "verify-token-0123456789",
            },
            "phone_number_id",
        ),
    ]
    for method, path, body, field in cases:
        r = api.request(method, path, body, token=t)
        assert r.status == 422, (path, body, r.status, r.body)
        fields = [e["field"] for e in r.json()["errors"]]
        if field:
            assert any(field in f for f in fields), (fields, field)
    r = api.get("/comms/messages?limit=0", token=t)
    assert r.status == 422
    r = api.put(
        f"/comms/patients/{p['patient_id']}/consents/sms",
        {"granted": True, "source": "verbal"},
        token=t,
    )
    assert r.status == 404 and r.json()["code"] == "NO_SUCH_CHANNEL"


def test_no_route_reaches_another_clinic(api, clinic, other_clinic):
    """Clínica Uno has a patient with consent, a sent booking, a WhatsApp conversation and its
    own settings; Clínica Otra's admin (every permission, pro plan) reaches none of it."""
    ag = make_agenda(api, clinic)
    p = create_patient(api, clinic.admin_token, whatsapp="+34600700800")
    pid = p["patient_id"]
    consent(api, clinic.admin_token, pid, "email")
    consent(api, clinic.admin_token, pid, "whatsapp")
    ag.patient_id = pid
    drain()
    booked(api, ag, at(ag.monday, "10:00"))
    drain()
    r = api.put("/comms/settings", {"reminder_leads_min": [2880]}, token=clinic.admin_token)
    assert r.status == 200
    pnid, _ = connect(api, clinic.admin_token, clinic.clinic_id)
    assert post_hook(api, clinic.clinic_id, inbound(pnid, "34600700800", "wamid.X1")).status == 200
    mine = api.get("/comms/messages", token=clinic.admin_token).json()["data"]["items"]
    assert {m["direction"] for m in mine} == {"in", "out"}

    other = other_clinic.admin_token
    from chalicelib.identity import service as identity

    identity.set_plan(other_clinic.clinic_id, "pro")
    # patient-scoped routes: another clinic's patient id is "not found"
    for method, path, body in (
        ("GET", f"/comms/patients/{pid}/consents", None),
        ("PUT", f"/comms/patients/{pid}/consents/email", {"granted": False, "source": "x-x"}),
        ("GET", f"/comms/patients/{pid}/messages", None),
        ("POST", f"/comms/patients/{pid}/whatsapp/reply", {"text": "hola"}),
        ("POST", f"/comms/patients/{pid}/whatsapp/read", None),
        (
            "POST",
            f"/comms/patients/{pid}/whatsapp/template",
            {"kind": "booking", "appointment_id": FAKE},
        ),
    ):
        r = api.request(method, path, body, token=other)
        assert r.status == 404, (method, path, r.status)
        assert pid not in r.body.decode()
    # the consent was not touched
    c = api.get(f"/comms/patients/{pid}/consents", token=clinic.admin_token).json()["data"]
    assert all(x["granted"] for x in c)
    # lists show only the clinic's own
    assert api.get("/comms/messages", token=other).json()["data"]["items"] == []
    assert api.get("/comms/conversations", token=other).json()["data"]["items"] == []
    # and Uno's conversation is still unread (Otra's "mark read" reached nothing)
    convs = api.get("/comms/conversations", token=clinic.admin_token).json()["data"]["items"]
    assert convs[0]["unread"] == 1
    # settings and the WhatsApp connection are per clinic
    s = api.get("/comms/settings", token=other).json()["data"]
    assert s["reminder_leads_min"] == [1440, 120]
    w = api.get("/comms/whatsapp", token=other).json()["data"]
    assert w["connected"] is False and w["phone_number_id"] is None
    assert api.post("/comms/whatsapp/test", token=other).status == 404
    assert api.delete("/comms/whatsapp", token=other).status == 404
    assert api.get("/comms/whatsapp", token=clinic.admin_token).json()["data"]["connected"]
    # a cursor of one clinic's listing is refused in another's
    r = api.get("/comms/messages?limit=1", token=clinic.admin_token)
    cursor = r.json()["data"]["next_cursor"]
    assert cursor
    assert api.get(f"/comms/messages?cursor={cursor}", token=other).status == 400
    # the other clinic's webhook, even correctly signed, stores nothing for Uno's number
    r = post_hook(api, other_clinic.clinic_id, inbound(pnid, "34600700800", "wamid.X2"))
    assert r.status == 404  # Otra has no WhatsApp connection: unknown webhook
    assert len(list(Message.gsi2.query(Message.list_pk(other_clinic.clinic_id)))) == 0
    raw = json.dumps(inbound(pnid, "34600700800", "wamid.X3")).encode()
    assert (
        api.post(
            f"/public/whatsapp/{other_clinic.clinic_id}/webhook",
            raw=raw,
            headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
        ).status
        == 404
    )
