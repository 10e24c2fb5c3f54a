"""The clinic's staff: listing, role and status changes, deactivation (which ends the member's
sessions in the clinic), members added without an invitation, and the clinic's counter of
active admins that keeps at least one.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.core import audit, auth
from chalicelib.core.api import Principal
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.identity import schemas
from chalicelib.identity.models import AdminCount, EmailLookup, Membership, Session, User
from chalicelib.identity.roles import _require_may_give, _require_may_manage
from chalicelib.identity.service import _user_by_email, get_clinic, member_out
from chalicelib.identity.sessions import _revoke


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
    clinic_name = get_clinic(clinic_id).name
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
                clinic_name=clinic_name,
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
