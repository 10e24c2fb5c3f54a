"""What the staff app's WhatsApp inbox and communications settings need from the API (issue 15):
conversations that say who and what, marking one read, a template outside the 24-hour window,
who recorded each consent, the end-of-day time and the channels reminders may use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.comms import scheduling
from chalicelib.comms.models import Conversation, Due
from chalicelib.core.db import clinic_pk
from tests.integration.comms.conftest import at, booked, consent, drain
from tests.integration.comms.test_whatsapp import connect, graph, inbound, post_hook
from tests.integration.conftest import mails_to

__all__ = ["graph"]  # the fixture, used by name


def _whatsapp_patient(api, comms):
    t = comms.token
    r = api.patch(
        f"/patients/{comms.ag.patient_id}",
        {"whatsapp": "+34600555111", "preferred_channel": "whatsapp"},
        token=t,
    )
    assert r.status == 200, r.body
    consent(api, t, comms.ag.patient_id, "whatsapp")
    return comms.ag.patient_id


def test_conversation_says_who_what_and_until_when_and_can_be_marked_read(api, comms, graph):
    t, cid = comms.token, comms.ag.clinic_id
    pnid, _ = connect(api, t, cid)
    pid = _whatsapp_patient(api, comms)
    for n, text in enumerate(("Hola", "¿Puedo ir a las cinco?")):
        post_hook(api, cid, inbound(pnid, "34600555111", f"wamid.INBOX{n}", text))
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["patient_id"] == pid and c["patient_name"].startswith("Marta Ruiz")
    assert c["unread"] == 2 and c["window_open"] is True
    assert c["last_text"] == "¿Puedo ir a las cinco?" and c["last_direction"] == "in"
    closes = datetime.fromisoformat(c["window_closes_at"])
    assert closes == datetime.fromisoformat(c["last_inbound_at"]) + timedelta(hours=24)
    r = api.post(f"/comms/patients/{pid}/whatsapp/read", token=t)
    assert r.status == 204, r.body
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["unread"] == 0 and c["last_text"] == "¿Puedo ir a las cinco?"
    # the reply becomes the preview line
    r = api.post(f"/comms/patients/{pid}/whatsapp/reply", {"text": "Sí, claro"}, token=t)
    assert r.status == 201, r.body
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["last_text"] == "Sí, claro" and c["last_direction"] == "out" and c["unread"] == 0
    # the preview is kept on the conversation, sealed like the message itself
    conv = Conversation.get(clinic_pk(cid), f"CONV#{pid}")
    assert conv.last_direction == "out" and "claro" not in (conv.last_text_sealed or "claro")
    # a conversation stored before the preview was kept: looked up from the messages
    conv.last_direction = conv.last_text_sealed = None
    conv.save()
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["last_text"] == "Sí, claro" and c["last_direction"] == "out"
    # a patient with no conversation: 404 in words
    other = api.post("/patients", _patient_body(), token=t).json()["data"]["patient_id"]
    r = api.post(f"/comms/patients/{other}/whatsapp/read", token=t)
    assert r.status == 404 and r.json()["code"] == "NO_CONVERSATION"


def _patient_body():
    from tests.integration.patients.helpers import patient_body

    return patient_body(first_name="Otro", last_name="Paciente")


def test_template_outside_the_window(api, comms, graph):
    t, cid = comms.token, comms.ag.clinic_id
    pnid, _ = connect(api, t, cid)
    pid = _whatsapp_patient(api, comms)
    a = booked(api, comms.ag, at(comms.ag.monday, "11:00"))
    drain()
    post_hook(api, cid, inbound(pnid, "34600555111", "wamid.TPL0", "Hola"))
    conv = Conversation.get(clinic_pk(cid), f"CONV#{pid}")
    conv.last_inbound_at = conv.last_inbound_at - timedelta(hours=25)
    conv.save()
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["window_open"] is False and c["window_closes_at"] is None
    r = api.post(f"/comms/patients/{pid}/whatsapp/reply", {"text": "Hola"}, token=t)
    assert r.status == 409 and r.json()["code"] == "WHATSAPP_WINDOW_CLOSED"
    body = {"kind": "reminder", "appointment_id": a["appointment_id"]}
    r = api.post(f"/comms/patients/{pid}/whatsapp/template", body, token=t)
    assert r.status == 201, r.body
    m = r.json()["data"]
    assert m["kind"] == "reminder" and m["subject"] == "cuspide_appointment_reminder"
    assert m["status"] == "sent" and m["channel"] == "whatsapp"
    sent = graph.requests[-1]["body"]
    assert sent["type"] == "template" and sent["to"] == "34600555111"
    assert sent["template"]["name"] == "cuspide_appointment_reminder"
    c = api.get("/comms/conversations", token=t).json()["data"]["items"][0]
    assert c["last_direction"] == "out" and c["last_text"] == "cuspide_appointment_reminder"
    assert c["window_open"] is False  # only the patient's message opens it
    # an appointment of another patient, an unknown kind, a patient without consent
    other = api.post("/patients", _patient_body(), token=t).json()["data"]["patient_id"]
    r = api.post(f"/comms/patients/{other}/whatsapp/template", body, token=t)
    assert r.status == 409 and r.json()["code"] == "WHATSAPP_NOT_ALLOWED"
    consent(api, t, pid, "whatsapp", granted=False)
    r = api.post(f"/comms/patients/{pid}/whatsapp/template", body, token=t)
    assert r.status == 409 and r.json()["code"] == "WHATSAPP_NOT_ALLOWED"
    consent(api, t, pid, "whatsapp")
    r = api.post(
        f"/comms/patients/{pid}/whatsapp/template",
        {"kind": "reminder", "appointment_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"},
        token=t,
    )
    assert r.status == 404 and r.json()["code"] == "APPOINTMENT_NOT_FOUND"
    r = api.post(
        f"/comms/patients/{pid}/whatsapp/template",
        {"kind": "marketing", "appointment_id": a["appointment_id"]},
        token=t,
    )
    assert r.status == 422 and any("kind" in e["field"] for e in r.json()["errors"])


def test_template_for_another_patients_appointment_is_not_found(api, comms, graph):
    t, cid = comms.token, comms.ag.clinic_id
    connect(api, t, cid)
    pid = _whatsapp_patient(api, comms)
    other = api.post("/patients", _patient_body(), token=t).json()["data"]["patient_id"]
    comms.ag.patient_id = other
    a = booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    drain()
    r = api.post(
        f"/comms/patients/{pid}/whatsapp/template",
        {"kind": "booking", "appointment_id": a["appointment_id"]},
        token=t,
    )
    assert r.status == 404 and r.json()["code"] == "APPOINTMENT_NOT_FOUND"


def test_consent_history_names_who_recorded_it(api, comms):
    t, pid = comms.token, comms.ag.patient_id
    consent(api, t, pid, "whatsapp", granted=True)
    consent(api, t, pid, "whatsapp", granted=False)
    c = {
        x["channel"]: x for x in api.get(f"/comms/patients/{pid}/consents", token=t).json()["data"]
    }
    w = c["whatsapp"]
    assert w["granted"] is False and w["by_name"]
    assert [h["granted"] for h in w["history"]] == [True, False]
    assert all(h["by_name"] == w["by_name"] and h["source"] == "paper_form" for h in w["history"])


def test_end_of_day_time_and_reminder_channels(api, comms, graph):
    t, cid = comms.token, comms.ag.clinic_id
    s = api.get("/comms/settings", token=t).json()["data"]
    assert s["eod_time"] == "16:00" and s["reminder_channels"] == ["email", "whatsapp"]
    for bad in ({"eod_time": "25:00"}, {"eod_time": "9:00"}, {"reminder_channels": []}):
        r = api.put("/comms/settings", {"reminder_leads_min": [1440], **bad}, token=t)
        assert r.status == 422, (bad, r.body)
    r = api.put(
        "/comms/settings",
        {"reminder_leads_min": [1440], "eod_time": "19:30", "reminder_channels": ["email"]},
        token=t,
    )
    assert r.status == 200, r.body
    s = r.json()["data"]
    assert s["eod_time"] == "19:30" and s["reminder_channels"] == ["email"]
    # the next summary is due at 19:30 Madrid (the clinic's zone)
    d = Due.get(clinic_pk(cid), "DUE#EOD")
    local = d.due_at.astimezone(scheduling.ZoneInfo("Europe/Madrid"))
    assert (local.hour, local.minute) == (19, 30)
    madrid_1930 = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    scheduling.schedule_eod(cid, "Europe/Madrid", madrid_1930 - timedelta(hours=1))
    assert Due.get(clinic_pk(cid), "DUE#EOD").due_at == madrid_1930
    # reminders only by email now, even for a patient who prefers WhatsApp
    connect(api, t, cid)
    pid = _whatsapp_patient(api, comms)
    a = booked(api, comms.ag, at(comms.ag.monday, "16:00"))
    drain()
    before = len(mails_to(comms.patient["email"]))
    wa_before = len(graph.requests)
    from chalicelib.agenda.models import Appointment
    from chalicelib.comms import service

    appt = Appointment.get(clinic_pk(cid), f"APPT#{a['appointment_id']}")
    m = service.notify_appointment(cid, appt, "reminder")
    assert m is not None and m.channel == "email" and m.patient_id == pid
    assert len(mails_to(comms.patient["email"])) == before + 1
    assert len(graph.requests) == wa_before
    # other notices still follow the patient's preference
    m = service.notify_appointment(cid, appt, "booking")
    assert m is not None and m.channel == "whatsapp"
