"""Input and output schemas of the clinical notes routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.core.i18n import tr

Kind = Literal["soap", "free"]
Status = Literal["draft", "signed"]
SOAP_FIELDS = ("subjective", "objective", "assessment", "plan")
TEXT_MAX = 20_000
MAX_ATTACHMENTS = 20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Attachment(Strict):
    kind: Literal["image", "document"]
    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")


class NoteBody(Strict):
    """What a note (or a template) says: the four SOAP sections, or one free text."""

    kind: Kind
    title: str | None = Field(default=None, max_length=200)
    subjective: str | None = Field(default=None, max_length=TEXT_MAX)
    objective: str | None = Field(default=None, max_length=TEXT_MAX)
    assessment: str | None = Field(default=None, max_length=TEXT_MAX)
    plan: str | None = Field(default=None, max_length=TEXT_MAX)
    text: str | None = Field(default=None, max_length=TEXT_MAX)

    @model_validator(mode="after")
    def _shape(self) -> NoteBody:
        soap = [getattr(self, f) for f in SOAP_FIELDS]
        if self.kind == "free":
            if any(soap):
                raise ValueError(
                    tr(
                        "a free note has only 'text', not the SOAP sections",
                        "una nota libre solo tiene 'text', no los apartados SOAP",
                    )
                )
        elif self.text:
            raise ValueError(
                tr(
                    "a SOAP note has the four sections, not 'text'",
                    "una nota SOAP tiene los cuatro apartados, no 'text'",
                )
            )
        return self

    def empty(self) -> bool:
        if self.kind == "free":
            return not self.text
        return not any(getattr(self, f) for f in SOAP_FIELDS)


class NoteIn(NoteBody):
    appointment_id: str | None = Field(default=None, max_length=64)
    template_id: str | None = Field(default=None, max_length=64)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class AmendmentIn(Strict):
    reason: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class AmendmentOut(BaseModel):
    amendment_id: str
    note_id: str
    reason: str
    text: str
    author_id: str
    author_name: str | None
    signed_at: datetime
    content_hash: str


class NoteOut(BaseModel):
    note_id: str
    patient_id: str
    appointment_id: str | None
    template_id: str | None
    kind: Kind
    title: str | None
    subjective: str | None = None
    objective: str | None = None
    assessment: str | None = None
    plan: str | None = None
    text: str | None = None
    attachments: list[Attachment]
    status: Status
    author_id: str
    author_name: str | None
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None
    signed_by: str | None
    signed_by_name: str | None
    content_hash: str | None
    amendments: list[AmendmentOut]


class NoteQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=50)


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=200)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=20, ge=1, le=50)


class SearchHit(BaseModel):
    note_id: str
    patient_id: str
    patient_name: str
    status: Status
    kind: Kind
    title: str | None
    created_at: datetime
    signed_at: datetime | None
    author_name: str | None
    snippet: str
    in_amendment: bool


class TemplateIn(NoteBody):
    name: str = Field(min_length=1, max_length=120)
    treatment_type: str = Field(min_length=1, max_length=120)
    active: bool = True


class TemplateOut(BaseModel):
    template_id: str
    name: str
    treatment_type: str
    kind: Kind
    title: str | None
    subjective: str | None = None
    objective: str | None = None
    assessment: str | None = None
    plan: str | None = None
    text: str | None = None
    active: bool
    updated_at: datetime


class TemplateQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=100, ge=1, le=200)
    active: bool | None = None
