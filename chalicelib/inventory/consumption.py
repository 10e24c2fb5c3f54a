"""Stock consumed by completed treatments (the ``inventory`` queue,
functions/inventory_consumer.py)."""

from __future__ import annotations

from typing import Any


def on_treatment_completed(detail: dict[str, Any]) -> str:
    """Nothing yet: the outcome for the log."""
    return "skipped"
