"""Login throttling (ADR 0011): per (account, address) pair and per address, with a per-account
ceiling that only slows; a deactivated account answers exactly like a wrong password."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from chalicelib.core import auth, ratelimit
from tests.integration.api import fresh_ip
from tests.integration.conftest import PASSWORD, add_member, signup, unique_email

ES = {"Accept-Language": "es"}


def login(api, email, password=PASSWORD, ip=None, **kw):
    return api.post("/auth/login", {"email": email, "password": password, **kw}, ip=ip)


def _wait(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the rate limits' clock forward (the conftest pins it for each test)."""
    later = ratelimit.time.time() + seconds
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: later))


def _until_window_end(window_s: int) -> int:
    now = ratelimit.time.time()
    return math.ceil((now // window_s + 1) * window_s - now)


def test_a_strangers_failures_do_not_lock_the_real_user_out(api, clinic):
    stranger, owner = fresh_ip(), fresh_ip()
    for _ in range(auth.LOGIN_PAIR_FAILURES):
        assert login(api, clinic.admin_email, "wrong-password", ip=stranger).status == 401
    blocked = login(api, clinic.admin_email, "wrong-password", ip=stranger)
    assert blocked.status == 429 and blocked.json()["code"] == "TOO_MANY_REQUESTS"
    assert int(blocked.headers["Retry-After"]) > 0
    # the throttled address is refused even with the right password (no guessing oracle)...
    assert login(api, clinic.admin_email, ip=stranger).status == 429
    # ...but the owner, from their own address, signs in
    assert login(api, clinic.admin_email, ip=owner).status == 200


def test_retry_after_says_exactly_when_the_address_may_try_again(api, clinic, monkeypatch):
    ip = fresh_ip()
    for _ in range(auth.LOGIN_PAIR_FAILURES):
        login(api, clinic.admin_email, "wrong-password", ip=ip)
    blocked = login(api, clinic.admin_email, ip=ip)
    assert blocked.status == 429
    retry = int(blocked.headers["Retry-After"])
    assert retry == _until_window_end(auth.LOGIN_WINDOW_S)
    assert str(retry // 60 + (1 if retry % 60 else 0)) in blocked.json()["message"]
    _wait(monkeypatch, retry - 2)
    assert login(api, clinic.admin_email, ip=ip).status == 429
    _wait(monkeypatch, 2)
    assert login(api, clinic.admin_email, ip=ip).status == 200


def test_a_noisy_address_does_not_lock_out_people_who_signed_in_from_it_before(
    api, clinic, monkeypatch
):
    """Locally (and behind a clinic's NAT) everyone shares one address."""
    monkeypatch.setattr(auth, "LOGIN_ADDRESS_FAILURES", 4)  # 30 in production; same rule
    shared = fresh_ip()
    colleague = add_member(api, clinic, "dentist")
    assert login(api, clinic.admin_email, ip=shared).status == 200  # known from here
    for i in range(auth.LOGIN_ADDRESS_FAILURES):
        r = login(api, f"nobody{i}-{shared}@clinic-tests.com", "wrong-password", ip=shared)
        assert r.status == 401
    r = login(api, "someone-else@clinic-tests.com", "wrong-password", ip=shared)
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    # someone who signed in from this address before is not locked out by the noise
    assert login(api, clinic.admin_email, ip=shared).status == 200
    # an account never used from here waits, but from its own address it signs in
    assert login(api, colleague["email"], ip=shared).status == 429
    assert login(api, colleague["email"], ip=fresh_ip()).status == 200


def test_the_per_account_ceiling_slows_guessing_but_never_locks_the_owner_out(
    api, clinic, monkeypatch
):
    monkeypatch.setattr(auth, "LOGIN_ACCOUNT_FAILURES", 6)
    home = fresh_ip()
    assert login(api, clinic.admin_email, ip=home).status == 200
    # a botnet: one wrong guess from each of many addresses
    for _ in range(6):
        assert login(api, clinic.admin_email, "wrong-password", ip=fresh_ip()).status == 401
    # over the ceiling each new address gets one try per hour: the first is answered...
    guesser = fresh_ip()
    assert login(api, clinic.admin_email, "wrong-password", ip=guesser).status == 401
    slowed = login(api, clinic.admin_email, "wrong-password", ip=guesser)
    assert slowed.status == 429
    retry = int(slowed.headers["Retry-After"])
    assert retry == _until_window_end(auth.LOGIN_ACCOUNT_WINDOW_S)
    # ...and the owner still signs in, from home and from a new address
    assert login(api, clinic.admin_email, ip=home).status == 200
    assert login(api, clinic.admin_email, ip=fresh_ip()).status == 200
    # after the window the guesser is back to the normal allowance
    _wait(monkeypatch, retry)
    assert login(api, clinic.admin_email, "wrong-password", ip=guesser).status == 401
    assert login(api, clinic.admin_email, "wrong-password", ip=guesser).status == 401


def test_a_successful_sign_in_resets_its_addresss_failures(api, clinic):
    ip = fresh_ip()
    for _ in range(auth.LOGIN_PAIR_FAILURES - 1):
        assert login(api, clinic.admin_email, "wrong-password", ip=ip).status == 401
    assert login(api, clinic.admin_email, ip=ip).status == 200
    for _ in range(auth.LOGIN_PAIR_FAILURES):
        assert login(api, clinic.admin_email, "wrong-password", ip=ip).status == 401
    assert login(api, clinic.admin_email, "wrong-password", ip=ip).status == 429


def test_unknown_emails_are_throttled_exactly_like_real_ones(api, clinic):
    ip = fresh_ip()
    ghost = unique_email("ghost")
    real = [login(api, clinic.admin_email, "wrong-password", ip=ip) for _ in range(6)]
    fake = [login(api, ghost, "wrong-password", ip=ip) for _ in range(6)]
    assert [r.status for r in real] == [r.status for r in fake] == [401] * 5 + [429]
    assert real[0].json() == fake[0].json()
    assert real[-1].json()["message"] == fake[-1].json()["message"]


def test_unknown_emails_still_cost_a_password_verification(api, monkeypatch):
    seen: list[str | None] = []
    real = auth.verify_password

    def spy(password_hash, password):
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", spy)
    r = login(api, unique_email("ghost"), "wrong-password", ip=fresh_ip())
    assert r.status == 401 and seen == [None]  # verified against the dummy hash


def test_a_deactivated_account_answers_like_a_wrong_password(api, clinic):
    m = add_member(api, clinic, "dentist")
    assert api.post(f"/staff/{m['user_id']}/deactivate", token=clinic.admin_token).status == 200
    ip = fresh_ip()
    wrong_pw = login(api, m["email"], "wrong-password", ip=ip)
    right_pw = login(api, m["email"], ip=ip)
    unknown = login(api, unique_email("ghost"), "wrong-password", ip=ip)
    assert wrong_pw.status == right_pw.status == unknown.status == 401
    assert wrong_pw.json() == right_pw.json() == unknown.json()
    assert right_pw.json()["code"] == "INVALID_CREDENTIALS"
    es = api.post("/auth/login", {"email": m["email"], "password": PASSWORD}, headers=ES, ip=ip)
    assert (
        es.status == 401 and es.json()["message"] == "Correo electrónico o contraseña incorrectos."
    )
    # and it counts as a failure, like any wrong password, so it cannot be told apart by the
    # throttle either
    for _ in range(auth.LOGIN_PAIR_FAILURES - 3):
        login(api, m["email"], ip=ip)
    assert login(api, m["email"], ip=ip).status == 429


def test_deactivated_in_one_clinic_still_signs_in_to_another(api, clinic, other_clinic):
    import re

    from tests.integration.conftest import mails_to

    m = add_member(api, clinic, "dentist")
    r = api.post(
        "/staff/invitations",
        {"email": m["email"], "role": "hygienist"},
        token=other_clinic.admin_token,
    )
    assert r.status == 201
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mails_to(m["email"])[-1].body).group(1)
    assert api.post("/invitations/accept", {"token": token, "password": PASSWORD}).status == 200
    assert api.post(f"/staff/{m['user_id']}/deactivate", token=clinic.admin_token).status == 200
    r = login(api, m["email"], ip=fresh_ip())
    assert r.status == 200, r.body
    assert r.json()["data"]["clinic"]["clinic_id"] == other_clinic.clinic_id
    # naming the clinic that deactivated them is refused
    r = login(api, m["email"], ip=fresh_ip(), clinic_id=clinic.clinic_id)
    assert r.status == 403 and r.json()["code"] == "NOT_A_MEMBER"


def test_a_new_clinic_admin_is_known_from_the_address_they_signed_up_from(api, monkeypatch):
    monkeypatch.setattr(auth, "LOGIN_ADDRESS_FAILURES", 4)
    ip = fresh_ip()
    api.ip = ip
    c = signup(api, "Clínica Ruido")
    for i in range(auth.LOGIN_ADDRESS_FAILURES):
        login(api, f"n{i}-{ip}@clinic-tests.com", "wrong-password", ip=ip)
    assert login(api, unique_email("n"), "wrong-password", ip=ip).status == 429
    assert login(api, c.admin_email, ip=ip).status == 200
