"""Routes: sign-up, auth (and the forgotten password), clinic profile, staff, invitations, roles
and the permission tree."""

from __future__ import annotations

import json

from chalice import Response

from chalicelib.core import i18n, rbac
from chalicelib.core.api import AUTHENTICATED, JSON, PUBLIC, Req, Router
from chalicelib.identity import invitations, passwords, roles, schemas, service, sessions, staff

router = Router("identity")
r = router.route


@r(
    "/clinics/signup",
    "POST",
    permission=PUBLIC,
    body=schemas.SignupIn,
    response=schemas.TokensOut,
    status=201,
    summary="Create a clinic (free plan) and its admin",
    tags=("clinics",),
)
def signup(req: Req) -> schemas.TokensOut:
    return sessions.signup(req.body, req.ip, req.user_agent)


@r(
    "/auth/login",
    "POST",
    permission=PUBLIC,
    body=schemas.LoginIn,
    response=schemas.TokensOut,
    summary="Sign in: access token and refresh token",
    tags=("auth",),
)
def login(req: Req) -> schemas.TokensOut:
    return sessions.login(req.body, req.ip, req.user_agent)


@r(
    "/auth/refresh",
    "POST",
    permission=PUBLIC,
    body=schemas.RefreshIn,
    response=schemas.TokensOut,
    summary="Rotate the refresh token (reuse revokes the session)",
    tags=("auth",),
)
def refresh(req: Req) -> schemas.TokensOut:
    return sessions.refresh(req.body, req.ip, req.user_agent)


@r(
    "/auth/logout",
    "POST",
    permission=AUTHENTICATED,
    status=204,
    summary="End this session",
    tags=("auth",),
)
def logout(req: Req) -> None:
    sessions.logout(req.user)


@r(
    "/auth/me",
    "GET",
    permission=AUTHENTICATED,
    response=schemas.MeOut,
    summary="The signed-in user, clinic, role, effective permissions and plan",
    tags=("auth",),
)
def me(req: Req) -> schemas.MeOut:
    return sessions.me(req.user)


@r(
    "/auth/switch-clinic",
    "POST",
    permission=AUTHENTICATED,
    body=schemas.SwitchClinicIn,
    response=schemas.TokensOut,
    summary="Switch the session to another of the user's clinics",
    tags=("auth",),
)
def switch_clinic(req: Req) -> schemas.TokensOut:
    return sessions.switch_clinic(req.user, req.body.clinic_id)


@r(
    "/clinics/current",
    "GET",
    permission="settings.clinic.read",
    response=schemas.ClinicOut,
    summary="The current clinic's profile",
    tags=("clinics",),
)
def get_clinic(req: Req) -> schemas.ClinicOut:
    return service.clinic_out(service.get_clinic(req.user.clinic_id))


@r(
    "/clinics/current",
    "PATCH",
    permission="settings.clinic.write",
    body=schemas.ClinicUpdate,
    response=schemas.ClinicOut,
    summary="Edit the clinic's profile and branding",
    tags=("clinics",),
)
def update_clinic(req: Req) -> schemas.ClinicOut:
    return service.update_clinic(req.user, req.body)


@r(
    "/staff",
    "GET",
    permission="settings.staff.read",
    response=list[schemas.MemberOut],
    summary="The clinic's staff",
    tags=("staff",),
)
def list_staff(req: Req) -> list[schemas.MemberOut]:
    return staff.list_staff(req.user)


@r(
    "/staff/{user_id}",
    "PATCH",
    permission="settings.staff.write",
    body=schemas.MemberUpdate,
    response=schemas.MemberOut,
    summary="Change a staff member's role or details",
    tags=("staff",),
)
def update_member(req: Req, user_id: str) -> schemas.MemberOut:
    return staff.update_member(req.user, user_id, req.body)


@r(
    "/staff/{user_id}/deactivate",
    "POST",
    permission="settings.staff.write",
    response=schemas.MemberOut,
    summary="Deactivate a staff member (ends their sessions)",
    tags=("staff",),
)
def deactivate_member(req: Req, user_id: str) -> schemas.MemberOut:
    return staff.set_member_active(req.user, user_id, active=False)


@r(
    "/staff/{user_id}/reactivate",
    "POST",
    permission="settings.staff.write",
    response=schemas.MemberOut,
    summary="Reactivate a staff member",
    tags=("staff",),
)
def reactivate_member(req: Req, user_id: str) -> schemas.MemberOut:
    return staff.set_member_active(req.user, user_id, active=True)


