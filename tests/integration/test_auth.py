"""Login, refresh rotation and reuse detection, logout, token verification, throttling."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from argon2 import PasswordHasher

from chalicelib.core import auth, keys
from chalicelib.identity.models import User
from tests.integration.api import Api, fresh_ip
from tests.integration.conftest import PASSWORD, Clinic, add_member


def login(api, email, password=PASSWORD, ip=None, **kw):
    return api.post("/auth/login", {"email": email, "password": password, **kw}, ip=ip)


def test_login_returns_pinned_short_lived_jwt_and_opaque_refresh(api, clinic):
    r = login(api, clinic.admin_email)
    assert r.status == 200, r.body
    d = r.json()["data"]
    assert d["expires_in"] == 900 and d["refresh_expires_in"] == 30 * 24 * 3600
    header = jwt.get_unverified_header(d["access_token"])
    assert header["alg"] == "HS256" and header["kid"]
    claims = jwt.decode(d["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "cuspide-api" and claims["iss"] == "cuspide"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["cid"] == clinic.clinic_id
    assert "." not in d["refresh_token"]  # opaque, not a JWT
    assert d["clinic"]["clinic_id"] == clinic.clinic_id and d["role"] == "admin"


def test_only_the_refresh_token_hash_is_stored(api, clinic):
    import boto3

    from chalicelib.core.config import settings

    d = login(api, clinic.admin_email).json()["data"]
    ddb = boto3.client("dynamodb")
    items = ddb.scan(TableName=settings().table_name)["Items"]  # test-only raw look
    dumped = json.dumps(items, default=str)
    assert d["refresh_token"] not in dumped
    assert d["access_token"] not in dumped


def test_wrong_password_and_unknown_email_look_the_same(api, clinic):
    a = login(api, clinic.admin_email, "not-the-password")
    b = login(api, "nobody@clinic-tests.com", "not-the-password")
    assert a.status == b.status == 401
    assert a.json()["code"] == b.json()["code"] == "INVALID_CREDENTIALS"
    assert a.json()["message"] == b.json()["message"]


def test_refresh_rotates_and_reuse_revokes_the_whole_session(api, clinic):
    first = login(api, clinic.admin_email).json()["data"]
    r1 = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r1.status == 200, r1.body
    second = r1.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]
    # the new access token works
    assert api.get("/auth/me", token=second["access_token"]).status == 200
    # presenting the used token again: reuse -> the family is revoked
    reuse = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reuse.status == 401 and reuse.json()["code"] == "SESSION_REVOKED"
    # ...including the newest refresh token and the access tokens of the session
    after = api.post("/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert after.status == 401 and after.json()["code"] == "SESSION_REVOKED"
    me = api.get("/auth/me", token=second["access_token"])
    assert me.status == 401 and me.json()["code"] == "SESSION_REVOKED"


def test_other_sessions_survive_a_revoked_one(api, clinic):
    a = login(api, clinic.admin_email).json()["data"]
    b = login(api, clinic.admin_email).json()["data"]
    api.post("/auth/refresh", {"refresh_token": a["refresh_token"]})
    api.post("/auth/refresh", {"refresh_token": a["refresh_token"]})  # reuse: revokes a
    assert api.get("/auth/me", token=b["access_token"]).status == 200


def test_unknown_refresh_token_is_401(api):
    r = api.post("/auth/refresh", {"refresh_token": "x" * 43})
    assert r.status == 401 and r.json()["code"] == "INVALID_REFRESH_TOKEN"


def test_logout_revokes_the_session(api, clinic):
    d = login(api, clinic.admin_email).json()["data"]
    assert api.post("/auth/logout", token=d["access_token"]).status == 204
    assert api.get("/auth/me", token=d["access_token"]).json()["code"] == "SESSION_REVOKED"
    r = api.post("/auth/refresh", {"refresh_token": d["refresh_token"]})
    assert r.status == 401 and r.json()["code"] == "SESSION_REVOKED"


def _forge(claims_update=None, header_update=None, key=None, alg="HS256", token=None):
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(claims_update or {})
    ring = keys.jwt_keys()
    headers = {"kid": ring.active, **(header_update or {})}
    return jwt.encode(claims, key or ring.keys[ring.active], algorithm=alg, headers=headers)


def test_expired_access_token_is_token_expired(api, clinic):
    past = int(time.time()) - 60
    token = _forge({"exp": past, "iat": past - 900}, token=clinic.admin_token)
    r = api.get("/auth/me", token=token)
    assert r.status == 401 and r.json()["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    "mutate",
    [
        "signature",
        "other-key",
        "wrong-audience",
        "unknown-kid",
        "alg-none",
        "other-alg",
        "garbage",
    ],
)
def test_tampered_tokens_are_refused(api, clinic, mutate):
    t = clinic.admin_token
    if mutate == "signature":
        head, body, sig = t.split(".")
        token = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    elif mutate == "other-key":
        token = _forge(key=b"k" * 32, token=t)
    elif mutate == "wrong-audience":
        token = _forge({"aud": "someone-else"}, token=t)
    elif mutate == "unknown-kid":
        token = _forge(header_update={"kid": "nope"}, token=t)
    elif mutate == "alg-none":
        claims = jwt.decode(t, options={"verify_signature": False})
        enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
        token = (
            f"{enc({'alg': 'none', 'typ': 'JWT', 'kid': keys.jwt_keys().active})}.{enc(claims)}."
        )
    elif mutate == "other-alg":
        token = _forge(alg="HS512", token=t)
    else:
        token = "not.a.jwt"
    r = api.get("/auth/me", token=token)
    assert r.status == 401
    assert r.json()["code"] == "INVALID_TOKEN"


def test_a_token_for_one_clinic_cannot_be_retargeted_to_another(api, clinic, other_clinic):
    # Even a validly signed token naming a clinic the user does not belong to is refused.
    token = _forge({"cid": other_clinic.clinic_id}, token=clinic.admin_token)
    assert api.get("/auth/me", token=token).status == 401


def test_missing_or_malformed_authorization_header(api):
    r = api.get("/auth/me")
    assert r.status == 401 and r.json()["code"] == "UNAUTHENTICATED"
    r = api.get("/auth/me", headers={"Authorization": "Basic abc"})
    assert r.status == 401


def test_failed_logins_are_throttled_per_account_and_address_with_retry_after(api, clinic):
    ip = fresh_ip()
    for _ in range(5):
        r = login(api, clinic.admin_email, "wrong-password", ip=ip)
        assert r.status == 401
    blocked = login(api, clinic.admin_email, "wrong-password", ip=ip)
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # even the right password is refused from the throttled address...
    assert login(api, clinic.admin_email, PASSWORD, ip=ip).status == 429
    # ...but not from another one: someone else's failures do not lock the owner out (ADR 0011)
    assert login(api, clinic.admin_email, PASSWORD, ip=fresh_ip()).status == 200


def test_failed_logins_are_throttled_per_source_address(api, clinic):
    ip = fresh_ip()
    statuses = [
        login(api, f"nobody{i}@clinic-tests.com", "wrong-password", ip=ip).status for i in range(31)
    ]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
    # another address is not affected
    assert login(api, clinic.admin_email, PASSWORD, ip=fresh_ip()).status == 200


def test_successful_login_resets_the_account_counter(api, clinic):
    ip = fresh_ip()
    for _ in range(4):
        login(api, clinic.admin_email, "wrong-password", ip=ip)
    assert login(api, clinic.admin_email, ip=ip).status == 200
    for _ in range(4):
        assert login(api, clinic.admin_email, "wrong-password", ip=ip).status == 401


def test_switch_clinic_issues_tokens_for_the_other_clinic(api, clinic, other_clinic):
    member = add_member(api, clinic, "dentist")
    # make the same person a member of the other clinic through an invitation too
    import re

    from tests.integration.conftest import mails_to

    r = api.post(
        "/staff/invitations",
        {"email": member["email"], "role": "hygienist"},
        token=other_clinic.admin_token,
    )
    assert r.status == 201
    msg = mails_to(member["email"])[-1]
    token = re.search(r"token=([A-Za-z0-9_\-]+)", msg.body).group(1)
    r = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert r.status == 200, r.body

    d = login(api, member["email"], clinic_id=clinic.clinic_id).json()["data"]
    assert {c["clinic_id"] for c in d["clinics"]} == {clinic.clinic_id, other_clinic.clinic_id}
    sw = api.post(
        "/auth/switch-clinic", {"clinic_id": other_clinic.clinic_id}, token=d["access_token"]
    )
    assert sw.status == 200, sw.body
    s = sw.json()["data"]
    me = api.get("/auth/me", token=s["access_token"]).json()["data"]
    assert me["clinic"]["clinic_id"] == other_clinic.clinic_id and me["role"] == "hygienist"
    # the access token for the first clinic stops working at once
    assert api.get("/auth/me", token=d["access_token"]).status == 401
    # the previous refresh token is retired: presenting it counts as reuse
    assert api.post("/auth/refresh", {"refresh_token": d["refresh_token"]}).status == 401


def test_cannot_switch_to_a_clinic_you_do_not_belong_to(api, clinic, other_clinic):
    r = api.post(
        "/auth/switch-clinic", {"clinic_id": other_clinic.clinic_id}, token=clinic.admin_token
    )
    assert r.status == 403 and r.json()["code"] == "NOT_A_MEMBER"


def test_login_into_a_named_clinic_you_do_not_belong_to_is_403(api, clinic, other_clinic):
    r = login(api, clinic.admin_email, clinic_id=other_clinic.clinic_id)
    assert r.status == 403


def test_signup_validates_and_refuses_duplicates(api, clinic):
    bad = api.post(
        "/clinics/signup",
        {
            "clinic": {"name": "X", "time_zone": "Mars/Base", "tax_id": "B12345675"},
            "admin": {"name": "A", "email": "not-an-email", "password": "x"},
        },
    )
    assert bad.status == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"clinic.name", "clinic.time_zone", "admin.email"} <= fields
    dup = api.post(
        "/clinics/signup",
        {
            "clinic": {"name": "Clínica Dup"},
            "admin": {"name": "Ana", "email": clinic.admin_email, "password": PASSWORD},
        },
    )
    assert dup.status == 409 and dup.json()["code"] == "EMAIL_TAKEN"
    weak = api.post(
        "/clinics/signup",
        {
            "clinic": {"name": "Clínica Weak"},
            "admin": {"name": "Ana", "email": "weak@clinic-tests.com", "password": "password123"},
        },
    )
    assert weak.status == 422 and weak.json()["errors"][0]["field"] == "password"


def test_signup_is_rate_limited_per_address(api):
    ip = fresh_ip()
    codes = []
    for i in range(11):
        codes.append(
            api.post(
                "/clinics/signup",
                {
                    "clinic": {"name": f"Clínica {i}"},
                    "admin": {
                        "name": "Ana",
                        "email": f"rl{i}-{ip}@clinic-tests.com",
                        "password": PASSWORD,
                    },
                },
                ip=ip,
            ).status
        )
    assert codes[:10] == [201] * 10 and codes[10] == 429


def test_bad_json_is_400_not_500(api):
    r = api.post("/auth/login", raw=b"{not json")
    assert r.status == 400 and "JSON" in r.json()["message"]
    r = api.post("/auth/login", raw=b"")
    assert r.status == 400


def test_a_hash_with_older_parameters_is_upgraded_at_sign_in(api: Api, clinic: Clinic) -> None:
    """ADR 0016: accounts hashed with argon2-cffi's defaults (m=64 MiB, t=3, p=4) keep signing
    in, and their hash moves to today's parameters the first time the password is proven."""
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    User(*User.key(clinic.admin_id)).update(actions=[User.password_hash.set(old)])
    r = api.post("/auth/login", {"email": clinic.admin_email, "password": "not-the-password-1"})
    assert r.status == 401
    assert User.get(*User.key(clinic.admin_id)).password_hash == old  # not proven: untouched
    r = api.post("/auth/login", {"email": clinic.admin_email, "password": PASSWORD})
    assert r.status == 200, r.body
    stored = User.get(*User.key(clinic.admin_id)).password_hash
    assert stored != old and not auth.needs_rehash(stored)
    r = api.post("/auth/login", {"email": clinic.admin_email, "password": PASSWORD})
    assert r.status == 200, r.body
