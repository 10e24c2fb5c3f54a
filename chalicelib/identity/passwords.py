"""Forgotten password: a single-use, one-hour link by email, then a new password (issue 15).

* ``request_reset``: always 202 with the same message, whether an account exists for the email
  or not. The same DynamoDB reads happen either way (the email lookup, one BatchGetItem for the
  user and their current reset, the bounce list); only an existing, deliverable account then
  writes a token and is sent the link. What still differs is that write and the SES call
  (docs/api.md says so): the mail cannot be sent without knowing the account.
* The token is ``secrets.token_urlsafe(32)`` (256 bits), mailed and never stored: the table
  holds its SHA-256 as the key of a global item (``PWRESET#<sha256>``), read by that key
  (never a scan), so no comparison of the token happens in our code; the expiry is checked
  explicitly and by the condition of the consuming write, and TTL only tidies up.
* One live link per user: ``USER#<uid>`` / ``PWRESET`` names the current token; a new request
  marks the previous one superseded in the same transaction that moves the pointer (conditional
  on the pointer it read, so two requests at once cannot both leave a live link).
* ``confirm``: the token is consumed by a conditional write (``status = pending`` and not
  expired) in the same transaction as the new password hash, so of two confirms at once exactly
  one succeeds. Then every session of the user, in every clinic, is revoked, the account's
  sign-in throttle is cleared, each clinic the user belongs to gets an audit entry (the audit
  log is per clinic; there is no user-level log) and the user is told by email.

Neither the token nor the password is ever logged, audited or put in an event.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, auth, mail, ratelimit, scoping
from chalicelib.core.config import settings
from chalicelib.core.db import Item, transaction
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import Text, tr
from chalicelib.core.ids import now
from chalicelib.core.observability import logger
from chalicelib.identity import emails, schemas
from chalicelib.identity.models import EmailLookup, Membership, Session, User
from chalicelib.identity.service import PUBLIC_WINDOW_S
from chalicelib.identity.sessions import _revoke

RESET_TTL_S = 60 * 60
# Per address: enough for a clinic's staff behind one NAT, not for sweeping addresses.
REQUESTS_PER_IP = 20
# Per email address: a person who asks again because the mail is slow, not a mailbox flood.
REQUESTS_PER_EMAIL = 5
PREVIEWS_PER_IP = 100
CONFIRMS_PER_IP = 20

# What token_urlsafe(32) produces: anything else is no link of ours, refused without a read.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# Keys read for an email with no account, so that case does the same reads as a real one.
_NOBODY = "-"

REQUESTED = tr(
    "If an account exists for that email, we have sent a link to reset its password.",
    "Si existe una cuenta con ese correo electrónico, le hemos enviado un enlace para "
    "restablecer su contraseña.",
)


class PasswordResetToken(Item, discriminator="PasswordResetToken"):
    """Global: ``PK = PWRESET#<sha256(token)>``, ``SK = PWRESET``; TTL at ``valid_until``."""

    user_id = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")  # pending | used | superseded
    created_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(token_hash: str) -> tuple[str, str]:
        return f"PWRESET#{token_hash}", "PWRESET"


class PasswordResetPointer(Item, discriminator="PasswordResetPointer"):
    """Global: ``PK = USER#<uid>``, ``SK = PWRESET``: the user's one live reset token."""

    token_hash = UnicodeAttribute()
    valid_until = UTCDateTimeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "PWRESET"


def _invalid() -> NotFound:
    return NotFound(
        tr(
            "This link is no longer valid: request a new one.",
            "Este enlace ya no es válido: solicita uno nuevo.",
        ),
        code="RESET_LINK_INVALID",
    )


def _too_many() -> Text:
    return tr(
        "Too many password reset requests; try again later.",
        "Demasiadas solicitudes de restablecimiento de contraseña; inténtalo de nuevo más tarde.",
    )


