"""Online booking schemas: the clinic's settings and its online appointment types."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from chalicelib.agenda.schemas import Colour, Strict
from chalicelib.core.i18n import tr

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class BookingTypeIn(Strict):
    type_id: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Kept when editing a type (invitations name it); new types get one",
    )
    name_es: str = Field(min_length=1, max_length=80, examples=["Revisión"])
    name_en: str = Field(min_length=1, max_length=80, examples=["Check-up"])
    duration_min: int = Field(ge=10, le=240, examples=[30])
    professional_ids: list[str] = Field(min_length=1, max_length=30)
    cabinet_ids: list[str] = Field(min_length=1, max_length=30)
    reason: str = Field(min_length=1, max_length=200, description="The agenda's reason")
    colour: Colour | None = None
    active: bool = True

    @field_validator("duration_min")
    @classmethod
    def _five(cls, v: int) -> int:
        if v % 5:
            raise ValueError(
                tr("must be a multiple of 5 minutes", "debe ser múltiplo de 5 minutos")
            )
        return v


class BookingTypeOut(BookingTypeIn):
    type_id: str  # type: ignore[assignment]


class SettingsIn(Strict):
    enabled: bool = False
    horizon_days: int = Field(default=60, ge=1, le=365, description="How far ahead")
    min_notice_hours: int = Field(default=12, ge=0, le=336)
    buffer_min: int = Field(default=0, ge=0, le=60, description="Around existing appointments")
    max_pending: int = Field(
        default=2, ge=1, le=10, description="Unconfirmed online bookings per contact"
    )
    types: list[BookingTypeIn] = Field(default_factory=list, max_length=20)
    embed_origins: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Websites allowed to frame the page (https://www.example.com)",
    )

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        for o in v:
            if not _ORIGIN.fullmatch(o):
                raise ValueError(
                    tr(
                        f"{o!r} is not a website origin like https://www.example.com",
                        f"{o!r} no es el origen de una web como https://www.ejemplo.es",
                    )
                )
        return v


class SettingsOut(SettingsIn):
    types: list[BookingTypeOut] = Field(default_factory=list)  # type: ignore[assignment]
    public_url: str
    widget_snippet: str
    version: int
