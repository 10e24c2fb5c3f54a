"""Identity items. Keys (see docs/data-model.md):

| item | PK | SK | GSI1 |
|---|---|---|---|
| Clinic | C#<cid> | CLINIC | |
| Membership | C#<cid> | MEMBER#<uid> | USER#<uid> / C#<cid> |
| AdminCount | C#<cid> | ADMINS | |
| RoleTemplate | C#<cid> | ROLE#<role> | |
| Invitation | C#<cid> | INVITE#<iid> | |
| User (global) | USER#<uid> | PROFILE | |
| EmailLookup (global) | EMAIL#<email> | EMAIL | |
| InviteToken (global) | INVTOKEN#<sha256> | INVTOKEN | |
| Session (global) | SESSION#<sid> | SESSION | USER#<uid>#SESSIONS / <sid> |
| RefreshToken (global) | RT#<sha256> | RT | |
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class Clinic(Item, discriminator="Clinic"):
    clinic_id = UnicodeAttribute()
    name = UnicodeAttribute()
    legal_name = UnicodeAttribute(null=True)
    tax_id = UnicodeAttribute(null=True)
    address = JSONAttribute(null=True)
    country = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    currency = UnicodeAttribute()
    language = UnicodeAttribute(default="es")
    plan = UnicodeAttribute(default="free")
    branding = JSONAttribute(null=True)  # {"logo_url": ..., "color": "#0f766e"}
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "CLINIC"


class User(Item, discriminator="User"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="es")
    last_clinic_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "PROFILE"


class EmailLookup(Item, discriminator="EmailLookup"):
    user_id = UnicodeAttribute()

    @staticmethod
    def key(email: str) -> tuple[str, str]:
        return f"EMAIL#{email.strip().lower()}", "EMAIL"


class Membership(Item, discriminator="Membership"):
    clinic_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | deactivated
    is_professional = BooleanAttribute(default=False)
    joined_at = UTCDateTimeAttribute()
    # A copy of the clinic's name, kept in step by ``service.update_clinic``: the user's list
    # of clinics (sign-in, refresh, /me) comes from one query of the user's index, on the
    # global path, without reading each clinic's partition (ADR 0012). Older items lack it.
    clinic_name = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, user_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"MEMBER#{user_id}"


class AdminCount(Item, discriminator="AdminCount"):
    """How many active admins the clinic has.

    Written at sign-up and moved in the same transaction as every membership change that makes
    someone an active admin or stops them being one, with the condition that it stays at one or
    more: so two admins removing each other at once cannot leave the clinic without an admin.
    """

    clinic_id = UnicodeAttribute()
    active_admins = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "ADMINS"


class RoleTemplate(Item, discriminator="RoleTemplate"):
    role = UnicodeAttribute()
    grants = ListAttribute(of=UnicodeAttribute)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, role: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"ROLE#{role}"


class Invitation(Item, discriminator="Invitation"):
    invitation_id = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    is_professional = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="pending")  # pending | accepted | revoked
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    token_hash = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, invitation_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INVITE#{invitation_id}"


class InviteToken(Item, discriminator="InviteToken"):
    clinic_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()
    used = BooleanAttribute(default=False)

    @staticmethod
    def key(token_hash: str) -> tuple[str, str]:
        return f"INVTOKEN#{token_hash}", "INVTOKEN"


class Session(Item, discriminator="Session"):
    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | revoked
    # SHA-256 of the one refresh token of this family that may be used next.
    current_rt = UnicodeAttribute()
    revoked_reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute()
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)

    @staticmethod
    def key(session_id: str) -> tuple[str, str]:
        return f"SESSION#{session_id}", "SESSION"


class RefreshToken(Item, discriminator="RefreshToken"):
    """Lookup from a refresh token's hash to its session (the family)."""

    session_id = UnicodeAttribute()

    @staticmethod
    def key(token_hash: str) -> tuple[str, str]:
        return f"RT#{token_hash}", "RT"
