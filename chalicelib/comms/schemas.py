"""Input and output schemas of the communications routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from chalicelib.core.i18n import tr

ConsentChannel = Literal["email", "whatsapp"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentIn(Strict):
    granted: bool
    source: str = Field(
        min_length=2, max_length=60, description="How it was given: paper_form, verbal, web_form"
    )


class ConsentOut(BaseModel):
    channel: ConsentChannel
    granted: bool
    source: str | None
    at: datetime | None
    by: str | None
    by_name: str | None = None
    history: list[dict] = Field(default=[], description="[{granted, source, at, by, by_name}]")


class SettingsIn(Strict):
    reminder_leads_min: list[int] = Field(
        max_length=4, description="Minutes before the appointment, e.g. [1440, 120]"
    )
    eod_enabled: bool = True
    eod_recipients: list[EmailStr] | None = Field(default=None, max_length=5)
    eod_time: str = Field(
        default="16:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Local time of the end-of-day email, HH:MM",
    )
    reminder_channels: list[ConsentChannel] = Field(
        default=["email", "whatsapp"],
        min_length=1,
        max_length=2,
        description="Channels reminders may use (the patient's preference and consent still "
        "decide which one)",
    )

    @field_validator("reminder_leads_min")
    @classmethod
    def _leads(cls, v: list[int]) -> list[int]:
        for m in v:
            if m < 15 or m > 14 * 24 * 60 or m % 5:
                raise ValueError(
                    tr(
                        "each lead time is 15 minutes to 14 days, in steps of 5",
                        "cada antelación va de 15 minutos a 14 días, en múltiplos de 5",
                    )
                )
        return sorted(set(v), reverse=True)


class SettingsOut(BaseModel):
    reminder_leads_min: list[int]
    eod_enabled: bool
    eod_recipients: list[str] | None
    eod_time: str = "16:00"
    reminder_channels: list[str] = ["email", "whatsapp"]
    updated_at: datetime | None


class MessageOut(BaseModel):
    message_id: str
    patient_id: str | None
    appointment_id: str | None
    channel: str
    direction: str
    kind: str
    status: str
    subject: str | None
    text: str | None
    error: dict | None
    status_history: list[dict]
    created_at: datetime
    updated_at: datetime


class ListQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=25, ge=1, le=100)


class ConversationOut(BaseModel):
    patient_id: str
    patient_name: str | None = None
    last_inbound_at: datetime | None
    last_activity_at: datetime
    unread: int
    window_open: bool
    window_closes_at: datetime | None = Field(
        default=None, description="When free-form replies stop being possible (if open)"
    )
    last_text: str | None = None
    last_direction: str | None = None


TemplateKind = Literal["booking", "reminder", "reschedule", "cancellation", "missed"]


class TemplateIn(Strict):
    kind: TemplateKind
    appointment_id: str = Field(min_length=10, max_length=40, pattern=r"^[0-9A-Za-z]+$")


class ReplyIn(Strict):
    text: str = Field(min_length=1, max_length=4096)


class WhatsAppIn(Strict):
    phone_number_id: str = Field(pattern=r"^[0-9]{5,30}$")  # ASCII digits only
    waba_id: str = Field(pattern=r"^[0-9]{5,30}$")
    access_token: str = Field(min_length=20, max_length=1024)
    app_secret: str = Field(min_length=16, max_length=128)
    verify_token: str = Field(min_length=16, max_length=128)


class WhatsAppOut(BaseModel):
    connected: bool
    phone_number_id: str | None = None
    waba_id: str | None = None
    display_phone_number: str | None = None
    access_token: str | None = Field(default=None, description="Masked")
    app_secret: str | None = Field(default=None, description="Masked")
    verify_token: str | None = Field(default=None, description="Masked")
    status: str = "disconnected"
    last_error: dict | None = None
    last_tested_at: datetime | None = None
    webhook_url: str | None = None
    updated_at: datetime | None = None
