"""Input and output schemas of the recall and follow-up routes (ADR 1404)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.i18n import tr
from chalicelib.core.validators import BoundedDate, PartialUpdate

Kind = Literal["budget", "plan", "noshow"]
RecallStatus = Literal["due", "booked", "dismissed"]
ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"
CODE_PATTERN = r"^[0-9A-Za-z_.-]{1,20}$"
MAX_RULES = 30


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- rules -------------------------------------------------------------------------------------


def clean_codes(v: list[str]) -> list[str]:
    """Catalog codes, upper case, without repeats."""
    out: list[str] = []
    for c in v:
        c = c.strip().upper()
        if not re.fullmatch(CODE_PATTERN, c):
            raise ValueError(
                tr(f"not a treatment code: {c!r}", f"no es un código de tratamiento: {c!r}")
            )
        if c not in out:
            out.append(c)
    return out


class RuleIn(Strict):
    name_es: str = Field(min_length=1, max_length=80)
    name_en: str | None = Field(default=None, max_length=80)
    codes: list[str] = Field(default_factory=list, max_length=30)
    ortho_finished: bool = False
    interval_months: int = Field(ge=1, le=60)
    booking_type_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    active: bool = True

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return clean_codes(v)


class RuleUpdate(PartialUpdate):
    CLEARABLE = frozenset({"name_en", "booking_type_id"})

    name_es: str | None = Field(default=None, min_length=1, max_length=80)
    name_en: str | None = Field(default=None, max_length=80)
    codes: list[str] | None = Field(default=None, max_length=30)
    ortho_finished: bool | None = None
    interval_months: int | None = Field(default=None, ge=1, le=60)
    booking_type_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    active: bool | None = None

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        return clean_codes(v) if v is not None else None


class RuleOut(BaseModel):
    rule_id: str
    name_es: str
    name_en: str | None
    codes: list[str]
    ortho_finished: bool
    interval_months: int
    booking_type_id: str | None
    active: bool
    updated_at: datetime


# --- recalls -----------------------------------------------------------------------------------


class ReminderOut(BaseModel):
    at: datetime
    step: int | None  # the scheduled step, None for one sent by hand
    channel: str | None
    status: str  # sent | skipped
    reason: str | None = None  # no_channel | no_consent | undeliverable
    message_id: str | None = None


class RecallOut(BaseModel):
    recall_id: str
    patient_id: str
    patient_name: str | None = None
    rule_id: str
    rule_name: str | None = None
    status: RecallStatus
    due: date
    snoozed_until: date | None
    effective_due: date
    days_overdue: int
    last_done: date | None
    source: str
    appointment_id: str | None
    reminder_count: int
    reminders: list[ReminderOut]
    last_outcome: str | None
    note: str | None = None
    updated_at: datetime


class DueQuery(Strict):
    until: BoundedDate | None = None
    rule: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=25, ge=1, le=100)


class RecallSetIn(Strict):
    due: BoundedDate
    note: str | None = Field(default=None, max_length=500)


class SnoozeIn(Strict):
    until: BoundedDate
    note: str | None = Field(default=None, max_length=500)


class DismissIn(Strict):
    note: str | None = Field(default=None, max_length=500)


class SendOut(BaseModel):
    status: Literal["sent", "skipped"]
    channel: str | None
    reason: str | None
    message_id: str | None


# --- follow-ups --------------------------------------------------------------------------------


class SettingsIn(Strict):
    recall_reminders: bool = True
    recall_reminder_days: list[int] = Field(default_factory=lambda: [0, 21], max_length=4)
    budget_days: int = Field(default=14, ge=1, le=180)
    plan_days: int = Field(default=30, ge=1, le=365)
    noshow_days: int = Field(default=3, ge=0, le=90)
    auto_budget: bool = False
    auto_plan: bool = False
    auto_noshow: bool = False

    @field_validator("recall_reminder_days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError(
                tr(
                    "at least one reminder day (0 is the due date)",
                    "al menos un día de aviso (0 es el día que vence)",
                )
            )
        if any(d < 0 or d > 180 for d in v) or sorted(set(v)) != v:
            raise ValueError(
                tr(
                    "days after the due date, from 0 to 180, increasing, no repeats",
                    "días tras el vencimiento, de 0 a 180, crecientes y sin repetir",
                )
            )
        return v


class SettingsOut(SettingsIn):
    model_config = ConfigDict(extra="ignore")


class FollowUpQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=25, ge=1, le=100)


class FollowUpOut(BaseModel):
    followup_id: str
    kind: Kind
    patient_id: str
    patient_name: str | None = None
    ref_id: str | None
    ref_number: str | None
    since: date
    days: int
    status: Literal["open", "done"]
    contacted_at: datetime | None
    done_at: datetime | None
    notes: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    updated_at: datetime


class FollowUpDoneIn(Strict):
    outcome: Literal["contacted", "done"]
    note: str | None = Field(default=None, max_length=500)


class PatientRecallsOut(BaseModel):
    recalls: list[RecallOut]
    followups: list[FollowUpOut]
