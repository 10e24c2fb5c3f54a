"""The public booking page end to end (in-process): a new patient registers with consent and
books; a known patient is identified by the code; the code's failures; invitations; switched
off; the booking lands in the agenda marked online with the confirmation email."""

from __future__ import annotations

import time
from datetime import timedelta

from chalicelib.booking import invites
from chalicelib.booking import service as booking
from chalicelib.booking.models import BookingCode, BookingPrivacy
from chalicelib.comms.models import Consent
from tests.integration.booking.conftest import (
    ask_code,
    book_new,
    get_page,
    hidden,
    last_code,
    new_patient_form,
    post_page,
    put_settings,
    text,
    verify,
)
from tests.integration.conftest import mails_to, unique_email
from tests.integration.patients.helpers import create_patient


def _day_appointments(api, b):
    r = api.get(f"/agenda/day?date={b.day.isoformat()}", token=b.ag.token)
    assert r.status == 200, r.body
    return (
        [a for cab in r.json()["data"]["cabinets"] for a in cab["appointments"]]
        if "cabinets" in r.json()["data"]
        else r.json()["data"]["appointments"]
    )


def test_new_patient_books_online_with_consent(api, bk, published):
    b = bk
    types = get_page(api, b.ag.clinic_id)
    # one type only: the page opens on the week of slots
    assert types.status == 200 and "10:00" in text(types)
    assert "Revisión" in text(types)
    email = unique_email("nueva")
    done = book_new(api, b, email)
    assert done.status == 201, text(done)
    assert "Cita reservada" in text(done)
    ev = [d for n, d in published if n == "appointment.scheduled"]
    assert len(ev) == 1 and ev[0]["source"] == "online"
    assert ev[0]["actor"]["type"] == "online"
    appt = api.get(f"/appointments/{ev[0]['appointment_id']}", token=b.ag.token).json()["data"]
    assert appt["source"] == "online" and appt["start"].startswith(f"{b.day.isoformat()}T10:00")
    pid = appt["patient_id"]
    p = api.get(f"/patients/{pid}", token=b.ag.token).json()["data"]
    assert (p["first_name"], p["email"]) == ("Lucía", email)
    assert p.get("national_id") is None
    privacy = BookingPrivacy.get(*BookingPrivacy.key(b.ag.clinic_id, pid))
    assert privacy.text_version == booking.PRIVACY_VERSION and privacy.accepted_at
    assert Consent.get(*Consent.key(b.ag.clinic_id, pid, "email")).granted
    # the slot is no longer offered
    again = get_page(api, b.ag.clinic_id, type=b.type_id, week=b.day.isoformat())
    assert f"start={b.day.isoformat()}T10%3A00" not in text(again)
    assert f"start={b.day.isoformat()}T10%3A30" in text(again)


def test_privacy_consent_is_required(api, bk):
    b = bk
    email = unique_email("sin")
    sent = ask_code(api, b, email)
    reg = verify(api, b, sent, last_code(email))
    r = post_page(api, b.ag.clinic_id, {**hidden(reg), **new_patient_form(privacy="")})
    assert r.status == 422
    assert "aviso de privacidad" in text(r)
    assert (
        BookingCode.get(
            *BookingCode.key(b.ag.clinic_id, hidden(reg)["session"].split(".")[0])
        ).patient_id
        is None
    )


def test_known_patient_is_identified_by_code_and_answer_does_not_tell(api, bk, published):
    b = bk
    known = unique_email("conocida")
    p = create_patient(api, b.ag.token, first_name="Rosa", last_name="Conocida", email=known)
    stranger = unique_email("desconocida")
    r1, r2 = ask_code(api, b, known), ask_code(api, b, stranger)
    assert r1.status == r2.status == 200
    strip = lambda r: text(r).replace(hidden(r)["code_id"], "")  # noqa: E731
    assert strip(r1) == strip(r2)  # same page whether or not the address is a patient's
    confirm = verify(api, b, r1, last_code(known))
    assert confirm.status == 200 and "Confirme su cita" in text(confirm)
    assert "Sus datos" not in text(confirm)
    done = post_page(api, b.ag.clinic_id, hidden(confirm))
    assert done.status == 201, text(done)
    ev = [d for n, d in published if n == "appointment.scheduled"][-1]
    assert ev["patient_id"] == p["patient_id"]


