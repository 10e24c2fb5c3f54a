"""Reminders at the clinic's lead times and the end-of-day email at 16:00 in each clinic's own
zone, both served by time-bucket index items; never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.agenda.models import Appointment
from chalicelib.comms import scheduling
from chalicelib.comms.models import Due, EodSent, JobCursor
from chalicelib.core.db import clinic_pk
from tests.integration.comms.conftest import at, booked, drain, mails_to, parsed, part
from tests.integration.conftest import signup


def _cursor(job: str, t: datetime) -> None:
    """The job last finished the hour before ``t``."""
    JobCursor(*JobCursor.key(job), last_bucket=scheduling.bucket(t - scheduling.BUCKET)).save()


def test_reminders_at_configured_lead_times_once(api, comms, own_credentials):
    r = api.put("/comms/settings", {"reminder_leads_min": [120, 1440]}, token=comms.token)
    assert r.status == 200 and r.json()["data"]["reminder_leads_min"] == [1440, 120]
    a = booked(api, comms.ag, at(comms.ag.monday, "11:00"))
    drain()
    appt = Appointment.get(*Appointment.key(comms.ag.clinic_id, a["appointment_id"]))
    start = scheduling.service.start_utc(appt)
    dues = sorted(
        d.lead_min
        for d in Due.query(clinic_pk(comms.ag.clinic_id), Due.SK.startswith("DUE#REM#"))
        if d.appointment_id == a["appointment_id"]
    )
    assert dues == [120, 1440]
    before = len(mails_to(comms.patient["email"]))
    t24 = start - timedelta(minutes=1440)
    _cursor("reminders", t24)
    scheduling.run_reminders(at=t24 - timedelta(minutes=10))  # not yet due
    assert len(mails_to(comms.patient["email"])) == before
    own_credentials.clear()
    scheduling.run_reminders(at=t24 + timedelta(seconds=30))
    assert len(mails_to(comms.patient["email"])) == before + 1
    # the job's own role needs the global path only: each due item is its clinic's (ADR 0012)
    assert own_credentials and set(own_credentials) == {"global"}, own_credentials
    msg = parsed(mails_to(comms.patient["email"])[-1])
    assert "Recordatorio" in msg["Subject"]
    scheduling.run_reminders(at=t24 + timedelta(minutes=1))  # same bucket again: nothing
    assert len(mails_to(comms.patient["email"])) == before + 1
    # cancelled before the 2 h reminder: no reminder
    api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "cancelled"}, token=comms.token
    )
    drain()
    after_cancel = len(mails_to(comms.patient["email"]))
    t2 = start - timedelta(minutes=120)
    _cursor("reminders", t2)
    scheduling.run_reminders(at=t2 + timedelta(seconds=30))
    assert len(mails_to(comms.patient["email"])) == after_cancel


def test_reschedule_notice_increments_sequence_and_moves_reminders(api, comms):
    from icalendar import Calendar

    a = booked(api, comms.ag, at(comms.ag.monday, "12:00"))
    drain()
    r = api.patch(
        f"/appointments/{a['appointment_id']}",
        {"start": at(comms.ag.monday, "12:30")},
        token=comms.token,
    )
    assert r.status == 200, r.body
    drain()
    msg = parsed(mails_to(comms.patient["email"])[-1])
    cal = Calendar.from_ical(part(msg, "text/calendar"))
    ev = cal.walk("VEVENT")[0]
    assert int(ev["SEQUENCE"]) == 1 and str(cal["METHOD"]) == "REQUEST"
    assert str(ev["UID"]) == f"appt-{a['appointment_id']}@cuspide.app"
    appt = Appointment.get(*Appointment.key(comms.ag.clinic_id, a["appointment_id"]))
    for d in Due.query(
        clinic_pk(comms.ag.clinic_id), Due.SK.startswith(f"DUE#REM#{a['appointment_id']}#")
    ):
        assert d.planned_start_utc == appt.start_utc


def test_missed_visit_follow_up_after_no_show(api, comms):
    from datetime import date

    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    a = booked(api, comms.ag, at(day, "09:00"))
    drain()
    r = api.post(
        f"/appointments/{a['appointment_id']}/status", {"status": "no_show"}, token=comms.token
    )
    assert r.status == 200, r.body
    drain()
    msg = parsed(mails_to(comms.patient["email"])[-1])
    assert "echamos de menos" in msg["Subject"]


ZONES = {
    "Asia/Kolkata": datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    "Europe/Madrid": datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    "Atlantic/Canary": datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
    "America/Mexico_City": datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
}


def test_end_of_day_at_16_local_in_each_zone_never_twice(api, own_credentials):
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    clinics = {}
    for tz in ZONES:
        c = signup(api, f"Clínica {tz}", time_zone=tz)
        scheduling.schedule_eod(c.clinic_id, tz, start)
        clinics[tz] = c
    for tz, due in ZONES.items():
        d = Due.get(clinic_pk(clinics[tz].clinic_id), "DUE#EOD")
        assert d.due_at == due, tz
        assert f"DUE#{scheduling.bucket(due)}" == d.GSI1PK
        assert f"EOD#{scheduling.stamp(due)}#{clinics[tz].clinic_id}" == d.GSI1SK
    _cursor("end-of-day", start)
    order = sorted(ZONES.items(), key=lambda kv: kv[1])
    for i, (tz, due) in enumerate(order):
        own_credentials.clear()
        scheduling.run_end_of_day(at=due + timedelta(seconds=20))
        # its own role needs the global path only: each clinic's mail is its scope's (ADR 0012)
        assert own_credentials and set(own_credentials) == {"global"}, own_credentials
        for j, (tz2, _) in enumerate(order):
            n = len(mails_to(clinics[tz2].admin_email))
            # each admin also got nothing else from comms; signup sends no mail
            assert n == (1 if j <= i else 0), (tz, tz2, n)
        # next slot is tomorrow's 16:00 local
        nxt = Due.get(clinic_pk(clinics[tz].clinic_id), "DUE#EOD")
        assert nxt.due_at == due + timedelta(days=1)
    # a second run, and a duplicate due item for the same day, send nothing more
    madrid = clinics["Europe/Madrid"]
    Due(
        clinic_pk(madrid.clinic_id),
        "DUE#EOD",
        kind="EOD",
        clinic_id=madrid.clinic_id,
        due_at=ZONES["Europe/Madrid"],
        **scheduling.index_keys("EOD", ZONES["Europe/Madrid"], madrid.clinic_id),
    ).save()
    _cursor("end-of-day", ZONES["Europe/Madrid"])
    scheduling.run_end_of_day(at=ZONES["Europe/Madrid"] + timedelta(minutes=1))
    assert len(mails_to(madrid.admin_email)) == 1
    assert EodSent.get(*EodSent.key(madrid.clinic_id, "2026-12-01"))
    body = mails_to(madrid.admin_email)[0].body
    assert "Citas de hoy" in body and "Facturado" in body and "mañana" in body


def test_end_of_day_sections_from_other_modules(api, monkeypatch):
    """Every module of SECTION_MODULES adds its section (imported when the summary is built,
    whatever routes this process has loaded)."""
    from chalicelib.comms import eod
    from chalicelib.comms.templates import Section
    from chalicelib.inventory import eod as inventory_eod

    def inventory(clinic_id, day, lang):
        return Section("Inventario", lines=["Guantes: quedan 2 cajas"])

    assert "chalicelib.inventory.eod" in eod.SECTION_MODULES
    monkeypatch.setattr(inventory_eod, "section", inventory)
    c = signup(api, "Clínica Secciones")
    from chalicelib.identity.models import Clinic

    r = eod.build(Clinic.get(*Clinic.key(c.clinic_id)), datetime(2026, 12, 2).date())
    assert "Inventario" in r.text and "Guantes" in r.html


def test_a_failing_reminder_is_retried_and_does_not_hold_up_the_others(api, comms, monkeypatch):
    """Graph API rate limit while sending one WhatsApp reminder: the email reminder due in the
    same run still goes out, and the WhatsApp one is sent by the next run."""
    from tests.integration.comms.conftest import consent
    from tests.integration.comms.graph_stub import GraphStub
    from tests.integration.comms.test_whatsapp import connect
    from tests.integration.patients.helpers import create_patient

    stub = GraphStub()
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", stub.url)
    try:
        t = comms.token
        api.put("/comms/settings", {"reminder_leads_min": [1440]}, token=t)
        connect(api, t, comms.ag.clinic_id)
        wa = create_patient(api, t, whatsapp="+34600999888", preferred_channel="whatsapp")
        consent(api, t, wa["patient_id"], "whatsapp")
        by_mail = booked(api, comms.ag, at(comms.ag.monday, "09:30"))
        comms.ag.patient_id = wa["patient_id"]
        by_wa = booked(api, comms.ag, at(comms.ag.monday, "09:00"), cabinet_id=comms.ag.cab2)
        drain()

        def templates() -> list[dict]:
            return [q for q in stub.requests if (q["body"] or {}).get("type") == "template"]

        assert len(templates()) == 1  # the booking
        mails = len(mails_to(comms.patient["email"]))
        starts = {
            x["appointment_id"]: scheduling.service.start_utc(
                Appointment.get(*Appointment.key(comms.ag.clinic_id, x["appointment_id"]))
            )
            for x in (by_mail, by_wa)
        }
        run_at = starts[by_mail["appointment_id"]] - timedelta(minutes=1440) + timedelta(seconds=5)
        _cursor("reminders", run_at)
        stub.fail_next.append((429, {"error": {"code": 130429, "message": "Rate limit hit"}}))
        out = scheduling.run_reminders(at=run_at)
        assert out == {"sent": 1, "retry": 1}
        assert len(mails_to(comms.patient["email"])) == mails + 1
        assert len(templates()) == 2  # tried, refused
        out = scheduling.run_reminders(at=run_at + timedelta(minutes=5))
        assert out == {"sent": 1}
        assert len(templates()) == 3
        assert templates()[-1]["body"]["template"]["name"] == "cuspide_appointment_reminder"
        assert scheduling.run_reminders(at=run_at + timedelta(minutes=10)) == {}
    finally:
        stub.stop()


def test_reminders_too_late_to_help_are_not_sent(api, comms):
    api.put("/comms/settings", {"reminder_leads_min": [120]}, token=comms.token)
    a = booked(api, comms.ag, at(comms.ag.monday, "18:00"))
    drain()
    appt = Appointment.get(*Appointment.key(comms.ag.clinic_id, a["appointment_id"]))
    due = scheduling.service.start_utc(appt) - timedelta(minutes=120)
    before = len(mails_to(comms.patient["email"]))
    _cursor("reminders", due)
    # the job was down for 61 minutes: more than half the lead time has passed
    assert scheduling.run_reminders(at=due + timedelta(minutes=61)) == {"late": 1}
    assert len(mails_to(comms.patient["email"])) == before


def test_end_of_day_content_outcomes_production_and_tomorrow(api, clinic, published):
    """The summary counts the day's appointments by outcome, sums what was invoiced and
    collected that local day (the reports' figures, fed by the events), and lists tomorrow's
    first appointments."""
    from zoneinfo import ZoneInfo

    from chalicelib.comms import eod
    from chalicelib.identity.models import Clinic
    from tests.integration.billing.conftest import Billing
    from tests.integration.comms.conftest import make_agenda
    from tests.integration.reports.records import feed

    r = api.patch(
        "/clinics/current",
        {
            "legal_name": "Clínica Uno Dental, S.L.",
            "tax_id": "B12345674",
            "address": {
                "line1": "Calle Mayor 1",
                "city": "Madrid",
                "postal_code": "28013",
                "country": "ES",
            },
        },
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    ag = make_agenda(api, clinic)
    t = clinic.admin_token
    day = ag.monday
    paths = {
        "09:00": ["checked_in", "in_progress", "completed"],
        "09:30": ["no_show"],
        "10:00": ["cancelled"],
        "10:30": [],
    }
    for hhmm, steps in paths.items():
        a = booked(api, ag, at(day, hhmm))
        for s in steps:
            r = api.post(f"/appointments/{a['appointment_id']}/status", {"status": s}, token=t)
            assert r.status == 200, (hhmm, s, r.body)
    booked(api, ag, at(day + timedelta(days=1), "09:15"), reason="Endodoncia")
    c = Clinic.get(*Clinic.key(clinic.clinic_id))
    feed(published)
    r = eod.build(c, day)
    for line in ("Atendidas: 1", "No acudieron: 1", "Canceladas: 1", "Sin cerrar: 1"):
        assert line in r.text, line
    assert "09:15 · Carmen Vidal · " in r.text and "Endodoncia" in r.text
    # production of today: one invoice of 60 € issued, 25 € collected
    b = Billing(api, t)
    inv = b.invoice(b.patient(), [{"treatment_id": b.treatment("LIM", "60.00")}])
    b.issue(inv["invoice_id"])
    b.post(
        f"/billing/invoices/{inv['invoice_id']}/payments", {"amount": "25", "method": "cash"}, 201
    )
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Madrid")).date()
    feed(published)
    r = eod.build(c, today)
    assert "Facturado: 60,00 €" in r.text and "Cobrado: 25,00 €" in r.text
    # another day's summary does not count them
    assert "Facturado: 0,00 €" in eod.build(c, today - timedelta(days=1)).text
