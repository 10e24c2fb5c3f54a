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


# --- erasure and retention (ADR 1405) ---------------------------------------------------------

ReasonCode = Literal[
    "patient_request",  # art. 17.1 a/c: no longer necessary, or the patient objects
    "consent_withdrawn",  # art. 17.1 b
    "unlawful",  # art. 17.1 d
    "legal_obligation",  # art. 17.1 e
]
ErasureStatus = Literal["pending", "running", "done", "purged"]


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: ReasonCode = Field(description="the ground of GDPR art. 17.1 invoked")
    confirm_name: str = Field(
        min_length=1, max_length=300, description="the patient's full name, typed to confirm"
    )


class KindRow(BaseModel):
    kind: str
    category: Literal["none", "clinical", "billing"]
    label: str
    label_es: str
    count: int
    action: Literal["erase", "keep", "erased", "kept", "purged"]
    until: str | None = Field(default=None, description="last day it is kept (ISO date)")
    basis: str = Field(description="why, in English (the law)")
    basis_es: str


class ErasureOut(BaseModel):
    erasure_id: str
    status: ErasureStatus
    reason_code: ReasonCode
    created_at: datetime
    finished_at: datetime | None = None
    until: dict[str, str] = Field(description="category -> last day its data is kept")
    report: list[KindRow]


class ErasureView(BaseModel):
    patient_id: str
    erasure: ErasureOut | None = Field(default=None, description="once requested")
    preview: list[KindRow] | None = Field(default=None, description="before it is requested")


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clinical: int | None = Field(default=None, ge=0, le=100, description="years")
    billing: int | None = Field(default=None, ge=0, le=100, description="years")
    messages: int | None = Field(
        default=None,
        description="years a patient's messages are kept (1-20); null: until the patient's "
        "record goes; absent: unchanged",
    )


class RetentionOut(BaseModel):
    periods: dict[str, int]
    minimums: dict[str, int]
    messages: int | None = Field(
        default=None, description="years messages are kept; null: until the record goes"
    )
    messages_range: dict[str, int] = Field(description="{min, max} years for messages")
    updated_at: datetime | None = None
