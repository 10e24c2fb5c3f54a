"""Forgotten password (issue 15): the same 202 for any email, a single-use one-hour link by
mail, every session of the user ended on reset, rate limits, and no secret in the logs."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import quote

import pytest
from pynamodb.connection.base import Connection

from chalicelib.core import audit, mail
from chalicelib.core.ids import now
from chalicelib.identity import passwords
from chalicelib.identity.passwords import PasswordResetPointer, PasswordResetToken
from tests.integration.api import fresh_ip
from tests.integration.conftest import PASSWORD, add_member, mails_to, signup, unique_email

NEW_PASSWORD = "a-brand-new-passphrase"
ES = {"Accept-Language": "es"}
LINK = re.compile(r"https?://\S+/reset-password\?token=([A-Za-z0-9_-]+)")


def request(api, email, ip=None, headers=None):
    return api.post("/auth/password-reset", {"email": email}, ip=ip or fresh_ip(), headers=headers)


def confirm(api, token, password=NEW_PASSWORD, ip=None):
    body = {"token": token, "password": password}
    return api.post("/auth/password-reset/confirm", body, ip=ip or fresh_ip())


def preview(api, token, ip=None):
    return api.get(f"/auth/password-reset/{quote(token, safe='')}", ip=ip or fresh_ip())


def login(api, email, password):
    return api.post("/auth/login", {"email": email, "password": password}, ip=fresh_ip())


def reset_token(api, email) -> str:
    """Ask for a link and take the token from the newest mail to ``email``."""
    assert request(api, email).status == 202
    return LINK.search(mails_to(email)[-1].body).group(1)


def invalid(r) -> bool:
    return r.status == 404 and r.json()["code"] == "RESET_LINK_INVALID"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the service's logger writes while the test runs, at any level."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setLevel(logging.DEBUG)
    target = logging.getLogger("cuspide")
    target.addHandler(handler)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        target.removeHandler(handler)
        root.removeHandler(handler)


# --- request -------------------------------------------------------------------------------


def test_the_same_202_for_a_known_and_an_unknown_email_and_mail_only_for_the_known(api, clinic):
    stranger = unique_email("nobody")
    known = request(api, clinic.admin_email)
    unknown = request(api, stranger)
    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    assert known.json()["data"]["message"] == (
        "If an account exists for that email, we have sent a link to reset its password."
    )
    assert known.json()["message"] == known.json()["data"]["message"]
    es_known, es_unknown = (request(api, e, headers=ES) for e in (clinic.admin_email, stranger))
    assert es_known.body == es_unknown.body
    assert es_known.json()["data"]["message"].startswith("Si existe una cuenta con ese correo")
    assert mails_to(stranger) == []
    sent = mails_to(clinic.admin_email)
    assert len(sent) == 2 and all(LINK.search(m.body) for m in sent)


def test_a_known_and_an_unknown_email_make_the_same_reads(api, clinic, monkeypatch):
    """Timing: the DynamoDB reads do not depend on whether the account exists."""
    calls: list[str] = []
    real = Connection._make_api_call

    def spy(self, operation_name, operation_kwargs, *a, **kw):
        calls.append(operation_name)
        return real(self, operation_name, operation_kwargs, *a, **kw)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    # The send itself (its own bounce re-check and the SES call) is the documented difference.
    sends: list[str] = []
    monkeypatch.setattr(passwords.mail, "send", lambda **kw: sends.append(kw["to"]) or "id")
    reads = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
    seen = []
    for email in (clinic.admin_email, unique_email("nobody")):
        calls.clear()
        assert request(api, email).status == 202
        seen.append([c for c in calls if c in reads])
    assert seen[0] == seen[1] and "Scan" not in seen[0]
    assert sends == [clinic.admin_email]


def test_the_mail_is_in_the_users_language_and_its_link_works(api, clinic):
    c = signup(api, "Clinic EN", language="en")
    token = reset_token(api, c.admin_email)
    m = mails_to(c.admin_email)[-1]
    assert m.subject == "Cúspide: reset your password"
    assert len(token) == 43  # secrets.token_urlsafe(32)
    r = preview(api, token)
    assert r.status == 200, r.body
    d = r.json()["data"]
    assert d["email_hint"] == f"{c.admin_email[0]}•••@clinic-tests.com"
    assert c.admin_email.encode() not in r.body
    assert 59 * 60 < (_dt(d["valid_until"]) - now()).total_seconds() <= 3600
    # Spanish by default (the sign-up clinic's language is the user's)
    reset_token(api, clinic.admin_email)
    assert mails_to(clinic.admin_email)[-1].subject == "Cúspide: restablece tu contraseña"


def test_only_the_hash_is_stored_with_a_ttl(api, clinic):
    token = reset_token(api, clinic.admin_email)
    th = passwords.auth.token_hash(token)
    item = PasswordResetToken.get(*PasswordResetToken.key(th), consistent_read=True)
    assert item.user_id == clinic.admin_id and item.status == "pending"
    # DynamoDB TTL (whole seconds), besides the explicit check
    assert int(item.expires_at.timestamp()) == int(item.valid_until.timestamp())
    raw = PasswordResetToken._get_connection().get_item(*PasswordResetToken.key(th))
    assert token not in str(raw)


def test_a_new_request_invalidates_the_earlier_link(api, clinic):
    first = reset_token(api, clinic.admin_email)
    second = reset_token(api, clinic.admin_email)
    assert invalid(preview(api, first))
    assert invalid(confirm(api, first))
    assert preview(api, second).status == 200
    assert confirm(api, second).status == 204


def test_a_bounced_address_gets_the_same_answer_and_no_link(api, clinic):
    mail.mark_undeliverable(clinic.admin_email, "bounce", "Permanent")
    before = len(mails_to(clinic.admin_email))
    r = request(api, clinic.admin_email)
    assert r.status == 202 and "If an account exists" in r.json()["data"]["message"]
    assert len(mails_to(clinic.admin_email)) == before
    ptr = list(
        PasswordResetPointer.query(f"USER#{clinic.admin_id}", PasswordResetPointer.SK == "PWRESET")
    )
    assert ptr == []


def test_a_malformed_email_is_a_422_naming_email(api):
    r = api.post("/auth/password-reset", {"email": "not-an-email"}, ip=fresh_ip())
    assert r.status == 422 and [e["field"] for e in r.json()["errors"]] == ["email"]


# --- the link ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage", ["x", "A" * 43, "../../etc/passwd", "ñ" * 43, "a" * 600, "-" * 43]
)
def test_a_garbage_token_is_an_invalid_link(api, garbage):
    r = preview(api, garbage)
    assert invalid(r), r.body
    assert r.json()["message"] == "This link is no longer valid: request a new one."
    es = api.get(f"/auth/password-reset/{quote(garbage, safe='')}", ip=fresh_ip(), headers=ES)
    assert es.json()["message"] == "Este enlace ya no es válido: solicita uno nuevo."
    assert invalid(confirm(api, garbage[:512]))


def test_a_used_link_is_invalid_for_preview_and_replay(api, clinic):
    token = reset_token(api, clinic.admin_email)
    assert confirm(api, token).status == 204
    assert invalid(preview(api, token))
    replay = confirm(api, token, "yet-another-passphrase")
    assert invalid(replay)
    assert login(api, clinic.admin_email, NEW_PASSWORD).status == 200
    assert login(api, clinic.admin_email, "yet-another-passphrase").status == 401


def test_an_expired_link_is_invalid(api, clinic, monkeypatch):
    token = reset_token(api, clinic.admin_email)
    later = now() + timedelta(seconds=passwords.RESET_TTL_S + 1)
    monkeypatch.setattr(passwords, "now", lambda: later)
    assert invalid(preview(api, token))
    assert invalid(confirm(api, token))
    monkeypatch.undo()
    assert login(api, clinic.admin_email, PASSWORD).status == 200
    assert login(api, clinic.admin_email, NEW_PASSWORD).status == 401


def test_the_write_itself_refuses_a_link_that_expired_after_it_was_read(api, clinic, monkeypatch):
    """The expiry is also the consuming write's condition, not only the read's check."""
    token = reset_token(api, clinic.admin_email)
    real = passwords.now
    calls = iter([real(), real() + timedelta(seconds=passwords.RESET_TTL_S + 1)])
    monkeypatch.setattr(passwords, "now", lambda: next(calls))
    assert invalid(confirm(api, token))
    monkeypatch.undo()
    assert login(api, clinic.admin_email, PASSWORD).status == 200


# --- confirm -------------------------------------------------------------------------------


def test_reset_changes_the_password_and_ends_every_session_in_every_clinic(api, clinic):
    other = signup(api, "Clínica Dos")
    member = add_member(api, other, "dentist")  # also a member of a second clinic
    r = api.post(
        "/staff/invitations",
        {"email": member["email"], "role": "assistant"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    invite = re.search(r"token=([A-Za-z0-9_\-]+)", mails_to(member["email"])[-1].body).group(1)
    joined = api.post("/invitations/accept", {"token": invite, "password": PASSWORD})
    assert joined.status == 200, joined.body
    second = joined.json()["data"]  # a session in the first clinic
    token = reset_token(api, member["email"])
    assert confirm(api, token).status == 204
    # the old password fails, the new one works
    assert login(api, member["email"], PASSWORD).status == 401
    assert login(api, member["email"], NEW_PASSWORD).status == 200
    # both earlier sessions (two clinics) are over: access and refresh tokens alike
    for access, refresh in (
        (member["token"], member["refresh"]),
        (second["access_token"], second["refresh_token"]),
    ):
        assert api.get("/auth/me", token=access).status == 401
        r = api.post("/auth/refresh", {"refresh_token": refresh})
        assert r.status == 401 and r.json()["code"] == "SESSION_REVOKED"
    # an audit entry in each clinic, with nothing secret in it
    for cid in (other.clinic_id, clinic.clinic_id):
        found = [
            e
            for e in audit.AuditEntry.query(f"C#{cid}", audit.AuditEntry.SK.startswith("AUDIT#"))
            if e.action == "auth.password_reset"
        ]
        assert len(found) == 1 and found[0].actor_id == member["user_id"]
        assert token not in str(found[0].attribute_values)
        assert NEW_PASSWORD not in str(found[0].attribute_values)
    # and the person is told
    assert mails_to(member["email"])[-1].subject == "Cúspide: se ha cambiado tu contraseña"


def test_a_reset_clears_the_accounts_sign_in_throttle(api, clinic):
    ip = fresh_ip()
    for _ in range(passwords.auth.LOGIN_PAIR_FAILURES):
        api.post("/auth/login", {"email": clinic.admin_email, "password": "wrong-pass"}, ip=ip)
    throttled = api.post("/auth/login", {"email": clinic.admin_email, "password": PASSWORD}, ip=ip)
    assert throttled.status == 429
    token = reset_token(api, clinic.admin_email)
    assert confirm(api, token, ip=ip).status == 204
    again = api.post("/auth/login", {"email": clinic.admin_email, "password": NEW_PASSWORD}, ip=ip)
    assert again.status == 200, again.body


def test_the_password_policy_is_a_422_naming_password(api, clinic):
    token = reset_token(api, clinic.admin_email)
    for bad in ("short", "password123", clinic.admin_email):
        r = confirm(api, token, bad)
        assert r.status == 422, r.body
        assert {e["field"] for e in r.json()["errors"]} == {"password"}
    # a refused password does not use the link up
    assert preview(api, token).status == 200
    assert confirm(api, token).status == 204


def test_two_confirms_at_once_one_succeeds(api, clinic, monkeypatch):
    token = reset_token(api, clinic.admin_email)
    barrier = threading.Barrier(2, timeout=10)
    real = passwords._user

    def both_read_first(user_id):
        user = real(user_id)
        barrier.wait()  # both requests found the link valid before either writes
        return user

    monkeypatch.setattr(passwords, "_user", both_read_first)
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(confirm, api, token, "first-new-passphrase")
        b = pool.submit(confirm, api, token, "second-new-passphrase")
        ra, rb = a.result(), b.result()
    assert sorted([ra.status, rb.status]) == [204, 404], (ra.body, rb.body)
    loser = ra if ra.status == 404 else rb
    assert loser.json()["code"] == "RESET_LINK_INVALID"
    winner = "first-new-passphrase" if ra.status == 204 else "second-new-passphrase"
    loser_pw = "second-new-passphrase" if ra.status == 204 else "first-new-passphrase"
    assert login(api, clinic.admin_email, winner).status == 200
    assert login(api, clinic.admin_email, loser_pw).status == 401


def test_one_users_link_changes_only_that_users_password(api, clinic, other_clinic):
    colleague = add_member(api, clinic, "receptionist")
    mine = reset_token(api, clinic.admin_email)
    theirs = reset_token(api, other_clinic.admin_email)
    assert confirm(api, mine).status == 204
    # the other users (same clinic and another clinic) keep their password and sessions
    assert login(api, other_clinic.admin_email, PASSWORD).status == 200
    assert login(api, other_clinic.admin_email, NEW_PASSWORD).status == 401
    assert login(api, colleague["email"], PASSWORD).status == 200
    assert api.get("/auth/me", token=other_clinic.admin_token).status == 200
    assert api.get("/auth/me", token=colleague["token"]).status == 200
    # and the other user's own link still works, for them only
    assert preview(api, theirs).json()["data"]["email_hint"].endswith("@clinic-tests.com")
    assert confirm(api, theirs, "other-users-passphrase").status == 204
    assert login(api, clinic.admin_email, NEW_PASSWORD).status == 200
    assert login(api, other_clinic.admin_email, "other-users-passphrase").status == 200


def test_a_deleted_user_makes_the_link_invalid(api, clinic):
    token = reset_token(api, clinic.admin_email)
    th = passwords.auth.token_hash(token)
    item = PasswordResetToken.get(*PasswordResetToken.key(th))
    item.update(actions=[PasswordResetToken.user_id.set("01NOBODY0000000000000000000")])
    assert invalid(preview(api, token))
    assert invalid(confirm(api, token))


# --- rate limits ---------------------------------------------------------------------------


def test_requests_are_limited_per_email_whether_or_not_it_exists(api, clinic, monkeypatch):
    monkeypatch.setattr(passwords, "REQUESTS_PER_EMAIL", 2)
    for email in (clinic.admin_email, unique_email("nobody")):
        assert request(api, email).status == 202
        assert request(api, email).status == 202
        r = request(api, email)  # from yet another address: the email's own limit
        assert r.status == 429 and r.json()["code"] == "TOO_MANY_REQUESTS"
        assert int(r.headers["Retry-After"]) > 0
    assert len([m for m in mails_to(clinic.admin_email) if LINK.search(m.body)]) == 2


def test_requests_are_limited_per_address(api, monkeypatch):
    monkeypatch.setattr(passwords, "REQUESTS_PER_IP", 3)
    ip = fresh_ip()
    for _ in range(3):
        assert request(api, unique_email("sweep"), ip=ip).status == 202
    r = request(api, unique_email("sweep"), ip=ip)
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert request(api, unique_email("sweep")).status == 202  # another address is not held


def test_preview_and_confirm_are_limited_per_address(api, clinic, monkeypatch):
    monkeypatch.setattr(passwords, "PREVIEWS_PER_IP", 2)
    monkeypatch.setattr(passwords, "CONFIRMS_PER_IP", 2)
    ip = fresh_ip()
    assert invalid(preview(api, "A" * 43, ip=ip))
    assert invalid(preview(api, "B" * 43, ip=ip))
    r = preview(api, "C" * 43, ip=ip)
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert invalid(confirm(api, "A" * 43, ip=ip))
    assert invalid(confirm(api, "B" * 43, ip=ip))
    token = reset_token(api, clinic.admin_email)
    r = confirm(api, token, ip=ip)  # even a good link waits: guessing is what is limited
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert confirm(api, token).status == 204


# --- secrets -------------------------------------------------------------------------------


def test_neither_the_token_nor_the_password_is_logged(api, clinic, captured_logs, capfd):
    stranger = unique_email("nobody")
    request(api, stranger)
    token = reset_token(api, clinic.admin_email)
    preview(api, token)
    confirm(api, token, "Zq8#xk")  # a refused password is not logged either
    assert confirm(api, token).status == 204
    confirm(api, token)  # and a replay
    out, err = capfd.readouterr()
    logs = captured_logs.getvalue() + out + err
    assert "password reset" in logs  # the capture does see the service's lines
    for secret in (token, passwords.auth.token_hash(token), NEW_PASSWORD, "Zq8#xk"):
        assert secret not in logs, secret
    assert clinic.admin_email not in logs and stranger not in logs


def _dt(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_each_clinics_audit_entry_is_written_with_that_clinics_credentials(
    api, clinic, monkeypatch, scoped_as
):
    """ADR 0012: the reset itself is global (the user, the sessions); each clinic's audit
    entry is written in that clinic's scope."""
    from chalicelib.core import scoping

    other = signup(api, "Clínica Tres")
    member = add_member(api, other, "dentist")
    r = api.post(
        "/staff/invitations",
        {"email": member["email"], "role": "assistant"},
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    invite = re.search(r"token=([A-Za-z0-9_\-]+)", mails_to(member["email"])[-1].body).group(1)
    assert api.post("/invitations/accept", {"token": invite, "password": PASSWORD}).status == 200
    token = reset_token(api, member["email"])
    written: list[tuple[str | None, str]] = []
    real = audit.record

    def spy(clinic_id, *a, **k):
        written.append((scoping.current_clinic(), clinic_id))
        return real(clinic_id, *a, **k)

    monkeypatch.setattr(audit, "record", spy)
    scoped_as.clear()
    assert confirm(api, token).status == 204
    assert sorted(c for _, c in written) == sorted([clinic.clinic_id, other.clinic_id])
    assert all(scope == owner for scope, owner in written)
    assert set(scoped_as) == {clinic.clinic_id, other.clinic_id}
