"""Input and output schemas of the chart routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.charting import codes
from chalicelib.core.validators import BoundedDate


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Material = Literal[
    "composite",
    "amalgam",
    "glass_ionomer",
    "ceramic",
    "zirconia",
    "metal_ceramic",
    "metal",
    "gold",
    "temporary",
]
Tooth = int


def _surfaces(v: list[str]) -> list[str]:
    return codes.normalise_surfaces(v)


class ChartQuery(Strict):
    as_of: BoundedDate | None = Field(
        default=None, description="the chart at the end of this day (clinic time zone)"
    )
    dentition: codes.Dentition | None = Field(
        default=None, description="defaults to the one the patient's age shows"
    )


class FindingIn(Strict):
    code: codes.CodeName
    tooth: int | None = Field(default=None, ge=11, le=85)
    teeth: list[int] = Field(default_factory=list, max_length=16)
    surfaces: list[str] = Field(default_factory=list, max_length=6)
    material: Material | None = None
    note: str | None = Field(default=None, max_length=500)
    supersedes: str | None = Field(
        default=None, max_length=40, description="the finding this one replaces (it ends)"
    )

    @field_validator("surfaces")
    @classmethod
    def _norm(cls, v: list[str]) -> list[str]:
        return _surfaces(v)


class ResolveIn(Strict):
    note: str | None = Field(default=None, max_length=500)


class FindingOut(BaseModel):
    finding_id: str
    code: str
    kind: str
    tooth: int | None
    teeth: list[int]
    surfaces: list[str]
    material: str | None
    note: str | None
    plan_item_id: str | None
    supersedes: str | None
    recorded_at: datetime
    recorded_by: str
    recorded_by_name: str | None
    ended_at: datetime | None
    end_reason: str | None


class PlanItemIn(Strict):
    treatment_id: str = Field(min_length=1, max_length=40)
    tooth: int | None = Field(default=None, ge=11, le=85)
    surfaces: list[str] = Field(default_factory=list, max_length=5)
    sextant: int | None = Field(default=None, ge=1, le=6)
    quadrant: int | None = Field(default=None, ge=1, le=4)
    result_code: codes.CodeName | None = Field(
        default=None,
        description="what completing it leaves on the chart (e.g. filling); "
        "default: filling for a surface treatment, none otherwise",
    )
    material: Material | None = None
    note: str | None = Field(default=None, max_length=500)

    @field_validator("surfaces")
    @classmethod
    def _norm(cls, v: list[str]) -> list[str]:
        return _surfaces(v)


class PlanItemOut(BaseModel):
    item_id: str
    treatment_id: str
    treatment_code: str
    name: str
    scope: str
    tooth: int | None
    surfaces: list[str]
    sextant: int | None
    quadrant: int | None
    region: str
    teeth: list[int]
    result_code: str | None
    material: str | None
    note: str | None
    status: Literal["planned", "completed", "cancelled"]
    created_at: datetime
    budget_id: str | None
    budget_number: str | None
    completed_at: datetime | None
    result_finding_id: str | None
    invoiced: bool
    invoice_id: str | None


class ChartOut(BaseModel):
    patient_id: str
    as_of: date | None
    dentition: codes.Dentition
    findings: list[FindingOut]
    plan: list[PlanItemOut]
    xray_teeth: list[int] = Field(description="teeth with X-rays (open them over time)")
    dates: list[date] = Field(description="days the chart changed, newest first (to compare)")


class BudgetFromPlanIn(Strict):
    item_ids: list[str] = Field(min_length=1, max_length=50)
    title: str | None = Field(default=None, max_length=200)
    valid_days: int | None = Field(default=None, ge=1, le=365)


class BudgetFromPlanOut(BaseModel):
    budget_id: str
    number: str
    total: str
    items: list[PlanItemOut]


class CompleteIn(Strict):
    note: str | None = Field(default=None, max_length=500)


class UninvoicedQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


class UninvoicedOut(BaseModel):
    item_id: str
    patient_id: str
    patient_name: str
    treatment_code: str
    name: str
    tooth: int | None
    region: str
    completed_at: datetime
    budget_id: str | None
    budget_number: str | None
