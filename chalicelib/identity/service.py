"""Identity rules: sign-up, sessions, staff, invitations and role templates.

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

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.core import audit, auth, mail, ratelimit, rbac, validators
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.crypto import create_clinic_key
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.identity import emails, schemas
from chalicelib.identity.models import (
    AdminCount,
    Clinic,
    EmailLookup,
    Invitation,
    InviteToken,
    Membership,
    RefreshToken,
    RoleTemplate,
    Session,
    User,
)

PUBLIC_WINDOW_S = 60 * 60
SIGNUPS_PER_IP = 10
INVITE_ACCEPTS_PER_IP = 20
REFRESHES_PER_IP_PER_MINUTE = 120


# --- reads ---------------------------------------------------------------------------------


def get_clinic(clinic_id: str) -> Clinic:
    try:
        return Clinic.get(*Clinic.key(clinic_id))
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se ha encontrado la clínica.")) from exc


def clinic_out(c: Clinic) -> schemas.ClinicOut:
    return schemas.ClinicOut(
        clinic_id=c.clinic_id,
        name=c.name,
        legal_name=c.legal_name,
        tax_id=c.tax_id,
        address=c.address,
        country=c.country,
        time_zone=c.time_zone,
        currency=c.currency,
        language=c.language,
        plan=c.plan,  # type: ignore[arg-type]
        branding=c.branding,
        created_at=c.created_at,
    )


def user_out(u: User) -> schemas.UserOut:
    return schemas.UserOut(user_id=u.user_id, email=u.email, name=u.name, language=u.language)


def member_out(m: Membership) -> schemas.MemberOut:
    return schemas.MemberOut(
        user_id=m.user_id,
        email=m.email,
        name=m.name,
        role=m.role,  # type: ignore[arg-type]
        status=m.status,  # type: ignore[arg-type]
        is_professional=m.is_professional,
        joined_at=m.joined_at,
    )


def _user_by_email(email: str) -> User | None:
    try:
        lookup = EmailLookup.get(*EmailLookup.key(email), consistent_read=True)
        return User.get(*User.key(lookup.user_id), consistent_read=True)
    except DoesNotExist:
        return None


def memberships_of(user_id: str) -> list[Membership]:
    return [
        m
        for m in Item.gsi1.query(f"USER#{user_id}")
        if isinstance(m, Membership) and m.status == "active"
    ]


def clinic_choices(user_id: str) -> list[schemas.ClinicChoice]:
    members = memberships_of(user_id)
    if not members:
        return []
    clinics = {c.clinic_id: c for c in Clinic.batch_get([Clinic.key(m.clinic_id) for m in members])}
    return sorted(
        (
            schemas.ClinicChoice(clinic_id=m.clinic_id, name=clinics[m.clinic_id].name, role=m.role)  # type: ignore[arg-type]
            for m in members
            if m.clinic_id in clinics
        ),
        key=lambda c: c.name.lower(),
    )


def role_grants(clinic_id: str, role: str) -> tuple[list[str], bool]:
    """The grants of a role in a clinic: its edited template, or the default."""
    try:
        tpl = RoleTemplate.get(*RoleTemplate.key(clinic_id, role))
        return list(tpl.grants), True
    except DoesNotExist:
        return list(rbac.DEFAULT_ROLE_GRANTS[role]), False


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
    )
    actor = {
        "type": "user",
        "id": user_id,
        "name": data.admin.name,
        "ip": ip,
        "user_agent": user_agent,
    }
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
    user: User, clinic: Clinic, member: Membership, session_id: str, refresh_token: str
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
        clinics=clinic_choices(user.user_id),
    )


def _start_session(
    user: User, clinic: Clinic, member: Membership, ip: str | None, user_agent: str | None
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
    return _tokens(user, clinic, member, sid, refresh)


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
    clinic = get_clinic(member.clinic_id)
    if user.last_clinic_id != clinic.clinic_id:
        user.update(actions=[User.last_clinic_id.set(clinic.clinic_id)])
    tokens = _start_session(user, clinic, member, ip, user_agent)
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


def switch_clinic(principal: Principal, clinic_id: str) -> schemas.TokensOut:
    """Move the session to another clinic of the same user: new access and refresh tokens
    for that clinic; the previous access token stops working at once."""
    try:
        member = Membership.get(*Membership.key(clinic_id, principal.user_id))
    except DoesNotExist:
        member = None
    if member is None or member.status != "active":
        raise Forbidden(
            tr(
                "You are not an active member of that clinic.",
                "No eres miembro activo de esa clínica.",
            ),
            code="NOT_A_MEMBER",
        )
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
    keys = [
        Session.key(claims.session_id),
        Membership.key(claims.clinic_id, claims.user_id),
        Clinic.key(claims.clinic_id),
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
    grants, _ = role_grants(clinic.clinic_id, member.role)
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


# --- clinic profile ------------------------------------------------------------------------


def update_clinic(principal: Principal, data: schemas.ClinicUpdate) -> schemas.ClinicOut:
    clinic = get_clinic(principal.clinic_id)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return clinic_out(clinic)
    tax_id = changes.get("tax_id")
    if tax_id and clinic.country == "ES" and not validators.valid_spanish_nif(tax_id):
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[
                {
                    "field": "tax_id",
                    "message": tr("Not a valid Spanish NIF.", "No es un NIF español válido."),
                }
            ],
        )
    before = {k: getattr(clinic, k) for k in changes}
    actions = [getattr(Clinic, k).set(v) for k, v in changes.items()]
    clinic.update(actions=actions)
    audit.record(
        principal.clinic_id,
        principal.actor,
        "clinic.updated",
        "clinic",
        principal.clinic_id,
        before=before,
        after=changes,
    )
    return clinic_out(clinic)


def set_plan(clinic_id: str, plan: str) -> None:
    """Change a clinic's plan (called by the subscription flow and the seed, not by staff)."""
    if plan not in rbac.PLANS:
        raise ValueError(plan)
    Clinic(*Clinic.key(clinic_id)).update(actions=[Clinic.plan.set(plan)])


