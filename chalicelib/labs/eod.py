"""The labs section of the end-of-day email (chalicelib/comms/eod.py imports this module)."""

from __future__ import annotations

from datetime import date

from chalicelib.comms.templates import Section


def section(clinic_id: str, day: date, lang: str) -> Section | None:
    """Nothing yet."""
    return None
