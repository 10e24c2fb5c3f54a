"""Input and output schemas of the GDPR export routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pending", "building", "ready", "failed", "expired"]


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=50)


class ExportOut(BaseModel):
    export_id: str
    patient_id: str
    status: Status
    reason: str | None = Field(default=None, description="why it failed, in English")
    reason_es: str | None = Field(default=None, description="the same in Spanish")
    reason_code: str | None = None
    requested_by_name: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    valid_until: datetime = Field(description="the export and its ZIP are deleted after this")
    size: int | None = Field(default=None, description="bytes of the ZIP, once ready")
    files: int | None = Field(default=None, description="files in the ZIP, once ready")
    sections: dict[str, int] | None = Field(default=None, description="records per section")
    download_url: str | None = Field(
        default=None, description="only from GET of one ready export: a short-lived link"
    )
    download_expires_at: datetime | None = None