def email_hint(email: str) -> str:
    """``n•••@demo.clinic``: the first character of the mailbox and the domain."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


# --- request -------------------------------------------------------------------------------


def request_reset(data: schemas.PasswordResetIn, ip: str | None) -> Text:
    email = data.email.strip().lower()
    # Both limits count every request, known email or not, so a 429 says nothing either.
    ratelimit.hit(
        "pwreset-ip",
        ip or "unknown",
        limit=REQUESTS_PER_IP,
        window_s=PUBLIC_WINDOW_S,
        message=_too_many(),
    )
    ratelimit.hit(
        "pwreset-email",
        email,
        limit=REQUESTS_PER_EMAIL,
        window_s=PUBLIC_WINDOW_S,
        message=_too_many(),
    )
    # The same reads whatever the answer: the lookup, then the user and their current reset in
    # one BatchGetItem (keys of nobody when the email is unknown), then the bounce list.
    try:
        user_id = EmailLookup.get(*EmailLookup.key(email), consistent_read=True).user_id
    except DoesNotExist:
        user_id = None
    uid = user_id or _NOBODY
    found: dict[str, Any] = {
        type(i).__name__: i
        for i in Item.batch_get(
            [User.key(uid), PasswordResetPointer.key(uid)], consistent_read=True
        )
    }
    undeliverable = mail.is_undeliverable(email)
    user = found.get("User") if user_id else None
    if isinstance(user, User) and not undeliverable:
        _issue(user, found.get("PasswordResetPointer"))
    return REQUESTED


def _issue(user: User, previous: PasswordResetPointer | None) -> None:
    token = auth.new_opaque_token()
    th = auth.token_hash(token)
    at = now()
    valid_until = at + timedelta(seconds=RESET_TTL_S)
    pointer = PasswordResetPointer(
        *PasswordResetPointer.key(user.user_id),
        token_hash=th,
        valid_until=valid_until,
        expires_at=valid_until,
    )
    try:
        with transaction() as tx:
            tx.save(
                PasswordResetToken(
                    *PasswordResetToken.key(th),
                    user_id=user.user_id,
                    status="pending",
                    created_at=at,
                    valid_until=valid_until,
                    expires_at=valid_until,
                ),
                condition=PasswordResetToken.PK.does_not_exist(),
            )
            if previous is None:
                tx.save(pointer, condition=PasswordResetPointer.PK.does_not_exist())
            else:
                # Moved only from the pointer read above: a request in between fails this one.
                tx.save(pointer, condition=PasswordResetPointer.token_hash == previous.token_hash)
                if previous.valid_until > at:
                    # The earlier link dies with the new one. It still exists (TTL removes it
                    # only after valid_until), and a used one took its pointer away with it.
                    tx.update(
                        PasswordResetToken(*PasswordResetToken.key(previous.token_hash)),
                        actions=[PasswordResetToken.status.set("superseded")],
                        condition=PasswordResetToken.PK.exists(),
                    )
    except TransactWriteError:
        # Another request for the same account won the race and mailed its own link.
        logger.warning("password reset not issued: a concurrent request for the account")
        return
    link = f"{settings().app_url}/reset-password?token={token}"
    subject, text, html = emails.password_reset(user.name, user.language, link, RESET_TTL_S // 60)
    try:
        mail.send(to=user.email, subject=subject, text=text, html=html)
    except Exception:  # noqa: BLE001 - the answer must not tell that an account exists
        logger.exception("password reset mail not sent")  # no address, no link
        return
    logger.info("password reset link sent")


# --- the link ------------------------------------------------------------------------------


def _valid_token(token: str) -> PasswordResetToken:
    """The pending, unexpired reset of ``token``; 404 ``RESET_LINK_INVALID`` otherwise."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise _invalid()
    try:
        item = PasswordResetToken.get(
            *PasswordResetToken.key(auth.token_hash(token)), consistent_read=True
        )
    except DoesNotExist as exc:
        raise _invalid() from exc
    # TTL deletes late (up to days): the expiry is checked here, not left to it.
    if item.status != "pending" or item.valid_until <= now():
        raise _invalid()
    return item


