"""Schemas of the timeline routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=30, ge=1, le=100)


class TimelineActor(BaseModel):
    type: str
    id: str | None = None
    name: str | None = None


class TimelineItem(BaseModel):
    event_id: str
    type: str = Field(description="The event name, e.g. appointment.completed, image.processed")
    occurred_at: datetime
    actor: TimelineActor | None
    data: dict[str, Any] = Field(description="The event payload (ids, status, changes, ...)")
