"""Input and output schemas of the labs routes (staff) and of the lab's link (public)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from chalicelib.core.validators import check_date
from chalicelib.imaging.schemas import check_tooth

WorkType = Literal[
    "crown",
    "bridge",
    "veneer",
    "inlay_onlay",
    "implant_crown",
    "denture",
    "night_guard",
    "aligners",
    "retainer",
    "other",
]
Priority = Literal["normal", "urgent"]
Status = Literal[
    "draft", "sent", "in_progress", "shipped", "received", "fitted", "returned_for_remake"
]
FileKind = Literal["photo", "scan", "stl", "dicom_zip", "document"]
ID = r"^[0-9A-Za-z_-]{1,64}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LabIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    contact: str | None = Field(default=None, max_length=120)
    email: EmailStr
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+() .-]*$")
    notes: str | None = Field(default=None, max_length=2000)


class LabPatch(LabIn):
    archived: bool = False


class LabQuery(Strict):
    archived: bool = False
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class LabOut(BaseModel):
    lab_id: str
    name: str
    contact: str | None
    email: str
    phone: str | None
    notes: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime


class CaseFields(Strict):
    lab_id: str = Field(pattern=ID)
    appointment_id: str | None = Field(default=None, pattern=ID)
    teeth: list[int] = Field(default_factory=list, max_length=32, description="FDI numbers")
    work_type: WorkType
    shade: str | None = Field(default=None, max_length=40)
    material: str | None = Field(default=None, max_length=120)
    instructions: str | None = Field(default=None, max_length=4000)
    priority: Priority = "normal"
    due_date: date

    @field_validator("teeth")
    @classmethod
    def _teeth(cls, v: list[int]) -> list[int]:
        for t in v:
            check_tooth(t)
        return sorted(set(v))

    @field_validator("due_date")
    @classmethod
    def _due(cls, v: date) -> date:
        return check_date(v)


class CaseIn(CaseFields):
    patient_id: str = Field(pattern=ID)


class CaseQuery(Strict):
    status: Status | None = None
    lab_id: str | None = Field(default=None, pattern=ID)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class PageQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class StatusIn(Strict):
    status: Status
    note: str | None = Field(default=None, max_length=1000)


class SendIn(Strict):
    valid_days: int = Field(default=30, ge=1, le=90)
    email: bool = True


class FileIn(Strict):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=1)


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    by: Literal["staff", "lab"]
    by_name: str | None
    note: str | None


class FileOut(BaseModel):
    file_id: str
    filename: str
    kind: str
    content_type: str
    size: int
    status: Literal["pending", "available"]
    by: Literal["staff", "lab"]
    uploaded_at: datetime | None
    url: str | None = None


class CaseOut(BaseModel):
    case_id: str
    patient_id: str
    patient_name: str | None
    lab_id: str
    lab_name: str | None
    appointment_id: str | None
    appointment_start: str | None
    teeth: list[int]
    work_type: str
    shade: str | None
    material: str | None
    instructions: str | None
    priority: str
    due_date: date
    expected_delivery: date | None
    status: str
    alerts: list[Literal["overdue", "not_back"]]
    history: list[HistoryOut]
    files: list[FileOut]
    link_active: bool
    link_expires_at: datetime | None
    sent_to: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class SendOut(BaseModel):
    case: CaseOut
    link: str
    link_expires_at: datetime
    emailed_to: str | None


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


class FileUploadOut(BaseModel):
    file: FileOut
    upload: UploadForm


class LabPageStatusIn(Strict):
    status: Literal["in_progress", "shipped"]
    note: str | None = Field(default=None, max_length=1000)


class LabPageDeliveryIn(Strict):
    expected_delivery: date

    @field_validator("expected_delivery")
    @classmethod
    def _d(cls, v: date) -> date:
        return check_date(v)
