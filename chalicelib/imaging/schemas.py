"""Input and output schemas of images, X-rays, documents and the imaging settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.core.i18n import tr
from chalicelib.core.validators import BoundedDate, PartialUpdate

Kind = Literal["photo", "xray", "dicom"]
Status = Literal["pending", "processing", "ready", "failed", "expired"]
#: What a listing may filter on: expired slots never show in listings.
ListedStatus = Literal["pending", "processing", "ready", "failed"]
Category = Literal[
    "intraoral_frontal",
    "intraoral_left",
    "intraoral_right",
    "intraoral_occlusal_upper",
    "intraoral_occlusal_lower",
    "extraoral_frontal",
    "extraoral_smile",
    "extraoral_profile_left",
    "extraoral_profile_right",
    "treatment_specific",
]
XrayType = Literal["panoramic", "periapical", "bite-wing", "cbct", "cephalometric"]
DocumentType = Literal[
    "consent", "id_scan", "insurance", "report", "referral", "prescription", "other"
]
FullFormat = Literal["png", "jpeg"]

IMAGE_TYPES: dict[str, frozenset[str]] = {
    "photo": frozenset(
        {"image/jpeg", "image/png", "image/tiff", "image/webp", "image/heic", "image/heif"}
    ),
    "xray": frozenset({"image/jpeg", "image/png", "image/tiff", "image/webp"}),
    "dicom": frozenset({"application/dicom", "application/octet-stream"}),
}
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def _fdi_teeth() -> frozenset[int]:
    permanent = {q * 10 + n for q in (1, 2, 3, 4) for n in range(1, 9)}
    deciduous = {q * 10 + n for q in (5, 6, 7, 8) for n in range(1, 6)}
    return frozenset(permanent | deciduous)


FDI_TEETH = _fdi_teeth()


def check_tooth(t: int) -> int:
    if t not in FDI_TEETH:
        raise ValueError(
            tr(
                f"{t} is not an FDI tooth number (11-18, 21-28, 31-38, 41-48; "
                "deciduous 51-55, 61-65, 71-75, 81-85)",
                f"{t} no es un número de diente FDI (11-18, 21-28, 31-38, 41-48; "
                "temporales 51-55, 61-65, 71-75, 81-85)",
            )
        )
    return t


def check_teeth(v: list[int] | None) -> list[int] | None:
    if v is None:
        return None
    for t in v:
        check_tooth(t)
    return sorted(set(v))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- images --------------------------------------------------------------------------------


class ImageIn(Strict):
    kind: Kind
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(gt=0, description="Size of the file in bytes")
    category: Category | None = Field(default=None, description="Photos only")
    xray_type: XrayType | None = Field(default=None, description="X-rays and DICOM only")
    teeth: list[int] | None = Field(default=None, max_length=52, description="FDI numbers")
    acquired_at: BoundedDate | None = Field(default=None, description="When it was taken")
    appointment_id: str | None = Field(default=None, max_length=64)
    treatment_id: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("teeth")
    @classmethod
    def _teeth(cls, v: list[int] | None) -> list[int] | None:
        return check_teeth(v)

    @field_validator("content_type")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.split(";")[0].strip().lower()

    @model_validator(mode="after")
    def _consistent(self) -> ImageIn:
        allowed = IMAGE_TYPES[self.kind]
        if self.content_type not in allowed:
            raise ValueError(
                tr(
                    f"content_type {self.content_type!r} is not accepted for kind "
                    f"{self.kind!r}: use one of {', '.join(sorted(allowed))}",
                    f"content_type {self.content_type!r} no se admite para kind "
                    f"{self.kind!r}: usa uno de {', '.join(sorted(allowed))}",
                )
            )
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


class XrayIn(ImageIn):
    kind: Literal["xray", "dicom"]  # type: ignore[assignment]


class ImageUpdate(PartialUpdate):
    """Only the fields sent change; send null to clear any of them."""

    CLEARABLE = frozenset(
        {"category", "xray_type", "teeth", "acquired_at", "appointment_id", "treatment_id", "notes"}
    )

    category: Category | None = None
    xray_type: XrayType | None = None
    teeth: list[int] | None = Field(default=None, max_length=52)
    acquired_at: BoundedDate | None = None
    appointment_id: str | None = Field(default=None, max_length=64)
    treatment_id: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("teeth")
    @classmethod
    def _teeth(cls, v: list[int] | None) -> list[int] | None:
        return check_teeth(v)


class RenditionUrl(BaseModel):
    url: str
    expires_at: datetime
    content_type: str
    width: int | None = None
    height: int | None = None
    size: int | None = None


class DicomInfo(BaseModel):
    modality: str | None = None
    xray_type_hint: str | None = None
    body_part: str | None = None
    rows: int | None = None
    columns: int | None = None
    photometric_interpretation: str | None = None
    bits_stored: int | None = None
    number_of_frames: int | None = None
    transfer_syntax_name: str | None = None
    study_date: date | None = None
    pixel_spacing: list[float] | None = Field(
        default=None,
        description="Millimetres between pixel centres of the original, [row, column] "
        "(adjacent rows, adjacent columns); scale by columns/width for a rendition",
    )
    pixel_spacing_source: Literal["PixelSpacing", "ImagerPixelSpacing"] | None = Field(
        default=None,
        description="PixelSpacing: in the patient; ImagerPixelSpacing: at the detector "
        "(panoramic and cephalometric images are magnified there)",
    )
    patient_name: str | None = Field(default=None, description="As written in the DICOM header")
    patient_id: str | None = Field(default=None, description="As written in the DICOM header")


Source = Literal["staff", "bridge"]


class ImageOut(BaseModel):
    image_id: str
    patient_id: str | None = Field(
        description="The patient; null while a Bridge capture waits in the clinic's inbox"
    )
    inbox: bool = Field(default=False, description="In the inbox of unassigned captures")
    source: Source = Field(default="staff", description="Uploaded by staff or by a Bridge")
    study_uid: str | None = Field(default=None, description="DICOM StudyInstanceUID")
    series_uid: str | None = Field(default=None, description="DICOM SeriesInstanceUID")
    series_number: int | None = None
    instance_number: int | None = None
    kind: Kind
    status: Status
    reason: str | None = Field(default=None, description="Why processing failed, in English")
    reason_es: str | None = Field(default=None, description="The same reason in Spanish")
    reason_code: str | None = Field(
        default=None,
        description="What kind of failure: empty, not_an_image, wrong_kind, too_large, "
        "truncated, corrupt, unsupported, no_image, out_of_memory, upload_mismatch",
    )
    category: Category | None = None
    xray_type: XrayType | None = None
    teeth: list[int] = Field(default_factory=list)
    acquired_at: date | None = None
    appointment_id: str | None = None
    treatment_id: str | None = None
    notes: str | None = None
    filename: str
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    original_bytes: int | None = None
    hot_bytes: int | None = None
    compression_ratio: float | None = None
    dicom: DicomInfo | None = None
    patient_mismatch: bool = False
    patient_mismatch_fields: list[str] = Field(default_factory=list)
    urls: dict[str, RenditionUrl] = Field(
        default_factory=dict,
        description="thumb, preview, full (when ready) and original (with the write permission "
        "for the image's kind); presigned for about an hour",
    )
    created_at: datetime
    created_by: str
    updated_at: datetime
    processed_at: datetime | None = None


MatchBy = Literal["explicit", "appointment", "dicom", "filename"]
MatchReason = Literal["no_match", "ambiguous"]


class MatchOut(BaseModel):
    by: MatchBy | None = Field(default=None, description="How the patient was found")
    reason: MatchReason | None = Field(default=None, description="Why it is in the inbox")
    candidates: list[str] = Field(
        default_factory=list, description="Patient ids it could be (when ambiguous)"
    )


class HintsOut(BaseModel):
    filename: str | None = None
    dicom_patient_name: str | None = None
    dicom_patient_id: str | None = None
    dicom_birth_date: str | None = None


class CaptureOut(ImageOut):
    """A Bridge capture: the image, the device that sent it, how it was matched and the hints
    it came with (file name, DICOM patient fields) to help whoever assigns it."""

    device_id: str | None = None
    device_name: str | None = None
    match: MatchOut = Field(default_factory=MatchOut)
    hints: HintsOut = Field(default_factory=HintsOut)


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: ListedStatus | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=100)


class AssignIn(Strict):
    patient_id: str = Field(min_length=1, max_length=64)


class SeriesOut(BaseModel):
    series_uid: str
    series_number: int | None = None
    modality: str | None = None
    image_ids: list[str] = Field(description="By instance number, then id")


class StudyOut(BaseModel):
    study_uid: str
    study_date: date | None = None
    modalities: list[str] = Field(default_factory=list)
    image_count: int
    series: list[SeriesOut] = Field(description="By series number, then uid")


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


class ImageUploadOut(BaseModel):
    image: ImageOut
    upload: UploadForm


class ImageQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    kind: Kind | None = None
    category: Category | None = None
    xray_type: XrayType | None = None
    tooth: int | None = None
    date_from: BoundedDate | None = Field(default=None, alias="from")
    date_to: BoundedDate | None = Field(default=None, alias="to")
    status: ListedStatus | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=100)

    @field_validator("tooth")
    @classmethod
    def _tooth(cls, v: int | None) -> int | None:
        return None if v is None else check_tooth(v)

    @model_validator(mode="after")
    def _range(self) -> ImageQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(
                tr("'from' must not be after 'to'", "'from' no puede ser posterior a 'to'")
            )
        return self


class CompareQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tooth: int

    @field_validator("tooth")
    @classmethod
    def _tooth(cls, v: int) -> int:
        return check_tooth(v)


class PairIn(Strict):
    before_id: str = Field(min_length=1, max_length=64)
    after_id: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _different(self) -> PairIn:
        if self.before_id == self.after_id:
            raise ValueError(
                tr(
                    "before_id and after_id must be different images",
                    "before_id y after_id deben ser imágenes distintas",
                )
            )
        return self


class PairOut(BaseModel):
    pair_id: str
    patient_id: str
    title: str | None = None
    before: ImageOut
    after: ImageOut
    created_at: datetime
    created_by: str


class ImagingSettingsOut(BaseModel):
    xray_full_format: FullFormat
    max_photo_mb: int
    max_dicom_mb: int
    max_document_mb: int


class ImagingSettingsIn(Strict):
    xray_full_format: FullFormat
    max_photo_mb: int | None = Field(default=None, ge=1, le=50)
    max_dicom_mb: int | None = Field(default=None, ge=1, le=200)


# --- documents -----------------------------------------------------------------------------


class DocumentIn(Strict):
    type: DocumentType
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(gt=0)

    @field_validator("content_type")
    @classmethod
    def _type(cls, v: str) -> str:
        v = v.split(";")[0].strip().lower()
        if v not in DOCUMENT_TYPES:
            raise ValueError(
                tr("documents must be PDF, JPEG or PNG", "los documentos deben ser PDF, JPEG o PNG")
            )
        return v


class DocumentUpdate(PartialUpdate):
    """Only the fields sent change; null clears the description."""

    CLEARABLE = frozenset({"description"})

    type: DocumentType | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class DocumentQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: DocumentType | None = None
    status: Literal["pending", "available"] | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=100)


class DownloadUrl(BaseModel):
    url: str
    expires_at: datetime


class DocumentOut(BaseModel):
    document_id: str
    patient_id: str
    type: DocumentType
    title: str
    description: str | None = None
    filename: str
    content_type: str | None = None
    size: int | None = None
    status: Literal["pending", "available", "expired"]
    view: DownloadUrl | None = Field(default=None, description="Opens in the browser (inline)")
    download: DownloadUrl | None = Field(default=None, description="Saves the file")
    created_at: datetime
    created_by: str
    created_by_name: str | None = Field(
        default=None, description="The uploader's name when they uploaded it, for the list"
    )
    updated_at: datetime
    uploaded_at: datetime | None = None


class DocumentUploadOut(BaseModel):
    document: DocumentOut
    upload: UploadForm


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True)
