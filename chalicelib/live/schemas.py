"""Schemas: the ticket that opens a live-notifications WebSocket."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TicketOut(BaseModel):
    ticket: str = Field(description="Single use; open `url` with `?ticket=<ticket>` within 60 s")
    url: str = Field(description="The WebSocket URL (wss:// on AWS, ws:// locally)")
    expires_at: datetime = Field(description="When the ticket stops opening a connection")
    closes_at: datetime = Field(
        description="When the server will close the connection (the access token's expiry); "
        "it sends `live.expiring` about a minute before"
    )