def _user(user_id: str) -> User:
    try:
        return User.get(*User.key(user_id), consistent_read=True)
    except DoesNotExist as exc:
        raise _invalid() from exc


def preview(token: str, ip: str | None) -> schemas.PasswordResetPreview:
    ratelimit.hit(
        "pwreset-preview",
        ip or "unknown",
        limit=PREVIEWS_PER_IP,
        window_s=PUBLIC_WINDOW_S,
        message=_too_many(),
    )
    item = _valid_token(token)
    user = _user(item.user_id)
    return schemas.PasswordResetPreview(
        email_hint=email_hint(user.email), valid_until=item.valid_until
    )


# --- confirm -------------------------------------------------------------------------------


def confirm(data: schemas.PasswordResetConfirmIn, ip: str | None, user_agent: str | None) -> None:
    ratelimit.hit(
        "pwreset-confirm",
        ip or "unknown",
        limit=CONFIRMS_PER_IP,
        window_s=PUBLIC_WINDOW_S,
        message=_too_many(),
    )
    item = _valid_token(data.token)
    user = _user(item.user_id)
    auth.check_password_policy(data.password, email=user.email)
    new_hash = auth.hash_password(data.password)
    th = auth.token_hash(data.token)
    at = now()
    try:
        with transaction() as tx:
            # Single use and still in time, decided by DynamoDB: of two confirms at once, one.
            tx.update(
                item,
                actions=[
                    PasswordResetToken.status.set("used"),
                    PasswordResetToken.used_at.set(at),
                ],
                condition=(PasswordResetToken.status == "pending")
                & (PasswordResetToken.valid_until > at),
            )
            tx.update(
                user,
                actions=[User.password_hash.set(new_hash)],
                condition=User.PK.exists(),
            )
            tx.delete(
                PasswordResetPointer(*PasswordResetPointer.key(user.user_id)),
                condition=PasswordResetPointer.token_hash == th,
            )
    except TransactWriteError as exc:
        raise _invalid() from exc
    ended = end_all_sessions(user.user_id, "password_reset")
    _forget_failures(user.email, ip)
    _audit(user, ip, user_agent, ended)
    _notify(user)
    logger.info("password reset", extra={"sessions_ended": ended})


def end_all_sessions(user_id: str, reason: str) -> int:
    """Revoke every active session of the user, in every clinic (the access tokens stop at the
    next request: each one re-reads its session)."""
    n = 0
    for s in Item.gsi1.query(f"USER#{user_id}#SESSIONS"):
        if isinstance(s, Session) and s.status == "active":
            _revoke(s, reason)
            n += 1
    return n


def _forget_failures(email: str, ip: str | None) -> None:
    # Whoever proved the mailbox is the owner: the failures counted against the account (and
    # against it from this address) no longer slow them down.
    ratelimit.clear("login-acct", email, window_s=auth.LOGIN_ACCOUNT_WINDOW_S)
    auth.login_succeeded(email, ip)


def _audit(user: User, ip: str | None, user_agent: str | None, ended: int) -> None:
    actor = {
        "type": "user",
        "id": user.user_id,
        "name": user.name,
        "ip": ip,
        "user_agent": user_agent,
    }
    # Every clinic of the user, also where they are deactivated: each one's admin may need to
    # know the account's password changed.
    clinics = sorted(
        {m.clinic_id for m in Item.gsi1.query(f"USER#{user.user_id}") if isinstance(m, Membership)}
    )
    for clinic_id in clinics:
        # Each clinic's entry is written with that clinic's credentials (ADR 0012).
        with scoping.for_clinic(clinic_id):
            audit.record(
                clinic_id,
                actor,
                "auth.password_reset",
                "user",
                user.user_id,
                after={"sessions_ended": ended},
            )


def _notify(user: User) -> None:
    subject, text, html = emails.password_changed(user.name, user.language, settings().app_url)
    try:
        mail.send(to=user.email, subject=subject, text=text, html=html)
    except Exception:  # noqa: BLE001 - the password is changed; a lost notice must not undo that
        logger.exception("password changed notice not sent")
