"""Input and output schemas of the patient routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from chalicelib.core import validators
from chalicelib.core.errors import invalid_field
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now
from chalicelib.core.validators import PartialUpdate
from chalicelib.patients.search import normalise_phone

Gender = Literal["female", "male", "other", "unknown"]
NationalIdType = Literal["dni", "nie", "passport", "other"]
Channel = Literal["phone", "email", "whatsapp", "sms"]
Severity = Literal["mild", "moderate", "severe", "anaphylaxis"]
AlertLevel = Literal["critical", "warning", "info"]
ADULT_AGE = 18


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _phone(v: str | None) -> str | None:
    return normalise_phone(v) if v else None


def _check_dob(v: date) -> date:
    """A date of birth: not in the future, not before 1900 (on create and on edit alike)."""
    if v > now().date():
        raise ValueError(tr("cannot be in the future", "no puede ser una fecha futura"))
    if v < validators.MIN_DATE:
        raise ValueError(tr("is too far in the past", "es demasiado antigua"))
    return v


class NationalId(Strict):
    type: NationalIdType
    number: str = Field(min_length=3, max_length=30)

    @model_validator(mode="after")
    def _check(self) -> NationalId:
        self.number = validators.normalise_id(self.number)
        if self.type == "dni" and not validators.valid_dni(self.number):
            raise ValueError(
                tr(
                    "national_id.number is not a valid DNI (8 digits and check letter)",
                    "national_id.number no es un DNI válido (8 cifras y letra de control)",
                )
            )
        if self.type == "nie" and not validators.valid_nie(self.number):
            raise ValueError(
                tr(
                    "national_id.number is not a valid NIE (X/Y/Z, 7 digits, letter)",
                    "national_id.number no es un NIE válido (X/Y/Z, 7 cifras y letra)",
                )
            )
        return self


class PatientAddress(Strict):
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=100)
    postal_code: str = Field(max_length=20)
    province: str | None = Field(default=None, max_length=100)
    country: str = Field(default="ES", min_length=2, max_length=2)


class EmergencyContact(Strict):
    name: str = Field(min_length=2, max_length=120)
    # Required, and never blank: an empty phone used to be stored as null, which no read of the
    # patient could show again (found by the fuzzer, ADR 0013).
    phone: str = Field(min_length=1, max_length=30)
    relationship: str | None = Field(default=None, max_length=60)

    @field_validator("phone")
    @classmethod
    def _e164(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(tr("is required", "es obligatorio"))
        return normalise_phone(v)


class LegalGuardian(Strict):
    name: str = Field(min_length=2, max_length=120)
    relationship: str = Field(min_length=2, max_length=60, description="e.g. madre, padre, tutor")
    phone: str | None = Field(default=None, max_length=30)
    email: EmailStr | None = None
    national_id: NationalId | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        return _phone(v)


class Insurer(Strict):
    """The patient's dental/health insurer (e.g. Sanitas, Adeslas, DKV, Asisa, Mapfre); no
    insurer means a private patient."""

    company: str = Field(min_length=2, max_length=80, description="e.g. Sanitas, Adeslas, DKV")
    policy_number: str | None = Field(
        default=None, max_length=40, description="policy or member (card) number"
    )
    holder_name: str | None = Field(
        default=None, max_length=120, description="policy holder when it is not the patient"
    )

    @field_validator("policy_number", "holder_name")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None


class _PatientFields(Strict):
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    second_last_name: str | None = Field(default=None, max_length=80)
    date_of_birth: date
    gender: Gender = "unknown"
    national_id: NationalId | None = None
    profession: str | None = Field(default=None, max_length=120)
    address: PatientAddress | None = None
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=30, description="E.164 (+34600111222)")
    whatsapp: str | None = Field(default=None, max_length=30, description="E.164")
    preferred_channel: Channel | None = None
    language: str = Field(default="es", pattern=r"^[a-z]{2}$")
    emergency_contact: EmergencyContact | None = None
    legal_guardian: LegalGuardian | None = None
    insurer: Insurer | None = None

    @field_validator("phone", "whatsapp")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        return _phone(v)

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: date) -> date:
        return _check_dob(v)


class PatientIn(_PatientFields):
    confirm_duplicate: bool = Field(
        default=False,
        description="Create even if a patient with the same national id, or the same name and "
        "date of birth, exists (otherwise 409 with data.existing_patient_id).",
    )

    @model_validator(mode="after")
    def _minor(self) -> PatientIn:
        if age_on(self.date_of_birth, now().date()) < ADULT_AGE and self.legal_guardian is None:
            raise invalid_field(
                "PatientIn",
                ("legal_guardian",),
                tr(
                    "is required for a patient under 18",
                    "es obligatorio para un paciente menor de 18 años",
                ),
                None,
            )
        return self


class PatientUpdate(PartialUpdate):
    """Only the fields sent change; send null to clear an optional field (gender and language
    go back to their defaults, unknown and es). The names and the date of birth cannot be
    cleared."""

    CLEARABLE = frozenset(
        {
            "second_last_name",
            "gender",
            "national_id",
            "profession",
            "address",
            "email",
            "phone",
            "whatsapp",
            "preferred_channel",
            "language",
            "emergency_contact",
            "legal_guardian",
            "insurer",
        }
    )

    first_name: str | None = Field(default=None, min_length=1, max_length=80)
    last_name: str | None = Field(default=None, min_length=1, max_length=80)
    second_last_name: str | None = Field(default=None, max_length=80)
    date_of_birth: date | None = None
    gender: Gender | None = None
    national_id: NationalId | None = None
    profession: str | None = Field(default=None, max_length=120)
    address: PatientAddress | None = None
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=30)
    whatsapp: str | None = Field(default=None, max_length=30)
    preferred_channel: Channel | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    emergency_contact: EmergencyContact | None = None
    legal_guardian: LegalGuardian | None = None
    insurer: Insurer | None = None

    @field_validator("phone", "whatsapp")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        return _phone(v)

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: date | None) -> date | None:
        return None if v is None else _check_dob(v)


class Alert(BaseModel):
    code: str = Field(description="Stable key, e.g. allergy_severe, anticoagulated")
    level: AlertLevel
    message: str = Field(description="Human text, e.g. 'Severe allergy: penicillin'")


class PatientOut(BaseModel):
    patient_id: str
    first_name: str
    last_name: str
    second_last_name: str | None
    full_name: str
    date_of_birth: date
    age: int
    is_minor: bool
    gender: Gender
    national_id: NationalId | None
    profession: str | None
    address: PatientAddress | None
    email: str | None
    phone: str | None
    whatsapp: str | None
    preferred_channel: Channel | None
    language: str
    emergency_contact: EmergencyContact | None
    legal_guardian: LegalGuardian | None
    insurer: Insurer | None
    alerts: list[Alert] = Field(description="Safety alerts from the medical history; always shown")
    has_medical_history: bool
    archived: bool
    archived_at: datetime | None
    blocked: bool = Field(default=False, description="blocked by a GDPR erasure request (ADR 1405)")
    blocked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class PatientSummary(BaseModel):
    """A search result / list row."""

    patient_id: str
    full_name: str
    first_name: str
    last_name: str
    second_last_name: str | None
    date_of_birth: date
    age: int
    phone: str | None
    email: str | None
    alerts: list[Alert]
    archived: bool


class PatientSearch(Strict):
    q: str | None = Field(default=None, max_length=100, description="Name prefix(es), any name")
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    national_id: str | None = Field(default=None, max_length=30)
    include_archived: bool = False
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=25, ge=1, le=100)

    @field_validator("phone")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        return _phone(v)

    @model_validator(mode="after")
    def _one(self) -> PatientSearch:
        given = [n for n in ("q", "phone", "email", "national_id") if getattr(self, n)]
        if len(given) > 1:
            # named on the second filter: the first one alone is a valid search
            raise invalid_field(
                "PatientSearch",
                (given[1],),
                tr(
                    "search by one of q, phone, email or national_id at a time",
                    "busca por q, phone, email o national_id, de uno en uno",
                ),
                getattr(self, given[1]),
            )
        return self


# --- medical history -----------------------------------------------------------------------


class Allergy(Strict):
    substance: str = Field(min_length=1, max_length=120)
    severity: Severity = "moderate"
    reaction: str | None = Field(default=None, max_length=300)


class Medication(Strict):
    name: str = Field(min_length=1, max_length=120)
    dose: str | None = Field(default=None, max_length=120)
    frequency: str | None = Field(default=None, max_length=120)


class Disease(Strict):
    name: str = Field(min_length=1, max_length=160)
    notes: str | None = Field(default=None, max_length=500)


class Surgery(Strict):
    procedure: str = Field(min_length=1, max_length=160)
    year: int | None = Field(default=None, ge=1900, le=2100)
    notes: str | None = Field(default=None, max_length=500)


class SpecialConditions(Strict):
    pregnant: bool = False
    pregnancy_weeks: int | None = Field(default=None, ge=1, le=45)
    breastfeeding: bool = False
    anticoagulants: bool = False
    antiplatelets: bool = False
    bisphosphonates: bool = False
    diabetes: Literal["none", "type1", "type2", "gestational"] = "none"
    smoker: bool = False
    hypertension: bool = False
    heart_disease: bool = False
    pacemaker: bool = False
    endocarditis_risk: bool = Field(default=False, description="needs antibiotic prophylaxis")
    immunosuppressed: bool = False
    head_neck_radiotherapy: bool = False
    bleeding_disorder: bool = False
    latex_allergy: bool = False
    epilepsy: bool = False
    asthma: bool = False
    infectious_disease: bool = Field(default=False, description="hepatitis, HIV, TB, ...")


class MedicalHistory(Strict):
    allergies: list[Allergy] = Field(default_factory=list, max_length=50)
    medications: list[Medication] = Field(default_factory=list, max_length=50)
    systemic_diseases: list[Disease] = Field(default_factory=list, max_length=50)
    surgical_history: list[Surgery] = Field(default_factory=list, max_length=50)
    conditions: SpecialConditions = Field(default_factory=SpecialConditions)
    notes: str | None = Field(default=None, max_length=4000)


class MedicalOut(BaseModel):
    patient_id: str
    history: MedicalHistory
    alerts: list[Alert]
    updated_at: datetime | None
    updated_by: str | None
