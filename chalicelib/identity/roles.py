"""Per-clinic role templates (list, edit, reset to the defaults), and the rule that nobody
hands out permissions they do not hold, which staff changes and invitations apply too.
"""

from __future__ import annotations

from chalicelib.core import audit, rbac
from chalicelib.core.api import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.identity import schemas
from chalicelib.identity.models import Membership, RoleTemplate
from chalicelib.identity.service import role_grants

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


# --- role templates ------------------------------------------------------------------------


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
