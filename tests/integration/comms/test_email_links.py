"""Booking email with a valid ICS and Confirm/Cancel links; the link page is prefetch-safe,
single use, tamper- and expiry-proof, and its action shows in the agenda, events and audit."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from chalicelib.core.config import settings
from tests.integration.comms.conftest import at, booked, drain, mails_to, parsed, part, tokens_in


def _booking(api, comms, hhmm="10:00"):
    a = booked(api, comms.ag, at(comms.ag.monday, hhmm))
    drain()
    msgs = mails_to(comms.patient["email"])
    assert msgs, "no booking email"
    return a, parsed(msgs[-1])


def test_booking_email_has_valid_ics_and_links(api, comms):
    a, msg = _booking(api, comms)
    assert "Marta" in part(msg, "text/plain")
    html = part(msg, "text/html")
    assert "Confirmar asistencia" in html and "#0f766e" in html
    cal = Calendar.from_ical(part(msg, "text/calendar"))
    assert str(cal["METHOD"]) == "REQUEST" and str(cal["VERSION"]) == "2.0" and cal.get("PRODID")
    ev = cal.walk("VEVENT")[0]
    for prop in (
        "UID",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "ORGANIZER",
        "ATTENDEE",
        "SEQUENCE",
    ):
        assert prop in ev, prop
    assert int(ev["SEQUENCE"]) == 0
    assert str(ev["ORGANIZER"]).lower() == "mailto:" + settings().mail_sender.lower()
    assert ev["ORGANIZER"].params["CN"] == "Clínica Uno"
    assert ev.decoded("DTEND") - ev.decoded("DTSTART") == timedelta(minutes=30)
    assert str(ev["ATTENDEE"]).lower() == "mailto:" + comms.patient["email"].lower()
    attach = [p for p in msg.walk() if p.get_filename() == "invite.ics"]
    assert attach and Calendar.from_ical(attach[0].get_payload(decode=True))
    toks = tokens_in(part(msg, "text/plain"))
    assert set(toks) == {"confirm", "cancel"}


def test_link_get_and_head_change_nothing_post_confirms_once(api, comms):
    a, msg = _booking(api, comms)
    tok = tokens_in(part(msg, "text/plain"))["confirm"]
    path = f"/public/appointments/{tok}"
    for _ in range(2):
        r = api.get(path)
        assert r.status == 200 and "Sí, confirmo" in r.body.decode()
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Content-Type"].startswith("text/html")
    r = api.request("HEAD", path)
    assert r.status == 200
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "scheduled"
    r = api.post(path, raw=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r.body
    assert b"confirmada" in r.body
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "confirmed"
    # audited with the link as actor
    link_id = tok.split(".")[0]
    r = api.get(
        f"/audit?entity_type=appointment&entity_id={a['appointment_id']}", token=comms.token
    )
    assert r.status == 200, r.body
    acts = [e for e in r.json()["data"]["items"] if e["actor_type"] == "link"]
    assert len(acts) == 1 and acts[0]["actor_id"] == link_id, acts
    assert acts[0]["action"] == "appointment.confirmed"
    assert acts[0]["changes"] == {"status": {"before": "scheduled", "after": "confirmed"}}
    # the event went out (the timeline consumer puts it on the patient's timeline)
    drain("timeline")
    r = api.get(f"/patients/{comms.patient['patient_id']}/timeline", token=comms.token)
    assert r.status == 200, r.body
    confirmed = [i for i in r.json()["data"]["items"] if i["type"] == "appointment.confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["actor"]["type"] == "link"
    assert confirmed[0]["actor"]["id"] == link_id
    # reuse
    r = api.post(path, raw=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 410 and b"ya se ha utilizado" in r.body
    r = api.get(path)
    assert r.status == 410


def test_tampered_malformed_expired_links_get_a_page_not_5xx(api, comms, monkeypatch):
    a, msg = _booking(api, comms)
    tok = tokens_in(part(msg, "text/plain"))["cancel"]
    parts = tok.split(".")
    tampered = ".".join([*parts[:5], ("A" if parts[5][0] != "A" else "B") + parts[5][1:]])
    other_action = ".".join([parts[0], "confirm", *parts[2:]])
    for bad in (tampered, other_action, "nonsense", "a.b.c.d.e.f", "x" * 400):
        for method in ("GET", "POST"):
            r = api.request(
                method,
                f"/public/appointments/{bad}",
                raw=b"",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status == 404, (bad, method, r.status)
            assert b"no es v" in r.body
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 49 * 3600)
    r = api.post(
        f"/public/appointments/{tok}",
        raw=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 410 and b"caducado" in r.body
    monkeypatch.setattr(time, "time", real)
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "scheduled"


def test_cancel_link_cancels_and_sends_cancellation_with_ics_cancel(api, comms):
    a, msg = _booking(api, comms)
    tok = tokens_in(part(msg, "text/plain"))["cancel"]
    r = api.post(
        f"/public/appointments/{tok}",
        raw=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 200 and b"cancelada" in r.body
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "cancelled"
    drain()
    last = parsed(mails_to(comms.patient["email"])[-1])
    cal = Calendar.from_ical(part(last, "text/calendar"))
    assert str(cal["METHOD"]) == "CANCEL"
    assert int(cal.walk("VEVENT")[0]["SEQUENCE"]) == 1


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_links_are_rate_limited_per_address(api, comms, monkeypatch):
    from chalicelib.comms import public

    monkeypatch.setattr(public, "POSTS_PER_IP_PER_HOUR", 3)
    monkeypatch.setattr(public, "VIEWS_PER_IP_PER_HOUR", 4)
    a, msg = _booking(api, comms)
    tok = tokens_in(part(msg, "text/plain"))["confirm"]
    noisy, patient = "10.250.0.1", "10.250.0.2"
    for _ in range(3):  # someone guessing tokens from one address
        r = api.post("/public/appointments/nonsense", raw=b"", headers=FORM, ip=noisy)
        assert r.status == 404
    r = api.post(f"/public/appointments/{tok}", raw=b"", headers=FORM, ip=noisy)
    assert r.status == 429 and b"Demasiadas solicitudes" in r.body
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["Referrer-Policy"] == "no-referrer"
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "scheduled"  # the refused POST did nothing
    for _ in range(4):
        assert api.get(f"/public/appointments/{tok}", ip=noisy).status == 200
    assert api.get(f"/public/appointments/{tok}", ip=noisy).status == 429
    # the patient, from another address, is not affected
    assert api.get(f"/public/appointments/{tok}", ip=patient).status == 200
    r = api.post(f"/public/appointments/{tok}", raw=b"", headers=FORM, ip=patient)
    assert r.status == 200 and b"confirmada" in r.body


def test_scanner_prefetch_of_both_links_then_patient_cancels(api, comms):
    a, msg = _booking(api, comms)
    toks = tokens_in(part(msg, "text/plain"))
    for action in ("confirm", "cancel"):  # a mail scanner follows every link, GET and HEAD
        path = f"/public/appointments/{toks[action]}"
        assert api.request("HEAD", path).status == 200
        assert api.get(path).status == 200
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "scheduled"
    r = api.post(f"/public/appointments/{toks['cancel']}", raw=b"", headers=FORM)
    assert r.status == 200 and b"cancelada" in r.body
    # the confirm link of a cancelled appointment: a clear page, never a 5xx
    r = api.post(f"/public/appointments/{toks['confirm']}", raw=b"", headers=FORM)
    assert r.status == 409 and b"ya no se puede cambiar" in r.body
    g = api.get(f"/appointments/{a['appointment_id']}", token=comms.token).json()["data"]
    assert g["status"] == "cancelled"


def test_english_patient_gets_english_mail_and_page(api, comms):
    from tests.integration.comms.conftest import consent
    from tests.integration.patients.helpers import create_patient

    p = create_patient(api, comms.token, first_name="John", last_name="Smith", language="en")
    consent(api, comms.token, p["patient_id"])
    comms.ag.patient_id = p["patient_id"]
    booked(api, comms.ag, at(comms.ag.monday, "16:00"))
    drain()
    msg = parsed(mails_to(p["email"])[-1])
    assert msg["Subject"].startswith("Clínica Uno: your appointment on ")
    text = part(msg, "text/plain")
    assert text.startswith("Hello John,") and "Confirm attendance" in text
    assert msg["Date"] and msg["Message-ID"]
    tok = tokens_in(text)["confirm"]
    r = api.get(f"/public/appointments/{tok}")
    assert r.status == 200 and b'lang="en"' in r.body and b"Yes, I confirm" in r.body
    r = api.post(f"/public/appointments/{tok}", raw=b"", headers=FORM)
    assert b"Your appointment is confirmed" in r.body


def test_a_reinstated_appointment_is_announced_as_booked_again_with_its_reminders(api, comms):
    """Staff undo a cancellation: the patient, who got the cancellation, gets the booking
    again (a REQUEST with a newer SEQUENCE than the CANCEL, so calendars put it back)."""
    a, _ = _booking(api, comms, "11:00")
    aid = a["appointment_id"]
    r = api.post(f"/appointments/{aid}/status", {"status": "cancelled"}, token=comms.token)
    assert r.status == 200, r.body
    drain()
    cancel = Calendar.from_ical(part(parsed(mails_to(comms.patient["email"])[-1]), "text/calendar"))
    assert str(cancel["METHOD"]) == "CANCEL"
    r = api.post(f"/appointments/{aid}/status", {"status": "scheduled"}, token=comms.token)
    assert r.status == 200, r.body
    drain()
    again = parsed(mails_to(comms.patient["email"])[-1])
    cal = Calendar.from_ical(part(again, "text/calendar"))
    assert str(cal["METHOD"]) == "REQUEST"
    assert int(cal.walk("VEVENT")[0]["SEQUENCE"]) > int(cancel.walk("VEVENT")[0]["SEQUENCE"])
    assert set(tokens_in(part(again, "text/plain"))) == {"confirm", "cancel"}


def test_the_appointment_link_runs_with_its_clinics_credentials(api, comms, clinic, scoped_as):
    """ADR 0012: the link's global lookup names the clinic; the page and the confirmation
    read and write with that clinic's credentials only."""
    a, msg = _booking(api, comms)
    path = f"/public/appointments/{tokens_in(part(msg, 'text/plain'))['confirm']}"
    scoped_as.clear()
    assert api.get(path).status == 200
    r = api.post(path, raw=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200 and b"confirmada" in r.body
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