@r(
    "/staff/invitations",
    "GET",
    permission="settings.staff.read",
    response=list[schemas.InvitationOut],
    summary="Invitations sent by the clinic",
    tags=("staff",),
)
def list_invitations(req: Req) -> list[schemas.InvitationOut]:
    return invitations.list_invitations(req.user)


@r(
    "/staff/invitations",
    "POST",
    permission="settings.staff.write",
    body=schemas.InvitationIn,
    response=schemas.InvitationOut,
    status=201,
    summary="Invite someone by email (single-use link)",
    tags=("staff",),
)
def invite(req: Req) -> schemas.InvitationOut:
    return invitations.invite(req.user, req.body)


@r(
    "/staff/invitations/{invitation_id}",
    "DELETE",
    permission="settings.staff.write",
    status=204,
    summary="Withdraw a pending invitation",
    tags=("staff",),
)
def revoke_invitation(req: Req, invitation_id: str) -> None:
    invitations.revoke_invitation(req.user, invitation_id)


@r(
    "/invitations/{token}",
    "GET",
    permission=PUBLIC,
    response=schemas.InvitationPreview,
    summary="What an invitation link is for (clinic, email, role)",
    tags=("staff",),
)
def preview_invitation(req: Req, token: str) -> schemas.InvitationPreview:
    return invitations.preview_invitation(token, req.ip)


@r(
    "/invitations/accept",
    "POST",
    permission=PUBLIC,
    body=schemas.AcceptInvitationIn,
    response=schemas.TokensOut,
    summary="Accept an invitation and set the password",
    tags=("staff",),
)
def accept_invitation(req: Req) -> schemas.TokensOut:
    return invitations.accept_invitation(req.body, req.ip, req.user_agent)


@r(
    "/roles",
    "GET",
    permission="settings.roles.read",
    response=list[schemas.RoleOut],
    summary="Role templates of the clinic",
    tags=("roles",),
)
def list_roles(req: Req) -> list[schemas.RoleOut]:
    return roles.list_roles(req.user)


@r(
    "/roles/{role}",
    "PUT",
    permission="settings.roles.write",
    body=schemas.RoleUpdate,
    response=schemas.RoleOut,
    summary="Edit a role's permissions for this clinic",
    tags=("roles",),
)
def set_role(req: Req, role: str) -> schemas.RoleOut:
    return roles.set_role(req.user, role, req.body.grants)


@r(
    "/roles/{role}",
    "DELETE",
    permission="settings.roles.write",
    response=schemas.RoleOut,
    summary="Reset a role to its default permissions",
    tags=("roles",),
)
def reset_role(req: Req, role: str) -> schemas.RoleOut:
    return roles.reset_role(req.user, role)


@r(
    "/permissions",
    "GET",
    permission=AUTHENTICATED,
    query=schemas.PermissionsQuery,
    summary="The permission tree with labels",
    tags=("roles",),
)
def permissions(req: Req) -> list[dict]:
    return rbac.tree(req.query.lang)


# --- forgotten password (issue 15) ---------------------------------------------------------


@r(
    "/auth/password-reset",
    "POST",
    permission=PUBLIC,
    body=schemas.PasswordResetIn,
    response=schemas.PasswordResetRequestedOut,
    status=202,
    summary="Forgotten password: email a single-use link (the same answer for any email)",
    tags=("auth",),
)
def request_password_reset(req: Req) -> Response:
    message = i18n.render(passwords.request_reset(req.body, req.ip), req.lang)
    # The message both in data (the declared schema) and in the envelope's message, so a
    # client shows it from either; identical for known and unknown emails.
    return Response(
        body=json.dumps({"data": {"message": message}, "message": message}),
        status_code=202,
        headers={"Content-Type": JSON, "Content-Language": req.lang},
    )


@r(
    "/auth/password-reset/confirm",
    "POST",
    permission=PUBLIC,
    body=schemas.PasswordResetConfirmIn,
    status=204,
    summary="Set a new password with a reset link (ends every session of the user)",
    tags=("auth",),
)
def confirm_password_reset(req: Req) -> None:
    passwords.confirm(req.body, req.ip, req.user_agent)


@r(
    "/auth/password-reset/{token}",
    "GET",
    permission=PUBLIC,
    response=schemas.PasswordResetPreview,
    summary="Whether a reset link is still valid, and for which account (masked)",
    tags=("auth",),
)
def preview_password_reset(req: Req, token: str) -> schemas.PasswordResetPreview:
    return passwords.preview(token, req.ip)
