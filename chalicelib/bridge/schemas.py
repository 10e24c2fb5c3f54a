"""Input and output schemas of Bridge devices (staff side), the device API and the inbox
(the capture shapes themselves are imaging's: :class:`chalicelib.imaging.schemas.CaptureOut`)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core.i18n import tr
from chalicelib.core.validators import BoundedDate, PartialUpdate
from chalicelib.imaging.schemas import (
    IMAGE_TYPES,
    CaptureOut,
    Category,
    HintsOut,
    Kind,
    MatchBy,
    MatchOut,
    MatchReason,
    Status,
    XrayType,
)

__all__ = ["CaptureOut", "HintsOut", "MatchOut"]

DEFAULT_PATTERNS = ["*.dcm", "*.jpg", "*.jpeg", "*.png", "*.tif", "*.tiff", "*.zip"]
MAX_FOLDERS = 10
MAX_PATTERNS = 20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- devices (staff side) ------------------------------------------------------------------


class DeviceDefaults(Strict):
    """What a capture is when the Bridge does not say: its kind, X-ray type or category."""

    kind: Kind
    xray_type: XrayType | None = Field(default=None, description="X-rays and DICOM only")
    category: Category | None = Field(default=None, description="Photos only")

    @model_validator(mode="after")
    def _consistent(self) -> DeviceDefaults:
        if self.kind == "photo" and self.xray_type is not None:
            raise ValueError(
                tr(
                    "xray_type is only for X-rays and DICOM, not photos",
                    "xray_type es solo para radiografías y estudios DICOM, no para fotos",
                )
            )
        if self.kind != "photo" and self.category is not None:
            raise ValueError(
                tr(
                    "category is only for photos; use xray_type for X-rays",
                    "category es solo para fotos; para las radiografías usa xray_type",
                )
            )
        return self


Folder = str
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_paths(values: list[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for v in values:
        v = v.strip()
        if not v or len(v) > 500 or _CONTROL.search(v):
            raise ValueError(
                tr(
                    f"each {what} must be 1 to 500 characters, without control characters",
                    f"cada {what} debe tener de 1 a 500 caracteres, sin caracteres de control",
                )
            )
        if v not in out:
            out.append(v)
    return out


class DeviceIn(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["Sensor gabinete 1"])
    cabinet_id: str | None = Field(
        default=None, max_length=64, description="The cabinet it stands in (appointment match)"
    )
    defaults: DeviceDefaults
    folders: list[str] | None = Field(
        default=None, max_length=MAX_FOLDERS, description="Folders the Bridge watches"
    )
    patterns: list[str] | None = Field(
        default=None,
        max_length=MAX_PATTERNS,
        description=f"File-name patterns it uploads (default {', '.join(DEFAULT_PATTERNS)})",
    )

    @field_validator("folders")
    @classmethod
    def _folders(cls, v: list[str] | None) -> list[str] | None:
        return _check_paths(v, "folder")

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str] | None) -> list[str] | None:
        return _check_paths(v, "pattern")


class DeviceUpdate(PartialUpdate):
    """Only the fields sent change; null clears the cabinet (folders and patterns: send [])."""

    CLEARABLE = frozenset({"cabinet_id"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    cabinet_id: str | None = Field(default=None, max_length=64)
    defaults: DeviceDefaults | None = None
    folders: list[str] | None = Field(default=None, max_length=MAX_FOLDERS)
    patterns: list[str] | None = Field(default=None, max_length=MAX_PATTERNS)

    @field_validator("folders")
    @classmethod
    def _folders(cls, v: list[str] | None) -> list[str] | None:
        return _check_paths(v, "folder")

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str] | None) -> list[str] | None:
        return _check_paths(v, "pattern")


class RotateIn(Strict):
    grace_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="How long the old key keeps working (0 to 168 hours, default 24)",
    )


class DeviceOut(BaseModel):
    device_id: str
    name: str
    cabinet_id: str | None = None
    defaults: DeviceDefaults
    folders: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    status: Literal["active", "revoked"]
    key_prefix: str | None = Field(default=None, description="Shown as cbk_<prefix>…")
    previous_key_prefix: str | None = None
    previous_key_expires_at: datetime | None = None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_ip: str | None = None
    client_version: str | None = None
    last_upload_at: datetime | None = None


class DeviceDetailOut(DeviceOut):
    recent_uploads: list[CaptureOut] = Field(
        default_factory=list, description="The device's last 20 captures, newest first"
    )


class DeviceKeyOut(BaseModel):
    device: DeviceOut
    api_key: str = Field(description="Shown once: only its hash is stored")


# --- the device API ------------------------------------------------------------------------


class HeartbeatIn(Strict):
    client_version: str = Field(min_length=1, max_length=40)
    hostname: str | None = Field(default=None, max_length=255)
    queue_depth: int | None = Field(default=None, ge=0, le=1_000_000)
    last_error: str | None = Field(default=None, max_length=500)


class MaxBytes(BaseModel):
    photo: int
    xray: int
    dicom: int


class DeviceConfig(BaseModel):
    folders: list[str]
    patterns: list[str]
    defaults: DeviceDefaults
    cabinet_id: str | None = None
    stable_seconds: int = Field(description="Wait until a file has not changed for this long")
    max_bytes: MaxBytes


class HeartbeatOut(BaseModel):
    device_id: str
    device_name: str
    clinic_name: str
    server_time: datetime
    config: DeviceConfig
    key_expires_at: datetime | None = Field(
        default=None, description="Set when the key in use was rotated out: it stops then"
    )


_UID = r"^[0-9]+(\.[0-9]+)*$"


class DicomHints(Strict):
    """What the Bridge read from the DICOM header (any field may be missing)."""

    patient_id: str | None = Field(default=None, max_length=64)
    patient_name: str | None = Field(default=None, max_length=200)
    birth_date: str | None = Field(default=None, max_length=10, description="YYYYMMDD or ISO")
    study_instance_uid: str | None = Field(default=None, max_length=64, pattern=_UID)
    series_instance_uid: str | None = Field(default=None, max_length=64, pattern=_UID)
    sop_instance_uid: str | None = Field(default=None, max_length=64, pattern=_UID)
    series_number: int | None = Field(default=None, ge=0, le=2_147_483_647)
    instance_number: int | None = Field(default=None, ge=0, le=2_147_483_647)
    modality: str | None = Field(default=None, max_length=16)
    study_date: str | None = Field(default=None, max_length=10, description="YYYYMMDD or ISO")

    @field_validator("birth_date", "study_date")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        if not v:
            return None
        digits = v.replace("-", "")
        try:
            d = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError as exc:
            raise ValueError(
                tr(
                    "must be a date, YYYYMMDD or YYYY-MM-DD",
                    "debe ser una fecha, AAAAMMDD o AAAA-MM-DD",
                )
            ) from exc
        if len(digits) != 8 or not date(1900, 1, 1) <= d <= date(2100, 12, 31):
            raise ValueError(
                tr(
                    "must be a date, YYYYMMDD or YYYY-MM-DD",
                    "debe ser una fecha, AAAAMMDD o AAAA-MM-DD",
                )
            )
        return d.isoformat()


class CaptureIn(Strict):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0, description="Size of the file in bytes")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the bytes (hex)")
    content_type: str = Field(min_length=3, max_length=100)
    kind: Kind | None = Field(default=None, description="Else the device's default")
    xray_type: XrayType | None = None
    category: Category | None = None
    acquired_at: BoundedDate | None = None
    patient_id: str | None = Field(default=None, max_length=64, description="Chosen at the Bridge")
    patient_number: str | None = Field(
        default=None,
        max_length=64,
        description="Typed at the Bridge: a patient id or a national id (DNI/NIE)",
    )
    dicom: DicomHints | None = None

    @field_validator("content_type")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.split(";")[0].strip().lower()

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        return v.lower()

    @field_validator("filename")
    @classmethod
    def _basename(cls, v: str) -> str:
        v = re.split(r"[\\/]", v)[-1].strip()
        if not v or _CONTROL.search(v):
            raise ValueError(tr("must be a file name", "debe ser un nombre de archivo"))
        return v


def check_kind(kind: str, content_type: str, xray_type: str | None, category: str | None) -> None:
    """A capture's kind, type and labels must agree (ValueError for a 422)."""
    allowed = IMAGE_TYPES[kind]
    if content_type not in allowed:
        raise ValueError(
            tr(
                f"content_type {content_type!r} is not accepted for kind {kind!r}: use one of "
                f"{', '.join(sorted(allowed))}",
                f"content_type {content_type!r} no se admite para kind {kind!r}: usa uno de "
                f"{', '.join(sorted(allowed))}",
            )
        )
    if kind == "photo" and xray_type:
        raise ValueError(
            tr("xray_type is only for X-rays and DICOM", "xray_type es solo para radiografías")
        )
    if kind != "photo" and category:
        raise ValueError(tr("category is only for photos", "category es solo para fotos"))


class UploadOut(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class CaptureMatch(BaseModel):
    patient_id: str | None = None
    by: MatchBy | None = None
    reason: MatchReason | None = None


class CaptureUploadOut(BaseModel):
    image_id: str
    status: Status
    duplicate: bool
    upload: UploadOut | None = None
    match: CaptureMatch


class UploadedIn(Strict):
    ok: bool
    error: str | None = Field(default=None, max_length=500)


class CaptureStatusBrief(BaseModel):
    image_id: str
    status: Status


class CaptureStatusOut(BaseModel):
    image_id: str
    status: Status
    reason: str | None = None
    inbox: bool
    patient_id: str | None = None
