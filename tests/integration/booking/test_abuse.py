"""The public page's abuse limits (ADR 1402): per address and per clinic (429 + Retry-After),
per contact on the code mail, the proof of work (missing, wrong, replayed, expired), the
honeypot, and the cap on pending unconfirmed online bookings per contact."""

from __future__ import annotations

import time

from chalicelib.booking import abuse
from tests.integration.api import fresh_ip
from tests.integration.booking.conftest import (
    ask_code,
    book_new,
    get_page,
    hidden,
    last_code,
    post_page,
    put_settings,
    text,
    verify,
)
from tests.integration.conftest import mails_to, unique_email


def _lower(monkeypatch, bucket: str, n: int) -> None:
    monkeypatch.setitem(abuse.LIMITS, bucket, (n, 3600))


def test_page_views_are_limited_per_address(api, bk, monkeypatch):
    _lower(monkeypatch, "view-ip", 3)
    ip = fresh_ip()
    for _ in range(3):
        assert get_page(api, bk.ag.clinic_id, ip=ip).status == 200
    r = get_page(api, bk.ag.clinic_id, ip=ip)
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert "Demasiadas solicitudes" in text(r)
    assert get_page(api, bk.ag.clinic_id, ip=fresh_ip()).status == 200  # another address


def test_page_views_are_limited_per_clinic(api, bk, monkeypatch):
    _lower(monkeypatch, "view-clinic", 2)
    for _ in range(2):
        assert get_page(api, bk.ag.clinic_id, ip=fresh_ip()).status == 200
    r = get_page(api, bk.ag.clinic_id, ip=fresh_ip())
    assert r.status == 429 and "Retry-After" in r.headers


def test_posts_and_codes_are_limited(api, bk, monkeypatch):
    _lower(monkeypatch, "code-ip", 2)
    ip = fresh_ip()
    for _ in range(2):
        assert ask_code(api, bk, unique_email("a"), ip=ip).status == 200
    r = ask_code(api, bk, unique_email("a"), ip=ip)
    assert r.status == 429 and "Retry-After" in r.headers


def test_codes_per_contact_and_per_clinic(api, bk, monkeypatch):
    _lower(monkeypatch, "code-contact", 2)
    email = unique_email("spam")
    for _ in range(2):
        assert ask_code(api, bk, email, ip=fresh_ip()).status == 200
    assert ask_code(api, bk, email, ip=fresh_ip()).status == 429
    assert len(mails_to(email)) == 2  # nobody can mail-bomb an address through the page
    _lower(monkeypatch, "code-clinic", 0)
    assert ask_code(api, bk, unique_email("b"), ip=fresh_ip()).status == 429


def test_verify_and_book_are_limited(api, bk, monkeypatch):
    _lower(monkeypatch, "verify-ip", 1)
    ip = fresh_ip()
    email = unique_email("v")
    sent = ask_code(api, bk, email, ip=ip)
    assert verify(api, bk, sent, "999999", ip=ip).status in (200, 422)
    assert verify(api, bk, sent, last_code(email), ip=ip).status == 429
    _lower(monkeypatch, "book-clinic", 0)
    r = book_new(api, bk, ip=fresh_ip())
    assert r.status == 429


def test_proof_of_work_is_required_verified_and_single_use(api, bk):
    cid = bk.ag.clinic_id
    r = get_page(api, cid, type=bk.type_id, start=bk.start)
    h = hidden(r)
    email = unique_email("pow")
    missing = post_page(api, cid, {**h, "email": email})
    assert missing.status == 400 and "robot" in text(missing)
    wrong_nonce = next(str(n) for n in range(1000) if not abuse.solves(h["pow"], cid, str(n)))
    assert post_page(api, cid, {**h, "email": email, "pow_nonce": wrong_nonce}).status == 400
    nonce = abuse.solve(h["pow"], cid)
    assert post_page(api, cid, {**h, "email": email, "pow_nonce": nonce}).status == 200
    replay = post_page(api, cid, {**h, "email": email, "pow_nonce": nonce})
    assert replay.status == 400
    assert len(mails_to(email)) == 1


def test_expired_challenge_is_refused(api, bk, monkeypatch):
    cid = bk.ag.clinic_id
    h = hidden(get_page(api, cid, type=bk.type_id, start=bk.start))
    nonce = abuse.solve(h["pow"], cid)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + abuse.POW_TTL_S + 5)
    assert post_page(api, cid, {**h, "email": unique_email("x"), "pow_nonce": nonce}).status == 400


def test_honeypot_sends_nothing(api, bk):
    email = unique_email("bot")
    r = ask_code(api, bk, email, website="http://spam.example")
    assert r.status == 200  # the bot is not told
    assert mails_to(email) == []


def test_pending_unconfirmed_online_bookings_are_capped_per_contact(api, bk):
    put_settings(api, bk.ag, max_pending=1)
    email = unique_email("cap")
    assert book_new(api, bk, email).status == 201
    # the same contact again (now a known patient): identified, but capped
    later = f"{bk.day.isoformat()}T12:00"
    r = get_page(api, bk.ag.clinic_id, type=bk.type_id, start=later)
    h = hidden(r)
    h["pow_nonce"] = abuse.solve(h["pow"], bk.ag.clinic_id)
    sent = post_page(api, bk.ag.clinic_id, {**h, "email": email})
    confirm = post_page(api, bk.ag.clinic_id, {**hidden(sent), "code": last_code(email)})
    assert "Confirme su cita" in text(confirm)
    r = post_page(api, bk.ag.clinic_id, hidden(confirm))
    assert r.status == 429 and "pendientes de confirmar" in text(r)
