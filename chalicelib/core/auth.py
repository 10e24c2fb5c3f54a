"""Access tokens (JWT) and password hashing.

Access tokens: HS256 JWT, 15 minutes, ``iss``/``aud`` pinned, ``kid`` in the header naming the
signing key (see ``chalicelib.core.keys``). Verification accepts only HS256, so a token signed
with another algorithm (or ``none``) is refused. PyJWT compares signatures in constant time.

Passwords: Argon2id (argon2-cffi), a memory-hard KDF, with its recommended parameters.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chalicelib.core.config import settings
from chalicelib.core.errors import Unauthorized, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.keys import jwt_keys

ALGORITHM = "HS256"
_hasher = PasswordHasher()
# A real hash to verify against when the account does not exist, so a login for an unknown
# email costs the same time as one for a known email.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

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


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
