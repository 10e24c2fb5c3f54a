"""STUB for the history seed (branch ``history``): the real rebuild is written on branch
``reports-api``; drop this file when merging that branch."""

from __future__ import annotations

from datetime import date


def rebuild(clinic_id: str, start: date, end: date) -> dict[str, int]:
    return {}
