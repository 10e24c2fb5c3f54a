"""Input and output schemas of the identity routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from chalicelib.core import validators
from chalicelib.core.errors import invalid_field
from chalicelib.core.i18n import tr
from chalicelib.core.rbac import PLANS, ROLES

Role = Literal["admin", "dentist", "hygienist", "assistant", "receptionist"]
Plan = Literal["free", "pro", "pro_plus"]
Language = Literal["es", "en"]
assert set(ROLES) == set(Role.__args__) and set(PLANS) == set(Plan.__args__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(Strict):
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=100)
    postal_code: str = Field(max_length=20)
    province: str | None = Field(default=None, max_length=100)
    country: str = Field(default="ES", min_length=2, max_length=2)


class Branding(Strict):
    logo_url: str | None = Field(default=None, max_length=2000)
    color: str = Field(default="#0f766e", pattern=validators.HEX_COLOUR.pattern)


class ClinicFields(Strict):
    name: str = Field(min_length=2, max_length=120)
    legal_name: str | None = Field(default=None, max_length=200)
    tax_id: str | None = Field(default=None, max_length=20)
    address: Address | None = None
    country: str = Field(default="ES", min_length=2, max_length=2)
    time_zone: str = "Europe/Madrid"
    currency: str = "EUR"
    language: Language = "es"
    branding: Branding | None = None

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, v: str) -> str:
        if not validators.valid_time_zone(v):
            raise ValueError(
                tr(
                    "must be an IANA time zone such as Europe/Madrid",
                    "debe ser una zona horaria IANA, como Europe/Madrid",
                )
            )
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        v = v.upper()
        if v not in validators.CURRENCIES:
            raise ValueError(
                tr(
                    f"must be one of {', '.join(sorted(validators.CURRENCIES))}",
                    f"debe ser una de estas: {', '.join(sorted(validators.CURRENCIES))}",
                )
            )
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return v.upper()

    @model_validator(mode="after")
    def _tax_id(self) -> ClinicFields:
        if self.tax_id:
            self.tax_id = validators.normalise_id(self.tax_id)
            if self.country == "ES" and not validators.valid_spanish_nif(self.tax_id):
                raise invalid_field(
                    type(self).__name__,
                    ("tax_id",),
                    tr(
                        "is not a valid Spanish NIF (check the control character)",
                        "no es un NIF español válido (revisa el carácter de control)",
                    ),
                    self.tax_id,
                )
        return self


class ClinicUpdate(validators.PartialUpdate):
    """Only the fields sent change; null clears the legal name, tax id, address or branding.
    The name, time zone, currency and language are required (null is a 422): login, the
    agenda and the PDFs read them."""

    CLEARABLE = frozenset({"legal_name", "tax_id", "address", "branding"})

    name: str | None = Field(default=None, min_length=2, max_length=120)
    legal_name: str | None = Field(default=None, max_length=200)
    tax_id: str | None = Field(default=None, max_length=20)
    address: Address | None = None
    time_zone: str | None = None
    currency: str | None = None
    language: Language | None = None
    branding: Branding | None = None

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None and not validators.valid_time_zone(v):
            raise ValueError(
                tr(
                    "must be an IANA time zone such as Europe/Madrid",
                    "debe ser una zona horaria IANA, como Europe/Madrid",
                )
            )
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.upper()
        if v not in validators.CURRENCIES:
            raise ValueError(
                tr(
                    f"must be one of {', '.join(sorted(validators.CURRENCIES))}",
                    f"debe ser una de estas: {', '.join(sorted(validators.CURRENCIES))}",
                )
            )
        return v

    @field_validator("tax_id")
    @classmethod
    def _tax(cls, v: str | None) -> str | None:
        return validators.normalise_id(v) if v else v


class AdminFields(Strict):
    name: str = Field(min_length=2, max_length=120)
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class SignupIn(Strict):
    clinic: ClinicFields
    admin: AdminFields


class ClinicOut(BaseModel):
    clinic_id: str
    name: str
    legal_name: str | None
    tax_id: str | None
    address: dict | None
    country: str
    time_zone: str
    currency: str
    language: str
    plan: Plan
    branding: dict | None
    created_at: datetime


class UserOut(BaseModel):
    user_id: str
    email: str
    name: str
    language: str


class ClinicChoice(BaseModel):
    clinic_id: str
    name: str
    role: Role


class TokensOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserOut
    clinic: ClinicOut
    role: Role
    clinics: list[ClinicChoice]


class LoginIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    clinic_id: str | None = None


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=10, max_length=200)


class SwitchClinicIn(Strict):
    clinic_id: str = Field(min_length=1, max_length=64)


class MeOut(BaseModel):
    user: UserOut
    clinic: ClinicOut
    role: Role
    plan: Plan
    permissions: list[str]
    clinics: list[ClinicChoice]
    session_id: str


class MemberOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role
    status: Literal["active", "deactivated"]
    is_professional: bool
    joined_at: datetime


class MemberUpdate(validators.PartialUpdate):
    """Only the fields sent change; none of them can be cleared."""

    role: Role | None = None
    is_professional: bool | None = None
    name: str | None = Field(default=None, min_length=2, max_length=120)


class InvitationIn(Strict):
    email: EmailStr
    role: Role
    name: str | None = Field(default=None, max_length=120)
    is_professional: bool = False


class InvitationOut(BaseModel):
    invitation_id: str
    email: str
    name: str | None
    role: Role
    is_professional: bool
    status: Literal["pending", "accepted", "revoked", "expired"]
    created_at: datetime
    valid_until: datetime


class InvitationPreview(BaseModel):
    clinic_name: str
    email: str
    role: Role
    valid_until: datetime
    existing_account: bool


class AcceptInvitationIn(Strict):
    token: str = Field(min_length=10, max_length=200)
    name: str | None = Field(default=None, min_length=2, max_length=120)
    password: str = Field(min_length=1, max_length=256)


class RoleOut(BaseModel):
    role: Role
    grants: list[str]
    customized: bool
    effective_permissions: list[str]


class RoleUpdate(Strict):
    grants: list[str] = Field(max_length=200)


class PermissionsQuery(Strict):
    lang: Language = "en"


# --- forgotten password (issue 15) ---------------------------------------------------------


class PasswordResetIn(Strict):
    email: EmailStr


class PasswordResetRequestedOut(BaseModel):
    """The same answer whether or not an account exists for the email."""

    message: str


class PasswordResetPreview(BaseModel):
    email_hint: str  # "n•••@demo.clinic": enough to recognise the account, not to learn it
    valid_until: datetime


class PasswordResetConfirmIn(Strict):
    # Any string up to a bound: a malformed token is an invalid link (404), not a field error.
    token: str = Field(min_length=1, max_length=512)
    password: str = Field(min_length=1, max_length=256)
