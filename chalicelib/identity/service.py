"""Identity reads shared across the package (and by other modules), and the clinic profile.

Here: the clinic (``get_clinic``, ``clinic_out``), users and memberships (``user_out``,
``member_out``, the login-email lookup, ``memberships_of``, ``clinic_choices``), the grants of a
role in a clinic (``role_grants``), and the clinic's own profile and plan. Sign-up and sessions
(``sessions``), staff (``staff``), invitations (``invitations``) and role templates (``roles``)
live beside this file and build on it; it imports none of them.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.core import audit, rbac, scoping, validators
from chalicelib.core.api import Principal
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.identity import schemas
from chalicelib.identity.models import Clinic, EmailLookup, Membership, RoleTemplate, User

# The window of the per-IP limits on the public endpoints (sign-up, invitation links).
PUBLIC_WINDOW_S = 60 * 60


# --- reads ---------------------------------------------------------------------------------


def get_clinic(clinic_id: str) -> Clinic:
    try:
        return Clinic.get(*Clinic.key(clinic_id))
    except DoesNotExist as exc:
        raise NotFound(tr("Clinic not found.", "No se ha encontrado la clínica.")) from exc


def admin_emails(clinic_id: str) -> list[str]:
    """The clinic's active admins' addresses: who is told what needs the clinic's attention
    (the end-of-day email by default, the VERI*FACTU reconciliation)."""
    return sorted(
        m.email
        for m in Membership.query(clinic_pk(clinic_id), Membership.SK.startswith("MEMBER#"))
        if isinstance(m, Membership) and m.role == "admin" and m.status == "active"
    )


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


def clinic_choices(
    user_id: str, members: list[Membership] | None = None
) -> list[schemas.ClinicChoice]:
    """The clinics a user may work in, by name. The names come with the memberships, from the
    user's index on the global path (``Membership.clinic_name``); a membership written before
    that copy existed reads its clinic's name with that clinic's own credentials (ADR 0012).
    ``members``: the user's active memberships when the caller has just read them."""
    members = memberships_of(user_id) if members is None else members
    names: dict[str, str] = {}
    for m in members:
        if m.clinic_name is not None:
            names[m.clinic_id] = m.clinic_name
        elif scoping.is_plain_id(m.clinic_id):
            with scoping.clinic(m.clinic_id):
                try:
                    names[m.clinic_id] = get_clinic(m.clinic_id).name
                except NotFound:
                    continue
    return sorted(
        (
            schemas.ClinicChoice(clinic_id=m.clinic_id, name=names[m.clinic_id], role=m.role)  # type: ignore[arg-type]
            for m in members
            if m.clinic_id in names
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
    if "name" in changes:
        _rename_in_memberships(principal.clinic_id, clinic.name)
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


def _rename_in_memberships(clinic_id: str, name: str) -> None:
    """Keep each member's copy of the clinic's name (``Membership.clinic_name``) in step: one
    query of the clinic's members and a write per member, only when the name changes."""
    for m in Membership.query(clinic_pk(clinic_id), Membership.SK.startswith("MEMBER#")):
        if m.clinic_name != name:
            m.update(actions=[Membership.clinic_name.set(name)])


def set_plan(clinic_id: str, plan: str) -> None:
    """Change a clinic's plan (called by the subscription flow and the seed, not by staff)."""
    if plan not in rbac.PLANS:
        raise ValueError(plan)
    Clinic(*Clinic.key(clinic_id)).update(actions=[Clinic.plan.set(plan)])
