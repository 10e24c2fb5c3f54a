"""Cells of the CSV files the API hands out (audit export, the VERI*FACTU invoice book).

A text cell that starts like a formula is prefixed with ``'`` so that a spreadsheet shows it
instead of running it (OWASP "CSV injection"); every exported text cell goes through here.
"""

from __future__ import annotations

from typing import Any

#: What a spreadsheet may take for the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def text_cell(value: Any) -> str:
    """``value`` as a CSV text cell a spreadsheet will not run."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s
