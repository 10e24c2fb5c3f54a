"""Staff invitations: sending one (a single-use link by email), listing and withdrawing them,
and the public side of the link: preview and accept (which joins the clinic and signs in).
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, auth, mail, ratelimit, scoping
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.db import clinic_pk, transaction
from chalicelib.core.errors import Conflict, NotFound, Unauthorized, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.identity import emails, schemas
from chalicelib.identity.models import EmailLookup, Invitation, InviteToken, Membership, User
from chalicelib.identity.roles import _require_may_give
from chalicelib.identity.service import PUBLIC_WINDOW_S, _user_by_email, get_clinic
from chalicelib.identity.sessions import _actor, _start_session
from chalicelib.identity.staff import _count_admins, _ensure_admin_count, _is_admin

INVITE_ACCEPTS_PER_IP = 20


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
        if not scoping.is_plain_id(it.clinic_id):
            raise invalid
        scoping.adopt(it.clinic_id)  # the rest of the request runs as the inviting clinic
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
        clinic_name=get_clinic(inv.clinic_id).name,
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
