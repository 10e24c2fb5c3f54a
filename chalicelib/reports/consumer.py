"""The ``reports`` queue (functions/reports_consumer.py): each domain event that moves a figure
brings that record's contribution to the per-day figures up to date. To be filled in."""

from __future__ import annotations

from typing import Any


def on_event(detail_type: str, detail: dict[str, Any]) -> str:
    return "ignored"
