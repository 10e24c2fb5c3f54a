"""Schemas of the audit log routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.core.errors import invalid_field
from chalicelib.core.i18n import tr

LOG_START = datetime(1970, 1, 1, tzinfo=UTC)
"""Nothing in the log is older: entry ids are ULIDs, whose clock starts at the Unix epoch. A
``from`` or ``to`` before it is read as this instant (``from=0001-01-01T00:00:00Z``: from the
start), so no date a client may send reaches the ULID bounds below zero."""


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, max_length=64)
    entity_type: str | None = Field(default=None, max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    date_from: datetime | None = Field(default=None, alias="from")
    date_to: datetime | None = Field(default=None, alias="to")
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _check(self) -> AuditQuery:
        if self.entity_id and not self.entity_type:
            raise invalid_field(
                "AuditQuery",
                ("entity_id",),
                tr("needs entity_type", "necesita entity_type"),
                self.entity_id,
            )
        for name, d in (("from", self.date_from), ("to", self.date_to)):  # named as sent
            if d is not None and d.tzinfo is None:
                raise invalid_field(
                    "AuditQuery",
                    (name,),
                    tr(
                        "needs a time zone offset, e.g. 2026-11-21T00:00:00+01:00",
                        "necesita la zona horaria, p. ej. 2026-11-21T00:00:00+01:00",
                    ),
                    d.isoformat(),
                )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid_field(
                "AuditQuery",
                ("to",),
                tr("must not be before 'from'", "no puede ser anterior a 'from'"),
                self.date_to.isoformat(),
            )
        if self.date_from is not None:
            self.date_from = max(self.date_from, LOG_START)
        if self.date_to is not None:
            self.date_to = max(self.date_to, LOG_START)
        return self


class AuditEntryOut(BaseModel):
    audit_id: str
    at: datetime
    actor_type: str
    actor_id: str
    actor_name: str | None
    action: str
    entity_type: str
    entity_id: str
    ip: str | None
    user_agent: str | None
    changes: dict[str, Any] | None