def test_wrong_expired_and_replayed_codes(api, bk, monkeypatch):
    b = bk
    email = unique_email("codigo")
    sent = ask_code(api, b, email)
    code = last_code(email)
    wrong = "000000" if code != "000000" else "111111"
    r = verify(api, b, sent, wrong)
    assert r.status == 422 and "4 intentos" in text(r)
    ok = verify(api, b, sent, code)
    assert ok.status == 200
    replay = verify(api, b, sent, code)
    assert replay.status == 410 and "caducado" in text(replay)
    # attempts run out: even the right code is refused after MAX_ATTEMPTS wrong ones
    email2 = unique_email("intentos")
    sent2 = ask_code(api, b, email2)
    for _ in range(booking.MAX_ATTEMPTS):
        verify(api, b, sent2, wrong)
    assert verify(api, b, sent2, last_code(email2)).status == 410
    # expired after 10 minutes
    email3 = unique_email("caduca")
    sent3 = ask_code(api, b, email3)
    later = booking.now() + timedelta(minutes=11)
    monkeypatch.setattr(booking, "now", lambda: later)
    assert verify(api, b, sent3, last_code(email3)).status == 410


def test_code_is_stored_hashed(api, bk):
    b = bk
    email = unique_email("hash")
    sent = ask_code(api, b, email)
    item = BookingCode.get(*BookingCode.key(b.ag.clinic_id, hidden(sent)["code_id"]))
    assert last_code(email) not in item.code_hash and len(item.code_hash) == 64


def test_invite_identifies_the_patient_and_carries_ref(api, bk, published, monkeypatch):
    b = bk
    p = create_patient(api, b.ag.token, first_name="Invi", last_name="Tada")
    url = invites.invite_url(b.ag.clinic_id, p["patient_id"], type_id=b.type_id, ref="recall:R1")
    q = dict(x.split("=", 1) for x in url.split("?", 1)[1].split("&"))
    from urllib.parse import unquote

    q = {k: unquote(v) for k, v in q.items()}
    r = get_page(api, b.ag.clinic_id, **q, start=b.start)
    assert r.status == 200 and "Hola, Invi" in text(r) and "Confirme su cita" in text(r)
    done = post_page(api, b.ag.clinic_id, hidden(r))
    assert done.status == 201, text(done)
    ev = [d for n, d in published if n == "appointment.scheduled"][-1]
    assert ev["patient_id"] == p["patient_id"] and ev["booking_ref"] == "recall:R1"
    appt = api.get(f"/appointments/{ev['appointment_id']}", token=b.ag.token).json()["data"]
    assert appt["booking_ref"] == "recall:R1"
    # tampered
    other = f"{b.day.isoformat()}T11:00"
    bad = dict(q, invite=q["invite"][:-2] + ("AA" if not q["invite"].endswith("AA") else "BB"))
    r = get_page(api, b.ag.clinic_id, **bad, start=other)
    assert r.status == 200 and "no es válido" in text(r) and "Identifíquese" in text(r)
    # expired
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 31 * 86400)
    r = get_page(api, b.ag.clinic_id, **q, start=other)
    monkeypatch.setattr(time, "time", real)
    assert "no es válido" in text(r)
    # archived
    api.post(f"/patients/{p['patient_id']}/archive", token=b.ag.token)
    r = get_page(api, b.ag.clinic_id, **q, start=other)
    assert "no es válido" in text(r)
    # posting a tampered invite books nothing
    n = len(published)
    r = post_page(
        api,
        b.ag.clinic_id,
        {
            **hidden(done),
            "type": b.type_id,
            "start": other,
            "step": "book",
            "invite": bad["invite"],
        },
    )
    assert r.status == 410 and len(published) == n


