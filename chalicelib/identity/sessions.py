"""Sign-up and sessions: login, refresh-token rotation, logout, clinic switching, and the
principal of every request (``resolve_principal``, ``me``).

Sessions are refresh-token families. A session records the hash of the one refresh token that
may be used next; a refresh swaps it for a new one with a conditional write. Presenting any
other token of the family (an already-used one) means it leaked, so the whole session is
revoked and the caller gets 401 ``SESSION_REVOKED``.

Every request re-reads the session, the membership, the clinic and the role template (one
BatchGetItem), so logout, deactivation, a role change or an edited role template take effect on
the very next request, not when the access token expires.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, auth, ratelimit, rbac, scoping
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.crypto import create_clinic_key
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import Conflict, Forbidden, Unauthorized
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.identity import schemas
from chalicelib.identity.models import (
    AdminCount,
    Clinic,
    EmailLookup,
    Membership,
    RefreshToken,
    RoleTemplate,
    Session,
    User,
)
from chalicelib.identity.service import (
    PUBLIC_WINDOW_S,
    _user_by_email,
    clinic_choices,
    clinic_out,
    get_clinic,
    memberships_of,
    role_grants,
    user_out,
)

SIGNUPS_PER_IP = 10
REFRESHES_PER_IP_PER_MINUTE = 120


# --- sign-up -------------------------------------------------------------------------------


def signup(data: schemas.SignupIn, ip: str | None, user_agent: str | None) -> schemas.TokensOut:
    ratelimit.hit(
        "signup",
        ip or "unknown",
        limit=SIGNUPS_PER_IP,
        window_s=PUBLIC_WINDOW_S,
        message=tr(
            "Too many clinics created from this address; try again later.",
            "Se han creado demasiadas clínicas desde esta dirección; inténtalo de nuevo más tarde.",
        ),
    )
    auth.check_password_policy(data.admin.password, email=data.admin.email)
    email = data.admin.email.lower()
    if _user_by_email(email) is not None:
        raise Conflict(
            tr(
                "An account with this email already exists: sign in, or use another email.",
                "Ya existe una cuenta con este correo electrónico: inicia sesión o usa otro.",
            ),
            code="EMAIL_TAKEN",
        )
    clinic_id, user_id = new_id(), new_id()
    at = now()
    c = data.clinic
    clinic = Clinic(
        *Clinic.key(clinic_id),
        clinic_id=clinic_id,
        name=c.name,
        legal_name=c.legal_name,
        tax_id=c.tax_id,
        address=c.address.model_dump() if c.address else None,
        country=c.country,
        time_zone=c.time_zone,
        currency=c.currency,
        language=c.language,
        plan="free",
        branding=(c.branding or schemas.Branding()).model_dump(),
        created_at=at,
    )
    user = User(
        *User.key(user_id),
        user_id=user_id,
        email=email,
        name=data.admin.name,
        password_hash=auth.hash_password(data.admin.password),
        language=c.language,
        last_clinic_id=clinic_id,
        created_at=at,
    )
    member = Membership(
        *Membership.key(clinic_id, user_id),
        GSI1PK=f"USER#{user_id}",
        GSI1SK=clinic_pk(clinic_id),
        clinic_id=clinic_id,
        user_id=user_id,
        email=email,
        name=data.admin.name,
        role="admin",
        status="active",
        is_professional=True,
        joined_at=at,
        clinic_name=c.name,
    )
    actor = {
        "type": "user",
        "id": user_id,
        "name": data.admin.name,
        "ip": ip,
        "user_agent": user_agent,
    }
    # From here on the request writes the new clinic's partition: with its credentials
    # (ADR 0012; they also reach the global lookups this transaction writes).
    scoping.adopt(clinic_id)
    try:
        with transaction() as tx:
            tx.save(clinic, condition=Clinic.PK.does_not_exist())
            tx.save(create_clinic_key(clinic_id), condition=Item.PK.does_not_exist())
            tx.save(user, condition=User.PK.does_not_exist())
            tx.save(
                EmailLookup(*EmailLookup.key(email), user_id=user_id),
                condition=EmailLookup.PK.does_not_exist(),
            )
            tx.save(member)
            tx.save(
                AdminCount(*AdminCount.key(clinic_id), clinic_id=clinic_id, active_admins=1),
                condition=AdminCount.PK.does_not_exist(),
            )
            tx.save(
                audit.entry(
                    clinic_id,
                    actor,
                    "clinic.created",
                    "clinic",
                    clinic_id,
                    after={"name": c.name, "plan": "free"},
                )
            )
    except TransactWriteError as exc:
        # Only the email lookup can collide: a concurrent sign-up with the same email.
        raise Conflict(
            tr(
                "An account with this email already exists.",
                "Ya existe una cuenta con este correo electrónico.",
            ),
            code="EMAIL_TAKEN",
        ) from exc
    logger.info("clinic signed up", extra={"clinic_id": clinic_id})
    auth.login_known(email, ip)
    return _start_session(user, clinic, member, ip, user_agent)


# --- sessions ------------------------------------------------------------------------------


def _tokens(
    user: User,
    clinic: Clinic,
    member: Membership,
    session_id: str,
    refresh_token: str,
    members: list[Membership] | None = None,
) -> schemas.TokensOut:
    cfg = settings()
    return schemas.TokensOut(
        access_token=auth.issue_access_token(
            user_id=user.user_id,
            clinic_id=clinic.clinic_id,
            session_id=session_id,
            role=member.role,
        ),
        expires_in=cfg.access_token_ttl_s,
        refresh_token=refresh_token,
        refresh_expires_in=cfg.refresh_token_ttl_s,
        user=user_out(user),
        clinic=clinic_out(clinic),
        role=member.role,  # type: ignore[arg-type]
        clinics=clinic_choices(user.user_id, members),
    )


def _start_session(
    user: User,
    clinic: Clinic,
    member: Membership,
    ip: str | None,
    user_agent: str | None,
    members: list[Membership] | None = None,
) -> schemas.TokensOut:
    cfg = settings()
    at = now()
    sid = new_id()
    refresh = auth.new_opaque_token()
    rt_hash = auth.token_hash(refresh)
    expires = at + timedelta(seconds=cfg.refresh_token_ttl_s)
    session = Session(
        *Session.key(sid),
        GSI1PK=f"USER#{user.user_id}#SESSIONS",
        GSI1SK=sid,
        session_id=sid,
        user_id=user.user_id,
        clinic_id=clinic.clinic_id,
        status="active",
        current_rt=rt_hash,
        created_at=at,
        last_used_at=at,
        ip=ip,
        user_agent=(user_agent or "")[:512] or None,
        expires_at=expires,
    )
    rt = RefreshToken(*RefreshToken.key(rt_hash), session_id=sid, expires_at=expires)
    with transaction() as tx:
        tx.save(session, condition=Session.PK.does_not_exist())
        tx.save(rt, condition=RefreshToken.PK.does_not_exist())
    return _tokens(user, clinic, member, sid, refresh, members)


def login(data: schemas.LoginIn, ip: str | None, user_agent: str | None) -> schemas.TokensOut:
    email = data.email.lower()
    auth.login_gate(email, ip)
    user = _user_by_email(email)
    # The password is verified whether or not the account exists (a dummy hash otherwise), and
    # an account without an active clinic answers exactly like a wrong password: neither the
    # status, the message nor the throttle tells a guesser that the password was right.
    # The memberships are read in every case too (a query that finds nothing for an unknown
    # email), so the work done does not depend on the outcome either.
    verified = auth.verify_password(user.password_hash if user else None, data.password)
    members = memberships_of(user.user_id if user else "-")
    if not user or not verified or not members:
        auth.login_failed(email, ip)
        raise Unauthorized(
            tr("Wrong email or password.", "Correo electrónico o contraseña incorrectos."),
            code="INVALID_CREDENTIALS",
        )
    auth.login_succeeded(email, ip)
    if auth.needs_rehash(user.password_hash):  # a hash from before ADR 0016's parameters
        user.update(actions=[User.password_hash.set(auth.hash_password(data.password))])
    wanted = data.clinic_id or user.last_clinic_id
    member = next((m for m in members if m.clinic_id == wanted), None)
    if data.clinic_id and member is None:
        raise Forbidden(
            tr(
                "You are not an active member of that clinic.",
                "No eres miembro activo de esa clínica.",
            ),
            code="NOT_A_MEMBER",
        )
    member = member or members[0]
    # The clinic is known: its items (the clinic, the audit entry) are read and written with
    # its credentials from here on (ADR 0012).
    scoping.adopt(member.clinic_id)
    clinic = get_clinic(member.clinic_id)
    if user.last_clinic_id != clinic.clinic_id:
        user.update(actions=[User.last_clinic_id.set(clinic.clinic_id)])
    tokens = _start_session(user, clinic, member, ip, user_agent, members)
    audit.record(clinic.clinic_id, _actor(user, ip, user_agent), "auth.login", "user", user.user_id)
    return tokens


def _actor(user: User, ip: str | None, user_agent: str | None) -> dict[str, Any]:
    return {
        "type": "user",
        "id": user.user_id,
        "name": user.name,
        "ip": ip,
        "user_agent": user_agent,
    }


def _revoke(session: Session, reason: str) -> None:
    session.update(actions=[Session.status.set("revoked"), Session.revoked_reason.set(reason)])


def refresh(data: schemas.RefreshIn, ip: str | None, user_agent: str | None) -> schemas.TokensOut:
    ratelimit.hit(
        "refresh-ip",
        ip or "unknown",
        limit=REFRESHES_PER_IP_PER_MINUTE,
        window_s=60,
        message=tr(
            "Too many token refreshes from this address; slow down.",
            "Demasiadas renovaciones de sesión desde esta dirección; espera un momento.",
        ),
    )
    old_hash = auth.token_hash(data.refresh_token)
    try:
        old = RefreshToken.get(*RefreshToken.key(old_hash), consistent_read=True)
        session = Session.get(*Session.key(old.session_id), consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthorized(
            tr(
                "This refresh token is not valid; sign in again.",
                "Este token de renovación no es válido; inicia sesión de nuevo.",
            ),
            code="INVALID_REFRESH_TOKEN",
        ) from exc
    revoked = Unauthorized(
        tr(
            "This session has ended; sign in again.",
            "Esta sesión ha terminado; inicia sesión de nuevo.",
        ),
        code="SESSION_REVOKED",
    )
    if session.status != "active" or (session.expires_at and session.expires_at <= now()):
        raise revoked
    if not scoping.is_plain_id(session.clinic_id):
        raise revoked
    # The session names its clinic: the rest runs with that clinic's credentials (ADR 0012).
    scoping.adopt(session.clinic_id)
    if session.current_rt != old_hash:
        _revoke(session, "refresh_token_reuse")
        logger.warning(
            "refresh token reuse: session revoked", extra={"clinic_id": session.clinic_id}
        )
        audit.record(
            session.clinic_id,
            {"type": "user", "id": session.user_id, "ip": ip, "user_agent": user_agent},
            "auth.session_revoked",
            "session",
            session.session_id,
            after={"reason": "refresh_token_reuse"},
        )
        raise revoked
    try:
        member = Membership.get(*Membership.key(session.clinic_id, session.user_id))
        user = User.get(*User.key(session.user_id))
        clinic = get_clinic(session.clinic_id)
    except DoesNotExist as exc:
        _revoke(session, "membership_missing")
        raise revoked from exc
    if member.status != "active":
        _revoke(session, "deactivated")
        raise revoked
    new_token = auth.new_opaque_token()
    new_hash = auth.token_hash(new_token)
    try:
        with transaction() as tx:
            tx.update(
                session,
                actions=[Session.current_rt.set(new_hash), Session.last_used_at.set(now())],
                condition=(Session.current_rt == old_hash) & (Session.status == "active"),
            )
            tx.save(
                RefreshToken(
                    *RefreshToken.key(new_hash),
                    session_id=session.session_id,
                    expires_at=session.expires_at,
                )
            )
    except TransactWriteError as exc:
        # The same token was used a moment ago by someone else: that is reuse too.
        _revoke(session, "refresh_token_reuse")
        raise revoked from exc
    return _tokens(user, clinic, member, session.session_id, new_token)


def logout(principal: Principal) -> None:
    try:
        session = Session.get(*Session.key(principal.session_id))
    except DoesNotExist:
        return
    _revoke(session, "logout")
    audit.record(
        principal.clinic_id, principal.actor, "auth.logout", "session", principal.session_id
    )


def _not_a_member() -> Forbidden:
    return Forbidden(
        tr(
            "You are not an active member of that clinic.",
            "No eres miembro activo de esa clínica.",
        ),
        code="NOT_A_MEMBER",
    )


def switch_clinic(principal: Principal, clinic_id: str) -> schemas.TokensOut:
    """Move the session to another clinic of the same user: new access and refresh tokens
    for that clinic; the previous access token stops working at once."""
    if not scoping.is_plain_id(clinic_id):
        raise _not_a_member()
    # Everything here is the target clinic's (its membership, its audit log): it runs with
    # that clinic's credentials, not the current one's (ADR 0012).
    with scoping.clinic(clinic_id):
        return _switch_clinic(principal, clinic_id)


def _switch_clinic(principal: Principal, clinic_id: str) -> schemas.TokensOut:
    try:
        member = Membership.get(*Membership.key(clinic_id, principal.user_id))
    except DoesNotExist:
        member = None
    if member is None or member.status != "active":
        raise _not_a_member()
    clinic = get_clinic(clinic_id)
    user = User.get(*User.key(principal.user_id))
    session = Session.get(*Session.key(principal.session_id))
    new_token = auth.new_opaque_token()
    new_hash = auth.token_hash(new_token)
    # The family's previous refresh token is retired by replacing current_rt: presenting it
    # later counts as reuse.
    with transaction() as tx:
        tx.update(
            session,
            actions=[
                Session.clinic_id.set(clinic_id),
                Session.current_rt.set(new_hash),
                Session.last_used_at.set(now()),
            ],
            condition=Session.status == "active",
        )
        tx.save(
            RefreshToken(
                *RefreshToken.key(new_hash),
                session_id=session.session_id,
                expires_at=session.expires_at,
            )
        )
    user.update(actions=[User.last_clinic_id.set(clinic_id)])
    audit.record(
        clinic_id,
        principal.actor,
        "auth.clinic_switched",
        "session",
        session.session_id,
        after={"from_clinic": principal.clinic_id},
    )
    return _tokens(user, clinic, member, session.session_id, new_token)


def resolve_principal(token: str, ip: str | None, user_agent: str | None) -> Principal:
    claims = auth.verify_access_token(token)
    # The verified token names the clinic: its session, membership and role are read with
    # that clinic's credentials (ADR 0012), in one BatchGetItem: the role template is the one
    # of the role the token was issued for, which is the member's role unless it changed since.
    with scoping.clinic(claims.clinic_id):
        keys = [
            Session.key(claims.session_id),
            Membership.key(claims.clinic_id, claims.user_id),
            Clinic.key(claims.clinic_id),
            RoleTemplate.key(claims.clinic_id, claims.role),
        ]
        found: dict[str, Any] = {}
        for item in Item.batch_get(keys, consistent_read=True):
            found[type(item).__name__] = item
        session, member, clinic = found.get("Session"), found.get("Membership"), found.get("Clinic")
        revoked = Unauthorized(
            tr(
                "This session has ended; sign in again.",
                "Esta sesión ha terminado; inicia sesión de nuevo.",
            ),
            code="SESSION_REVOKED",
        )
        if (
            not isinstance(session, Session)
            or session.status != "active"
            or session.user_id != claims.user_id
            or session.clinic_id != claims.clinic_id
        ):
            raise revoked
        if not isinstance(member, Membership) or member.status != "active":
            raise revoked
        if not isinstance(clinic, Clinic):
            raise revoked
        template = found.get("RoleTemplate")
        if member.role != claims.role:  # the role changed after the token was issued
            grants, _ = role_grants(clinic.clinic_id, member.role)
        elif isinstance(template, RoleTemplate):
            grants = list(template.grants)
        else:
            grants = list(rbac.DEFAULT_ROLE_GRANTS[member.role])
    return Principal(
        user_id=member.user_id,
        clinic_id=clinic.clinic_id,
        session_id=session.session_id,
        role=member.role,
        plan=clinic.plan,
        permissions=frozenset(rbac.effective_permissions(grants, clinic.plan)),
        email=member.email,
        name=member.name,
        ip=ip,
        user_agent=user_agent,
    )


def me(principal: Principal) -> schemas.MeOut:
    user = User.get(*User.key(principal.user_id))
    clinic = get_clinic(principal.clinic_id)
    return schemas.MeOut(
        user=user_out(user),
        clinic=clinic_out(clinic),
        role=principal.role,  # type: ignore[arg-type]
        plan=principal.plan,  # type: ignore[arg-type]
        permissions=[k for k in rbac.PERMISSIONS if k in principal.permissions],
        clinics=clinic_choices(principal.user_id),
        session_id=principal.session_id,
    )
