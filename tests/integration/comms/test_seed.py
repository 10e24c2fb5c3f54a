"""The demo comms seed on a small agenda: the agenda's queued booking events are settled
without a mail, the future appointments get their reminders, consents and the WhatsApp
connection are in place, and exactly three fresh notices reach the outbox once the queue is
pumped."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from chalicelib.comms import service
from chalicelib.comms.models import Due
from chalicelib.core import mail
from chalicelib.core.db import clinic_pk
from chalicelib.identity import service as identity
from infra.local.seed import comms as comms_seed
from infra.local.seed.context import DemoContext
from tests.integration.comms.conftest import at, booked, drain, mails_to, make_agenda, parsed, part
from tests.integration.comms.graph_stub import GraphStub
from tests.integration.conftest import admin_principal
from tests.integration.patients.helpers import create_patient


def test_comms_seed(api, clinic, other_clinic, monkeypatch):
    stub = GraphStub()
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", stub.url)
    try:
        _run(api, clinic, other_clinic, stub)
    finally:
        stub.stop()


def _run(api, clinic, other_clinic, stub):
    drain()
    cid, t = clinic.clinic_id, clinic.admin_token
    identity.set_plan(cid, "pro")
    ag = make_agenda(api, clinic)
    patients, old = [], []
    for i in range(8):  # like the demo: two in three have WhatsApp and prefer it
        wa = f"+3469{i:07d}" if i % 3 else None
        p = create_patient(
            api, t, whatsapp=wa, preferred_channel="whatsapp" if wa else "email", language="es"
        )
        patients.append(p)
        ag.patient_id = p["patient_id"]
        old.append(booked(api, ag, at(ag.monday + timedelta(days=i % 5), f"{9 + i // 5:02d}:00")))
    pids = [p["patient_id"] for p in patients]
    who = admin_principal(clinic, plan="pro")
    ctx = DemoContext(
        demo_clinic_id=cid,
        norte_clinic_id=other_clinic.clinic_id,
        demo={"admin": who, "receptionist": who},
    )
    comms_seed.seed(ctx, pids)

    # the agenda's 8 booking events were dropped; the seed's 2 bookings and 1 cancellation remain
    assert drain() == 3
    # consents: email for all but the sixth of each six; WhatsApp for 1, 4 and 7; 6 withdrew
    # email and 3's address bounces
    email = {i for i, p in enumerate(pids) if service.consent_granted(cid, p, "email")}
    wa = {i for i, p in enumerate(pids) if service.consent_granted(cid, p, "whatsapp")}
    assert email == {0, 1, 2, 3, 4, 7} and wa == {1, 4, 7}
    assert mail.is_undeliverable(patients[3]["email"])
    # exactly the three fresh notices: a booking with its invitation to 0, a WhatsApp booking
    # template to 1, a cancellation to 2; none of the agenda's old bookings
    sent = {i: mails_to(p["email"]) for i, p in enumerate(patients)}
    assert {i: len(m) for i, m in sent.items() if m} == {0: 1, 2: 1}
    booking = parsed(sent[0][0])
    assert str(Calendar.from_ical(part(booking, "text/calendar"))["METHOD"]) == "REQUEST"
    cancel = parsed(sent[2][0])
    assert str(Calendar.from_ical(part(cancel, "text/calendar"))["METHOD"]) == "CANCEL"
    templates = [q["body"] for q in stub.requests if (q["body"] or {}).get("type") == "template"]
    assert len(templates) == 1 and templates[0]["to"] == patients[1]["whatsapp"].lstrip("+")
    assert f"/{comms_seed.PHONE_NUMBER_ID}/messages" in stub.requests[-1]["path"]
    # settings, reminders and the end-of-day summaries
    s = api.get("/comms/settings", token=t).json()["data"]
    assert s["reminder_leads_min"] == [1440, 120]
    leads: dict[str, set[int]] = {}
    for d in Due.query(clinic_pk(cid), Due.SK.startswith("DUE#REM#")):
        leads.setdefault(d.appointment_id, set()).add(int(d.lead_min))
    cancelled = {a["appointment_id"] for a in old} - set(leads)
    assert len(cancelled) == 1  # the seed cancelled one: its reminders were dropped
    for a in old:
        if a["appointment_id"] not in cancelled:
            assert leads[a["appointment_id"]] == {1440, 120}
    assert len(leads) == 7 + 2  # and the two fresh bookings have theirs (those still ahead)
    for c in (cid, other_clinic.clinic_id):
        assert Due.get(clinic_pk(c), "DUE#EOD")
    # WhatsApp connected to the stand-in's number; three conversations with an open window
    w = api.get("/comms/whatsapp", token=t).json()["data"]
    assert w["connected"] and w["phone_number_id"] == comms_seed.PHONE_NUMBER_ID
    convs = api.get("/comms/conversations", token=t).json()["data"]["items"]
    assert sorted(c["patient_id"] for c in convs) == sorted(pids[i] for i in (1, 4, 7))
    assert all(c["window_open"] and c["unread"] == 1 for c in convs)