# --- staff ---------------------------------------------------------------------------------


def list_staff(principal: Principal) -> list[schemas.MemberOut]:
    members = Membership.query(clinic_pk(principal.clinic_id), Membership.SK.startswith("MEMBER#"))
    return sorted((member_out(m) for m in members), key=lambda m: m.name.lower())


def _member(clinic_id: str, user_id: str) -> Membership:
    try:
        # Consistent: the change is conditioned on the state read here.
        return Membership.get(*Membership.key(clinic_id, user_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No staff member with that id in this clinic.",
                "No hay ningún miembro del equipo con ese id en esta clínica.",
            )
        ) from exc


# Nobody hands out what they do not hold: the role someone is given (by a change or an
# invitation) and the grants written into a role must be within the actor's own role, and so
# must the current role of anyone whose role or status the actor changes. Compared over the
# whole permission tree (rbac.missing_permissions); the admin holds "*", so passes always.


def _beyond_own(principal: Principal, grants: list[str]) -> list[str]:
    """What ``grants`` yield that the actor's role, in the clinic they act on, does not."""
    own, _ = role_grants(principal.clinic_id, principal.role)
    return rbac.missing_permissions(own, grants)


def _listed(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")


def _require_may_give(principal: Principal, role: str) -> None:
    """Assigning ``role`` (a role change or an invitation) needs every permission it has."""
    missing = _beyond_own(principal, role_grants(principal.clinic_id, role)[0])
    if missing:
        raise Forbidden(
            tr(
                f"You cannot give the role '{role}': it has permissions your own role does not "
                f"({_listed(missing)}). Ask an admin to do it.",
                f"No puedes dar el rol '{role}': tiene permisos que tu rol no tiene "
                f"({_listed(missing)}). Pídeselo a un administrador.",
            ),
            code="ROLE_ABOVE_YOURS",
            data={"role": role, "missing_permissions": missing},
        )


def _require_may_manage(principal: Principal, m: Membership) -> None:
    """Changing someone's role or status needs every permission of their current role."""
    missing = _beyond_own(principal, role_grants(principal.clinic_id, m.role)[0])
    if missing:
        raise Forbidden(
            tr(
                f"You cannot change the role or status of {m.name}: their role '{m.role}' has "
                f"permissions your own role does not ({_listed(missing)}). Ask an admin to do it.",
                f"No puedes cambiar el rol ni el estado de {m.name}: su rol '{m.role}' tiene "
                f"permisos que tu rol no tiene ({_listed(missing)}). Pídeselo a un administrador.",
            ),
            code="ROLE_ABOVE_YOURS",
            data={"role": m.role, "missing_permissions": missing},
        )


def _require_grants_within_own(principal: Principal, role: str, grants: list[str]) -> None:
    missing = _beyond_own(principal, grants)
    if missing:
        raise Forbidden(
            tr(
                f"You cannot give the role '{role}' permissions your own role does not have "
                f"({_listed(missing)}). Ask an admin to do it.",
                f"No puedes dar al rol '{role}' permisos que tu rol no tiene "
                f"({_listed(missing)}). Pídeselo a un administrador.",
            ),
            code="GRANTS_ABOVE_YOURS",
            data={"role": role, "missing_permissions": missing},
        )


# The last admin: a per-clinic counter of active admins (AdminCount) moves in the same
# transaction as every membership change that makes someone an active admin or stops them
# being one, on the condition that it stays >= 1. DynamoDB serialises the transactions, so two
# admins removing each other at once cannot both succeed.


def _last_admin() -> Conflict:
    return Conflict(
        tr(
            "The clinic needs at least one active admin, and this change would leave it "
            "without one (another admin may have been removed a moment ago). Make someone "
            "else admin first.",
            "La clínica necesita al menos un administrador activo y este cambio la dejaría sin "
            "ninguno (puede que otro administrador acabe de dejar de serlo). Haz administradora "
            "a otra persona primero.",
        ),
        code="LAST_ADMIN",
    )


def _is_admin(role: str, status: str) -> bool:
    return role == "admin" and status == "active"


def _active_admins(clinic_id: str) -> list[Membership]:
    return [
        m
        for m in Membership.query(
            clinic_pk(clinic_id), Membership.SK.startswith("MEMBER#"), consistent_read=True
        )
        if _is_admin(m.role, m.status)
    ]


def _ensure_admin_count(clinic_id: str) -> None:
    """Clinics signed up before the counter existed get it, once, from their members."""
    try:
        AdminCount.get(*AdminCount.key(clinic_id), consistent_read=True)
        return
    except DoesNotExist:
        pass
    n = len(_active_admins(clinic_id))
    try:
        AdminCount(*AdminCount.key(clinic_id), clinic_id=clinic_id, active_admins=n).save(
            condition=AdminCount.PK.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # otherwise a concurrent request created it first: fine


def _count_admins(tx: Any, clinic_id: str, delta: int) -> None:
    """Add ``delta`` to the clinic's active admins in ``tx``; a decrease must leave one."""
    counter = AdminCount(*AdminCount.key(clinic_id))
    condition = AdminCount.active_admins >= 1 - delta if delta < 0 else AdminCount.PK.exists()
    tx.update(counter, actions=[AdminCount.active_admins.add(delta)], condition=condition)


def _failed_conditions(exc: TransactWriteError, labels: list[str]) -> set[str]:
    """Which items of a cancelled transaction failed their condition; ``labels`` name the
    items in the order pynamodb sends them (condition checks, deletes, puts, updates)."""
    reasons = exc.cancellation_reasons or []
    return {
        label
        for label, reason in zip(labels, reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


def _save_member(
    principal: Principal,
    m: Membership,
    changes: dict[str, Any],
    action: str,
    before: dict[str, Any],
) -> None:
    """Write ``changes`` to a membership, the audit entry and, when it changes, the admin count,
    in one transaction conditioned on the state that was read and the actor's own role."""
    delta = int(_is_admin(changes.get("role", m.role), changes.get("status", m.status))) - int(
        _is_admin(m.role, m.status)
    )
    if delta:
        _ensure_admin_count(m.clinic_id)
    checks, puts, updates = [], ["audit"], ["member"]
    try:
        with transaction() as tx:
            if principal.user_id != m.user_id:
                # The actor acts with the role they had when the request was authorised.
                tx.condition_check(
                    Membership,
                    *Membership.key(principal.clinic_id, principal.user_id),
                    condition=(Membership.role == principal.role) & (Membership.status == "active"),
                )
                checks.append("actor")
            tx.save(
                audit.entry(
                    principal.clinic_id,
                    principal.actor,
                    action,
                    "user",
                    m.user_id,
                    before=before,
                    after=changes,
                )
            )
            tx.update(
                m,
                actions=[getattr(Membership, k).set(v) for k, v in changes.items()],
                condition=(Membership.role == m.role) & (Membership.status == m.status),
            )
            if delta:
                _count_admins(tx, m.clinic_id, delta)
                updates.append("admins")
    except TransactWriteError as exc:
        failed = _failed_conditions(exc, checks + puts + updates)
        if "admins" in failed:
            raise _last_admin() from exc
        if "actor" in failed:
            raise Conflict(
                tr(
                    "Your own role or status changed while this was being saved, so nothing "
                    "was changed. Reload and try again.",
                    "Tu propio rol o estado cambió mientras se guardaba esto, así que no se ha "
                    "cambiado nada. Recarga e inténtalo de nuevo.",
                ),
                code="ACTOR_CHANGED",
            ) from exc
        raise Conflict(
            tr(
                f"{m.name} was changed by someone else a moment ago, so nothing was changed. "
                "Reload and try again.",
                f"Otra persona acaba de cambiar a {m.name}, así que no se ha cambiado nada. "
                "Recarga e inténtalo de nuevo.",
            ),
            code="STAFF_CHANGED",
        ) from exc
    for k, v in changes.items():
        setattr(m, k, v)


def update_member(
    principal: Principal, user_id: str, data: schemas.MemberUpdate
) -> schemas.MemberOut:
    m = _member(principal.clinic_id, user_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if changes.get("role") == m.role:
        del changes["role"]  # not a change
    if not changes:
        return member_out(m)
    if "role" in changes:
        if user_id == principal.user_id:
            raise Forbidden(
                tr(
                    "You cannot change your own role; ask another admin to do it.",
                    "No puedes cambiar tu propio rol; pídeselo a otro administrador.",
                ),
                code="SELF_ROLE_CHANGE",
            )
        _require_may_manage(principal, m)
        _require_may_give(principal, changes["role"])
    before = {k: getattr(m, k) for k in changes}
    _save_member(principal, m, changes, "staff.updated", before)
    return member_out(m)


def set_member_active(principal: Principal, user_id: str, active: bool) -> schemas.MemberOut:
    m = _member(principal.clinic_id, user_id)
    if not active and user_id == principal.user_id:
        raise Conflict(
            tr("You cannot deactivate yourself.", "No puedes desactivar tu propia cuenta."),
            code="SELF_DEACTIVATION",
        )
    status = "active" if active else "deactivated"
    if m.status == status:
        return member_out(m)
    _require_may_manage(principal, m)
    _save_member(
        principal,
        m,
        {"status": status},
        "staff.reactivated" if active else "staff.deactivated",
        {"status": m.status},
    )
    if not active:
        ended = end_sessions(user_id, principal.clinic_id, "deactivated")
        logger.info("member deactivated", extra={"sessions_ended": ended})
    return member_out(m)


def end_sessions(user_id: str, clinic_id: str, reason: str) -> int:
    n = 0
    for s in Item.gsi1.query(f"USER#{user_id}#SESSIONS"):
        if isinstance(s, Session) and s.clinic_id == clinic_id and s.status == "active":
            _revoke(s, reason)
            n += 1
    return n


def provision_member(
    clinic_id: str,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    is_professional: bool = False,
) -> Membership:
    """Add an existing or new user to a clinic without an invitation email.

    For the demo seed and support tooling only; staff use invitations. Keeps the clinic's
    admin count like every other membership change.
    """
    at = now()
    user = _user_by_email(email)
    previous = None
    if user is not None:
        try:
            previous = Membership.get(
                *Membership.key(clinic_id, user.user_id), consistent_read=True
            )
        except DoesNotExist:
            previous = None
    delta = int(_is_admin(role, "active")) - int(
        previous is not None and _is_admin(previous.role, previous.status)
    )
    if delta:
        _ensure_admin_count(clinic_id)
    try:
        with transaction() as tx:
            if user is None:
                uid = new_id()
                user = User(
                    *User.key(uid),
                    user_id=uid,
                    email=email.lower(),
                    name=name,
                    password_hash=auth.hash_password(password),
                    language="es",
                    last_clinic_id=clinic_id,
                    created_at=at,
                )
                tx.save(user, condition=User.PK.does_not_exist())
                tx.save(
                    EmailLookup(*EmailLookup.key(email), user_id=uid),
                    condition=EmailLookup.PK.does_not_exist(),
                )
            member = Membership(
                *Membership.key(clinic_id, user.user_id),
                GSI1PK=f"USER#{user.user_id}",
                GSI1SK=clinic_pk(clinic_id),
                clinic_id=clinic_id,
                user_id=user.user_id,
                email=email.lower(),
                name=name,
                role=role,
                status="active",
                is_professional=is_professional,
                joined_at=at,
            )
            tx.save(
                member,
                condition=Membership.PK.does_not_exist()
                if previous is None
                else (Membership.role == previous.role) & (Membership.status == previous.status),
            )
            if delta:
                _count_admins(tx, clinic_id, delta)
    except TransactWriteError as exc:
        if delta < 0:
            raise _last_admin() from exc
        raise
    return member


# --- invitations ---------------------------------------------------------------------------


def _invitation_out(inv: Invitation) -> schemas.InvitationOut:
    status = inv.status
    if status == "pending" and inv.valid_until <= now():
        status = "expired"
    return schemas.InvitationOut(
        invitation_id=inv.invitation_id,
        email=inv.email,
        name=inv.name,
        role=inv.role,
        is_professional=inv.is_professional,  # type: ignore[arg-type]
        status=status,
        created_at=inv.created_at,
        valid_until=inv.valid_until,  # type: ignore[arg-type]
    )


def invite(principal: Principal, data: schemas.InvitationIn) -> schemas.InvitationOut:
    # Inviting someone with a role is giving it: only a role within the inviter's own.
    _require_may_give(principal, data.role)
    email = data.email.lower()
    existing = _user_by_email(email)
    if existing is not None:
        try:
            m = Membership.get(*Membership.key(principal.clinic_id, existing.user_id))
            raise Conflict(
                tr(
                    f"{email} is already on the staff ({m.status}).",
                    f"{email} ya forma parte del equipo ({m.status}).",
                ),
                code="ALREADY_MEMBER",
            )
        except DoesNotExist:
            pass
    for inv in Invitation.query(
        clinic_pk(principal.clinic_id), Invitation.SK.startswith("INVITE#")
    ):
        if inv.email == email and inv.status == "pending" and inv.valid_until > now():
            raise Conflict(
                tr(
                    f"{email} already has a pending invitation; revoke it to send a new one.",
                    f"{email} ya tiene una invitación pendiente; revócala para enviar una nueva.",
                ),
                code="ALREADY_INVITED",
            )
    if mail.is_undeliverable(email):
        # Checked before anything is written: an invitation nobody can receive is no invitation.
        raise Unprocessable(
            tr(
                f"Mail to {email} bounced or was reported as spam before, so the invitation "
                "cannot reach it. Check the address with the person, or use another one.",
                f"El correo a {email} se devolvió o se marcó como spam anteriormente, así que la "
                "invitación no puede llegar. Revisa la dirección con la persona o usa otra.",
            ),
            code="EMAIL_UNDELIVERABLE",
            errors=[
                {
                    "field": "email",
                    "message": tr(
                        "bounced or reported as spam before",
                        "se devolvió o se marcó como spam anteriormente",
                    ),
                }
            ],
        )
    cfg = settings()
    at = now()
    iid = new_id()
    token = auth.new_opaque_token()
    th = auth.token_hash(token)
    valid_until = at + timedelta(seconds=cfg.invitation_ttl_s)
    inv = Invitation(
        *Invitation.key(principal.clinic_id, iid),
        invitation_id=iid,
        clinic_id=principal.clinic_id,
        email=email,
        name=data.name,
        role=data.role,
        is_professional=data.is_professional,
        status="pending",
        invited_by=principal.user_id,
        created_at=at,
        valid_until=valid_until,
        token_hash=th,
    )
    with transaction() as tx:
        tx.save(inv, condition=Invitation.PK.does_not_exist())
        tx.save(
            InviteToken(
                *InviteToken.key(th),
                clinic_id=principal.clinic_id,
                invitation_id=iid,
                used=False,
                expires_at=valid_until + timedelta(days=1),
            )
        )
        tx.save(
            audit.entry(
                principal.clinic_id,
                principal.actor,
                "staff.invited",
                "invitation",
                iid,
                after={"email": email, "role": data.role},
            )
        )
    clinic = get_clinic(principal.clinic_id)
    link = f"{cfg.app_url}/accept-invitation?token={token}"
    subject, text, html = emails.invitation(clinic, principal.name, data.role, link, valid_until)
    mail.send(to=email, subject=subject, text=text, html=html)
    return _invitation_out(inv)


def list_invitations(principal: Principal) -> list[schemas.InvitationOut]:
    invs = Invitation.query(
        clinic_pk(principal.clinic_id),
        Invitation.SK.startswith("INVITE#"),
        scan_index_forward=False,
    )
    return [_invitation_out(i) for i in invs]


def revoke_invitation(principal: Principal, invitation_id: str) -> None:
    try:
        inv = Invitation.get(*Invitation.key(principal.clinic_id, invitation_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No invitation with that id in this clinic.",
                "No hay ninguna invitación con ese id en esta clínica.",
            )
        ) from exc
    if inv.status != "pending":
        raise Conflict(
            tr(
                f"The invitation is already {inv.status}.",
                f"La invitación ya no está pendiente ({inv.status}).",
            ),
            code="NOT_PENDING",
        )
    inv.update(actions=[Invitation.status.set("revoked")])
    audit.record(
        principal.clinic_id,
        principal.actor,
        "staff.invitation_revoked",
        "invitation",
        invitation_id,
    )


def _invitation_by_token(token: str) -> tuple[InviteToken, Invitation]:
    invalid = NotFound(
        tr(
            "This invitation link is not valid. Ask the clinic for a new one.",
            "Este enlace de invitación no es válido. Pide uno nuevo a la clínica.",
        ),
        code="INVITATION_INVALID",
    )
    try:
        it = InviteToken.get(*InviteToken.key(auth.token_hash(token)), consistent_read=True)
        inv = Invitation.get(*Invitation.key(it.clinic_id, it.invitation_id), consistent_read=True)
    except DoesNotExist as exc:
        raise invalid from exc
    if it.used or inv.status == "accepted":
        raise Conflict(
            tr(
                "This invitation has already been used; sign in instead.",
                "Esta invitación ya se ha usado; inicia sesión.",
            ),
            code="INVITATION_USED",
        )
    if inv.status == "revoked":
        raise Conflict(
            tr(
                "This invitation was withdrawn by the clinic.",
                "La clínica ha retirado esta invitación.",
            ),
            code="INVITATION_REVOKED",
        )
    if inv.valid_until <= now():
        raise Conflict(
            tr(
                "This invitation has expired. Ask the clinic for a new one.",
                "Esta invitación ha caducado. Pide una nueva a la clínica.",
            ),
            code="INVITATION_EXPIRED",
        )
    return it, inv


def preview_invitation(token: str, ip: str | None) -> schemas.InvitationPreview:
    ratelimit.hit(
        "invite-preview",
        ip or "unknown",
        limit=INVITE_ACCEPTS_PER_IP * 5,
        window_s=PUBLIC_WINDOW_S,
        message=tr(
            "Too many requests; try again later.",
            "Demasiadas solicitudes; inténtalo de nuevo más tarde.",
        ),
    )
    _, inv = _invitation_by_token(token)
    clinic = get_clinic(inv.clinic_id)
    return schemas.InvitationPreview(
        clinic_name=clinic.name,
        email=inv.email,
        role=inv.role,  # type: ignore[arg-type]
        valid_until=inv.valid_until,
        existing_account=_user_by_email(inv.email) is not None,
    )


def accept_invitation(
    data: schemas.AcceptInvitationIn, ip: str | None, user_agent: str | None
) -> schemas.TokensOut:
    ratelimit.hit(
        "invite-accept",
        ip or "unknown",
        limit=INVITE_ACCEPTS_PER_IP,
        window_s=PUBLIC_WINDOW_S,
        message=tr(
            "Too many attempts; try again later.",
            "Demasiados intentos; inténtalo de nuevo más tarde.",
        ),
    )
    it, inv = _invitation_by_token(data.token)
    at = now()
    user = _user_by_email(inv.email)
    new_user = user is None
    if user is None:
        auth.check_password_policy(data.password, email=inv.email)
        if not data.name and not inv.name:
            raise Unprocessable(
                tr("Some fields are not valid.", "Algunos campos no son válidos."),
                errors=[
                    {
                        "field": "name",
                        "message": tr("Your name is required.", "Tu nombre es obligatorio."),
                    }
                ],
            )
        uid = new_id()
        user = User(
            *User.key(uid),
            user_id=uid,
            email=inv.email,
            name=data.name or inv.name or inv.email,
            password_hash=auth.hash_password(data.password),
            language="es",
            last_clinic_id=inv.clinic_id,
            created_at=at,
        )
    elif not auth.verify_password(user.password_hash, data.password):
        raise Unauthorized(
            tr(
                "You already have an account: enter its current password to join this clinic.",
                "Ya tienes una cuenta: introduce su contraseña actual para unirte a esta clínica.",
            ),
            code="INVALID_CREDENTIALS",
        )
    member = Membership(
        *Membership.key(inv.clinic_id, user.user_id),
        GSI1PK=f"USER#{user.user_id}",
        GSI1SK=clinic_pk(inv.clinic_id),
        clinic_id=inv.clinic_id,
        user_id=user.user_id,
        email=inv.email,
        name=user.name,
        role=inv.role,
        status="active",
        is_professional=inv.is_professional,
        joined_at=at,
    )
    actor = _actor(user, ip, user_agent)
    joins_as_admin = _is_admin(inv.role, "active")
    if joins_as_admin:
        _ensure_admin_count(inv.clinic_id)
    try:
        with transaction() as tx:
            if joins_as_admin:
                _count_admins(tx, inv.clinic_id, +1)
            # Single use: the token flips to used only if nobody used it first.
            tx.update(it, actions=[InviteToken.used.set(True)], condition=InviteToken.used == False)  # noqa: E712
            tx.update(
                inv,
                actions=[Invitation.status.set("accepted")],
                condition=Invitation.status == "pending",
            )
            if new_user:
                tx.save(user, condition=User.PK.does_not_exist())
                tx.save(
                    EmailLookup(*EmailLookup.key(inv.email), user_id=user.user_id),
                    condition=EmailLookup.PK.does_not_exist(),
                )
            tx.save(member, condition=Membership.PK.does_not_exist())
            tx.save(
                audit.entry(
                    inv.clinic_id,
                    actor,
                    "staff.joined",
                    "user",
                    user.user_id,
                    after={"role": inv.role},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "This invitation has already been used; sign in instead.",
                "Esta invitación ya se ha usado; inicia sesión.",
            ),
            code="INVITATION_USED",
        ) from exc
    clinic = get_clinic(inv.clinic_id)
    auth.login_known(inv.email, ip)
    return _start_session(user, clinic, member, ip, user_agent)


# --- roles ---------------------------------------------------------------------------------


def list_roles(principal: Principal) -> list[schemas.RoleOut]:
    out = []
    for role in rbac.ROLES:
        grants, customized = role_grants(principal.clinic_id, role)
        out.append(
            schemas.RoleOut(
                role=role,
                grants=grants,
                customized=customized,  # type: ignore[arg-type]
                effective_permissions=rbac.effective_permissions(grants, principal.plan),
            )
        )
    return out


def set_role(principal: Principal, role: str, grants: list[str]) -> schemas.RoleOut:
    if role not in rbac.ROLES:
        raise NotFound(
            tr(
                f"Unknown role '{role}'. Roles: {', '.join(rbac.ROLES)}.",
                f"El rol '{role}' no existe. Roles: {', '.join(rbac.ROLES)}.",
            )
        )
    if role == "admin":
        raise Conflict(
            tr(
                "The admin role always has every permission and cannot be edited.",
                "El rol admin siempre tiene todos los permisos y no se puede editar.",
            ),
            code="ADMIN_ROLE_FIXED",
        )
    bad = rbac.validate_grants(grants)
    if bad:
        raise Unprocessable(
            tr("Some permissions do not exist.", "Algunos permisos no existen."),
            errors=[
                {
                    "field": "grants",
                    "message": tr(f"Unknown permission '{g}'.", f"El permiso '{g}' no existe."),
                }
                for g in bad
            ],
        )
    _require_grants_within_own(principal, role, grants)
    before, _ = role_grants(principal.clinic_id, role)
    grants = sorted(set(grants))
    RoleTemplate(
        *RoleTemplate.key(principal.clinic_id, role),
        role=role,
        grants=grants,
        updated_at=now(),
        updated_by=principal.user_id,
    ).save()
    audit.record(
        principal.clinic_id,
        principal.actor,
        "role.updated",
        "role",
        role,
        before={"grants": before},
        after={"grants": grants},
    )
    return schemas.RoleOut(
        role=role,
        grants=grants,
        customized=True,  # type: ignore[arg-type]
        effective_permissions=rbac.effective_permissions(grants, principal.plan),
    )


def reset_role(principal: Principal, role: str) -> schemas.RoleOut:
    if role not in rbac.ROLES:
        raise NotFound(tr(f"Unknown role '{role}'.", f"El rol '{role}' no existe."))
    before, customized = role_grants(principal.clinic_id, role)
    if customized:
        # Going back to the defaults may grant more than the template did.
        _require_grants_within_own(principal, role, list(rbac.DEFAULT_ROLE_GRANTS[role]))
        RoleTemplate(*RoleTemplate.key(principal.clinic_id, role)).delete()
        audit.record(
            principal.clinic_id,
            principal.actor,
            "role.reset",
            "role",
            role,
            before={"grants": before},
            after={"grants": list(rbac.DEFAULT_ROLE_GRANTS[role])},
        )
    grants = list(rbac.DEFAULT_ROLE_GRANTS[role])
    return schemas.RoleOut(
        role=role,
        grants=grants,
        customized=False,  # type: ignore[arg-type]
        effective_permissions=rbac.effective_permissions(grants, principal.plan),
    )
