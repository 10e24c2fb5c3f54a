"""Access tokens (JWT) and password hashing.

Access tokens: HS256 JWT, 15 minutes, ``iss``/``aud`` pinned, ``kid`` in the header naming the
signing key (see ``chalicelib.core.keys``). Verification accepts only HS256, so a token signed
with another algorithm (or ``none``) is refused. PyJWT compares signatures in constant time.

Passwords: Argon2id (argon2-cffi), a memory-hard KDF, with its recommended parameters.

Login throttling (ADR 0011): failed sign-ins are counted per (account, address) pair, per
address and per account. A pair that failed too often waits; an address that failed too often
waits, except for accounts that signed in from it before; an account that failed too often
(from many addresses) is only slowed: each address that is new to it gets one try per window.
Nothing ever locks the owner out of their account from an address that has not failed.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chalicelib.core import ratelimit
from chalicelib.core.config import settings
from chalicelib.core.errors import TooManyRequests, Unauthorized, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.keys import jwt_keys
from chalicelib.core.observability import logger

ALGORITHM = "HS256"
# Argon2id at OWASP's second configuration (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1;
# each of its rows is equally strong): one verification is ~30 ms of CPU instead of ~210 ms at
# argon2-cffi's default (RFC 9106's second recommendation, m=64 MiB, t=3, p=4), which on a
# Lambda with a fraction of a vCPU was 80% of a sign-in and gains nothing from four lanes.
# docs/adr/0016-password-hash-parameters.md. Older hashes are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# A real hash to verify against when the account does not exist, so a login for an unknown
# email costs the same time as one for a known email. A constant (of a random password nobody
# kept) rather than hashed at import: that cost ~400 ms and 64 MiB in every cold start, also of
# functions that never check a password. tests/unit/core/test_auth_dummy_hash.py proves it has the
# hasher's own parameters (the same cost as a real verification).
_DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$ed39gApTxlUDnaaf/NXIYw$"
    "L2HuG/zEzgiKBVBQOPfuIfbMWE2MXs11sM/lfb73uOo"
)

COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "123456789012",
        "qwertyuiop",
        "contraseña",
        "contrasena",
        "clinica123",
        "dentista123",
        "iloveyou12",
        "administrator",
    }
)
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    clinic_id: str
    session_id: str
    role: str
    expires_at: datetime


def issue_access_token(*, user_id: str, clinic_id: str, session_id: str, role: str) -> str:
    cfg = settings()
    ring = jwt_keys()
    issued = now()
    payload = {
        "iss": cfg.jwt_issuer,
        "aud": cfg.jwt_audience,
        "sub": user_id,
        "cid": clinic_id,
        "sid": session_id,
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=cfg.access_token_ttl_s)).timestamp()),
        "jti": new_id(),
    }
    return jwt.encode(
        payload, ring.keys[ring.active], algorithm=ALGORITHM, headers={"kid": ring.active}
    )


_INVALID = tr("The access token is not valid.", "El token de acceso no es válido.")


def verify_access_token(token: str) -> AccessClaims:
    cfg = settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(
            tr("The access token is malformed.", "El token de acceso está mal formado."),
            code="INVALID_TOKEN",
        ) from exc
    key = jwt_keys().get(str(header.get("kid", "")))
    if key is None or header.get("alg") != ALGORITHM:
        raise Unauthorized(_INVALID, code="INVALID_TOKEN")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=cfg.jwt_audience,
            issuer=cfg.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(
            tr(
                "The access token has expired; refresh it.",
                "El token de acceso ha caducado; renuévalo.",
            ),
            code="TOKEN_EXPIRED",
        ) from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(_INVALID, code="INVALID_TOKEN") from exc
    try:
        return AccessClaims(
            user_id=str(claims["sub"]),
            clinic_id=str(claims["cid"]),
            session_id=str(claims["sid"]),
            role=str(claims["role"]),
            expires_at=datetime.fromtimestamp(claims["exp"]).astimezone(),
        )
    except KeyError as exc:
        raise Unauthorized(_INVALID, code="INVALID_TOKEN") from exc


def new_opaque_token() -> str:
    """A random token for refresh tokens and invitation links (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """How opaque tokens are stored and looked up: only their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str, *, email: str = "") -> None:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            tr(
                f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.",
                f"La contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres.",
            )
        )
    if len(password) > 256:
        problems.append(
            tr(
                "Password must be at most 256 characters long.",
                "La contraseña puede tener como mucho 256 caracteres.",
            )
        )
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append(
            tr(
                "Password is too common or too simple.",
                "La contraseña es demasiado común o demasiado simple.",
            )
        )
    if email and password.lower() == email.lower():
        problems.append(
            tr(
                "Password must not be your email address.",
                "La contraseña no puede ser tu dirección de correo.",
            )
        )
    if problems:
        raise Unprocessable(
            tr(
                "The password does not meet the policy.",
                "La contraseña no cumple la política de seguridad.",
            ),
            errors=[{"field": "password", "message": p} for p in problems],
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True for a hash made with other parameters than today's (upgraded at sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- login throttling (ADR 0011) -----------------------------------------------------------

LOGIN_WINDOW_S = 15 * 60
# Failures of one account from one address, then that address waits for that account.
LOGIN_PAIR_FAILURES = 5
# Failures from one address over every account, then it waits (except for its known accounts).
LOGIN_ADDRESS_FAILURES = 30
# Failures of one account from every address; above it the account is slowed, not locked.
LOGIN_ACCOUNT_WINDOW_S = 60 * 60
LOGIN_ACCOUNT_FAILURES = 50
# While an account is slowed: attempts per window from each address that is new to it.
LOGIN_SLOWED_ATTEMPTS = 1
# How long an address stays known for an account after a successful sign-in from it.
LOGIN_KNOWN_ADDRESS_S = 30 * 24 * 3600


def _pair(email: str, ip: str | None) -> str:
    return f"{email.strip().lower()}|{ip or 'unknown'}"


def _too_many(window_s: int) -> str:
    minutes = math.ceil(ratelimit.retry_after(window_s) / 60)
    return tr(
        f"Too many failed sign-in attempts; try again in {minutes} min.",
        f"Demasiados intentos fallidos de inicio de sesión; vuelve a intentarlo en {minutes} min.",
    )


def login_gate(email: str, ip: str | None) -> None:
    """Before a password is checked: refuse (429 with ``Retry-After``) a throttled attempt.

    Known and unknown emails go through exactly the same reads and writes, so the throttle
    tells nothing about which accounts exist. A throttled attempt is refused whatever the
    password, so throttling is no oracle either.
    """
    pair = _pair(email, ip)
    address = ratelimit.Window("login-addr", ip or "unknown", LOGIN_WINDOW_S)
    account = ratelimit.Window("login-acct", email.strip().lower(), LOGIN_ACCOUNT_WINDOW_S)
    known_mark = ratelimit.Mark("login-known", pair)
    address_failures, account_failures, known = ratelimit.peek([address, account, known_mark])
    try:
        if not known and address_failures >= LOGIN_ADDRESS_FAILURES:
            raise address.refuse(_too_many(LOGIN_WINDOW_S))
        # The pair's allowance is taken atomically before the password is checked, so parallel
        # requests cannot get more guesses than the limit; a successful sign-in gives it back.
        ratelimit.take(
            ratelimit.Window("login-pair", pair, LOGIN_WINDOW_S),
            limit=LOGIN_PAIR_FAILURES,
            message=_too_many(LOGIN_WINDOW_S),
        )
        if not known and account_failures >= LOGIN_ACCOUNT_FAILURES:
            # Slowed, not locked: each address new to the account gets one try per window.
            ratelimit.take(
                ratelimit.Window("login-slow", pair, LOGIN_ACCOUNT_WINDOW_S),
                limit=LOGIN_SLOWED_ATTEMPTS,
                message=_too_many(LOGIN_ACCOUNT_WINDOW_S),
            )
    except TooManyRequests as exc:
        # Who and from where stay out of the logs; the counts show what kind of attack it is.
        logger.warning(
            "sign-in throttled",
            extra={
                "address_failures": address_failures,
                "account_failures": account_failures,
                "known_address": bool(known),
                "retry_after": exc.retry_after,
            },
        )
        raise


def login_failed(email: str, ip: str | None) -> None:
    """A wrong password, an unknown email or an account without an active clinic."""
    ratelimit.add(ratelimit.Window("login-addr", ip or "unknown", LOGIN_WINDOW_S))
    ratelimit.add(ratelimit.Window("login-acct", email.strip().lower(), LOGIN_ACCOUNT_WINDOW_S))


def login_succeeded(email: str, ip: str | None) -> None:
    """The right password from this address: its failures are forgotten, and it is known."""
    pair = _pair(email, ip)
    ratelimit.clear_and_mark(
        [
            ratelimit.Window("login-pair", pair, LOGIN_WINDOW_S),
            ratelimit.Window("login-slow", pair, LOGIN_ACCOUNT_WINDOW_S),
        ],
        ratelimit.Mark("login-known", pair),
        ttl_s=LOGIN_KNOWN_ADDRESS_S,
    )


def login_known(email: str, ip: str | None) -> None:
    """Remember that this account proved its password from this address (sign-in, sign-up,
    accepting an invitation): a noisy address or a slowed account does not hold it back."""
    ratelimit.mark(ratelimit.Mark("login-known", _pair(email, ip)), ttl_s=LOGIN_KNOWN_ADDRESS_S)
