"""Demo data of the ortho module (filled in as the module lands)."""

from __future__ import annotations

from infra.local.seed.context import DemoContext


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    """Nothing yet."""
