"""Input and output schemas of the perio routes (ADR 0621). Measurements are whole
millimetres; a tooth is keyed by its FDI number (ISO 3950) and a site by its code."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.validators import BoundedDate
from chalicelib.perio.chart import GM_MAX, GM_MIN, PD_MAX, SITES, STATES, TEETH

Tooth = Literal[TEETH]  # type: ignore[valid-type]
Site = Literal[SITES]  # type: ignore[valid-type]
State = Literal[STATES]  # type: ignore[valid-type]
Status = Literal["draft", "completed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SiteIn(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)

    pd: int | None = Field(default=None, ge=0, le=PD_MAX, description="Probing depth, mm")
    gm: int = Field(
        default=0,
        ge=GM_MIN,
        le=GM_MAX,
        description="Gingival margin to the cemento-enamel junction, mm; recession positive, "
        "a margin above the junction negative. CAL = PD + GM.",
    )
    bop: bool = False
    sup: bool = False
    plaque: bool = False


class ToothIn(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)

    state: State = "present"
    mobility: int | None = Field(default=None, ge=0, le=3, description="Miller 0-3")
    furcation: int | None = Field(
        default=None, ge=0, le=3, description="Hamp 0-3, multi-rooted teeth only"
    )
    sites: dict[Site, SiteIn] = Field(default_factory=dict)


class ExamIn(Strict):
    exam_date: BoundedDate | None = Field(
        default=None, description="Required, except for an amendment (it takes the original's)"
    )
    appointment_id: str | None = Field(default=None, max_length=40)
    amends: str | None = Field(
        default=None, max_length=40, description="A completed exam of the patient to correct"
    )
    teeth: dict[Tooth, ToothIn] | None = Field(
        default=None, description="Omitted on an amendment: the original's chart"
    )


class ExamUpdate(Strict):
    version: int = Field(ge=1, description="The version read; a stale one answers 409")
    exam_date: BoundedDate | None = None
    appointment_id: str | None = Field(default=None, max_length=40)
    teeth: dict[Tooth, ToothIn]


class CompleteIn(Strict):
    version: int = Field(ge=1)


class ExamQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=20, ge=1, le=100)


class CompareQuery(Strict):
    with_: str | None = Field(
        default=None,
        alias="with",
        max_length=40,
        description="The exam to compare with; the patient's previous completed one if omitted",
    )


class Indices(BaseModel):
    sites_examined: int
    teeth_examined: int
    teeth_missing: int
    implants: int
    bop_sites: int
    bop_percent: float | None
    plaque_sites: int
    plaque_percent: float | None
    suppuration_sites: int
    sites_pd_ge4: int
    sites_pd_ge6: int
    mean_pd: float | None
    mean_cal: float | None


class SiteOut(BaseModel):
    pd: int | None = None
    gm: int = 0
    cal: int | None = None
    bop: bool = False
    sup: bool = False
    plaque: bool = False


class ToothOut(BaseModel):
    state: State = "present"
    mobility: int | None = None
    furcation: int | None = None
    sites: dict[Site, SiteOut] = Field(default_factory=dict)


class ExamSummary(BaseModel):
    exam_id: str
    patient_id: str
    exam_date: date
    appointment_id: str | None
    status: Status
    examiner_id: str
    examiner_name: str | None
    amends: str | None
    amended_by: str | None
    indices: Indices
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    completed_by_name: str | None
    version: int


class ExamOut(ExamSummary):
    teeth: dict[Tooth, ToothOut]
    previous_exam_id: str | None = Field(
        default=None, description="The patient's completed exam before this one, if any"
    )


class SiteChange(BaseModel):
    tooth: Tooth
    site: Site
    pd_before: int
    pd_after: int
    pd_delta: int
    cal_before: int | None
    cal_after: int | None
    cal_delta: int | None
    bop_before: bool
    bop_after: bool
    change: Literal["improved", "worse", "stable"]


class IndexDeltas(BaseModel):
    bop_percent: float | None
    plaque_percent: float | None
    sites_pd_ge4: int | None
    sites_pd_ge6: int | None
    mean_pd: float | None
    mean_cal: float | None
    suppuration_sites: int | None


class ComparisonOut(BaseModel):
    exam_id: str
    base_exam_id: str | None
    base_exam_date: date | None
    sites: list[SiteChange]
    improved: int
    worse: int
    stable: int
    indices_before: Indices | None
    indices_after: Indices
    index_deltas: IndexDeltas | None