def test_invite_for_another_clinics_patient_fails(api, bk, other_clinic):
    b = bk
    theirs = create_patient(api, other_clinic.admin_token, first_name="Ajena", last_name="Norte")
    url = invites.invite_url(b.ag.clinic_id, theirs["patient_id"])
    token = url.split("invite=")[1].split("&")[0]
    from urllib.parse import unquote

    r = get_page(api, b.ag.clinic_id, invite=unquote(token), type=b.type_id, start=b.start)
    assert "no es válido" in text(r) and "Ajena" not in text(r)


def test_booking_switched_off_and_unknown_clinic(api, bk):
    b = bk
    put_settings(api, b.ag, enabled=False)
    r = get_page(api, b.ag.clinic_id)
    assert r.status == 403 and "no ofrece reserva online" in text(r)
    r = post_page(api, b.ag.clinic_id, {"step": "book", "type": b.type_id, "start": b.start})
    assert r.status == 403
    r = get_page(api, "01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert r.status == 404 and "No encontramos" in text(r)
    r = get_page(api, "a#b")
    assert r.status == 404


def test_confirmation_email_ics_and_links_go_to_the_new_patient(api, bk):
    from tests.integration.comms.conftest import drain, parsed, part, tokens_in

    drain()  # leftovers of other tests
    b = bk
    email = unique_email("conf")
    done = book_new(api, b, email)
    assert done.status == 201
    before = len(mails_to(email))  # the code mail
    drain()  # comms consumes appointment.scheduled
    mails = mails_to(email)
    assert len(mails) == before + 1
    msg = parsed(mails[-1])
    assert part(msg, "text/calendar")
    links = tokens_in(part(msg, "text/html"))
    assert {"confirm", "cancel"} <= set(links)


def test_another_clinics_code_or_session_is_useless_here(api, bk, other_clinic):
    from tests.integration.agenda.conftest import make_agenda
    from tests.integration.booking.conftest import Booking

    a = bk
    ag_b = make_agenda(api, other_clinic)
    s_b = put_settings(api, ag_b)
    b = Booking(ag_b, s_b["types"][0]["type_id"], ag_b.monday + timedelta(days=1))
    email = unique_email("dos")
    sent_b = ask_code(api, b, email)
    code_b = last_code(email)
    # B's code id and code, posted to A's page: unknown there
    form = {**hidden(sent_b), "type": a.type_id, "code": code_b}
    r = post_page(api, a.ag.clinic_id, form)
    assert r.status == 410
    # B's session, posted to A's page: refused, nothing booked in A
    reg_b = verify(api, b, sent_b, code_b)
    session = hidden(reg_b)["session"]
    r = post_page(
        api,
        a.ag.clinic_id,
        {
            "step": "register",
            "type": a.type_id,
            "start": a.start,
            "session": session,
            **new_patient_form(),
        },
    )
    assert r.status == 410
    assert api.get("/patients?q=Online", token=a.ag.token).json()["data"]["items"] == []


def test_registration_form_errors_are_a_page_not_a_500(api, bk):
    b = bk
    email = unique_email("form")
    sent = ask_code(api, b, email)
    reg = verify(api, b, sent, last_code(email))
    r = post_page(api, b.ag.clinic_id, {**hidden(reg), **new_patient_form(first_name="")})
    assert r.status == 422 and "Nombre: obligatorio" in text(r)
    r = post_page(api, b.ag.clinic_id, {**hidden(reg), **new_patient_form(date_of_birth="x")})
    assert r.status == 422 and "Fecha de nacimiento: no es válido" in text(r)
    minor = (booking.now().date() - timedelta(days=365 * 10)).isoformat()
    r = post_page(api, b.ag.clinic_id, {**hidden(reg), **new_patient_form(date_of_birth=minor)})
    assert r.status == 422 and "menores de 18" in text(r)
    # the form keeps what was typed
    assert "Lucía" in text(r)
