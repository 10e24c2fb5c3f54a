"""Input and output schemas of the orthodontic case routes (ADR 0661)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.validators import BoundedDate

Appliance = Literal["brackets", "aligners", "functional", "retainer", "other"]
BracketMaterial = Literal["metal", "ceramic", "lingual"]
Arches = Literal["upper", "lower", "both"]
PhaseKind = Literal["levelling", "space_closure", "finishing", "retention", "custom"]
AlertKind = Literal["visit", "tray", "retention"]
Status = Literal["active", "finished"]
ID_PATTERN = r"^[0-9A-Za-z_-]+$"
MAX_PHASES = 12
MAX_MILESTONES = 40
MAX_PHOTOS = 200


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PhaseIn(Strict):
    kind: PhaseKind
    name: str | None = Field(default=None, max_length=80)  # required for a custom phase
    planned_start: BoundedDate | None = None
    planned_end: BoundedDate | None = None
    actual_start: BoundedDate | None = None
    actual_end: BoundedDate | None = None


class MilestoneIn(Strict):
    what: str = Field(min_length=1, max_length=200)
    planned_date: BoundedDate | None = None
    done_date: BoundedDate | None = None


class PlanIn(Strict):
    """What a case plans: everything but its visits, tray changes and photos."""

    appliance: Appliance
    bracket_material: BracketMaterial | None = None
    total_trays: int | None = Field(default=None, ge=1, le=200)
    days_per_tray: int | None = Field(default=None, ge=1, le=60)
    arches: Arches = "both"
    start_date: BoundedDate
    planned_months: int = Field(ge=1, le=120)
    visit_interval_weeks: int = Field(ge=1, le=52)
    phases: list[PhaseIn] = Field(default_factory=list, max_length=MAX_PHASES)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=MAX_MILESTONES)


class CaseIn(PlanIn):
    current_tray: int | None = Field(default=None, ge=1, le=200)


class FinishIn(Strict):
    finished_on: BoundedDate


class VisitIn(Strict):
    date: BoundedDate
    note: str | None = Field(default=None, max_length=2000)
    appointment_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=ID_PATTERN
    )
    tray: int | None = Field(default=None, ge=1, le=200)


class TrayChangeIn(Strict):
    tray: int = Field(ge=1, le=200)
    date: BoundedDate


class PhotosIn(Strict):
    image_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]] = Field(
        min_length=1, max_length=20
    )


class ReminderIn(Strict):
    kind: AlertKind


class ListQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=50)


class Phase(BaseModel):
    kind: PhaseKind
    name: str | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None


class Milestone(BaseModel):
    what: str
    planned_date: date | None
    done_date: date | None


class Photo(BaseModel):
    image_id: str
    taken_on: date | None


class CaseOut(BaseModel):
    case_id: str
    patient_id: str
    status: Status
    appliance: Appliance
    bracket_material: BracketMaterial | None
    total_trays: int | None
    days_per_tray: int | None
    arches: Arches
    start_date: date
    planned_months: int
    planned_end: date
    visit_interval_weeks: int
    phases: list[Phase]
    current_phase: int | None  # index into phases
    milestones: list[Milestone]
    current_tray: int | None
    tray_since: date | None
    next_tray_date: date | None
    last_visit: date | None
    next_visit_due: date | None
    photos: list[Photo]
    finished_on: date | None
    created_at: datetime
    updated_at: datetime
    version: int


class CaseSummary(CaseOut):
    patient_name: str | None


class VisitOut(BaseModel):
    visit_id: str
    case_id: str
    date: date
    note: str | None
    appointment_id: str | None
    tray: int | None
    created_at: datetime


class AlertOut(BaseModel):
    case_id: str
    patient_id: str
    patient_name: str | None
    kind: AlertKind
    due: date
    days_overdue: int
    appliance: Appliance | None
    current_tray: int | None
    total_trays: int | None
    reminded_today: bool


class ReminderOut(BaseModel):
    case_id: str
    patient_id: str
    kind: AlertKind
    channel: str
    message_id: str
    sent_on: date


class FiguresOut(BaseModel):
    month: str  # YYYY-MM in the clinic's time zone
    active: int
    started_this_month: int
    finished_this_month: int
    finished_total: int
    average_months: float | None  # actual length of finished cases
    average_planned_months: float | None  # their planned length
