"""A year of the demo clinic's history (issue 18), so the dashboard has something to show.
To be filled in."""

from __future__ import annotations

from typing import Any

from infra.local.seed.context import DemoContext


def seed(ctx: DemoContext, patient_ids: list[str]) -> dict[str, Any]:
    return {}
