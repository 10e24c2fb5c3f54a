"""Demo periodontal exams of Clínica Demo: three patients, two of them with an exam before and
after periodontal therapy (so the comparison shows improved sites and index deltas), one with a
single healthy exam. Charts are generated from a fixed seed, entered and completed by the demo
hygienist through the perio services (audit entries and ``perio.exam_completed`` are real)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.perio import chart, schemas, service
from infra.local.seed.context import DemoContext

MOLARS = {t for t in chart.TEETH if t[1] in "678"}


def _chart(
    rnd: random.Random,
    *,
    deep: float,
    bleeding: float,
    plaque: float,
    missing: set[str],
    implants: frozenset[str] | set[str] = frozenset(),
    healed: dict[str, Any] | None = None,
) -> dict[str, schemas.ToothIn]:
    """A plausible chart: shallow sites, deeper interproximal ones on molars with ``deep``
    probability; ``healed`` (an earlier chart) gives the same mouth after therapy."""
    out: dict[str, schemas.ToothIn] = {}
    for tooth in chart.TEETH:
        if tooth in missing:
            out[tooth] = schemas.ToothIn(state="missing")
            continue
        if tooth in implants:
            out[tooth] = schemas.ToothIn(state="implant")
            continue
        sites = {}
        for site in chart.SITES:
            interproximal = site != "B" and site != "L"
            if healed is not None:
                before = healed[tooth].sites[site]
                pd = before.pd - (
                    rnd.choice((1, 2, 2)) if before.pd >= 4 else rnd.choice((0, 0, 1))
                )
                pd = max(pd, 1)
                gm = before.gm + (1 if before.pd >= 5 else 0)
            else:
                pd = rnd.choice((2, 2, 3, 3)) if not interproximal else rnd.choice((2, 3, 3, 4))
                if tooth in MOLARS and interproximal and rnd.random() < deep:
                    pd = rnd.choice((4, 5, 5, 6, 7))
                gm = rnd.choice((0, 0, 0, 1)) if pd < 5 else rnd.choice((1, 2))
            sites[site] = schemas.SiteIn(
                pd=pd,
                gm=gm,
                bop=rnd.random() < (bleeding * (2 if pd >= 4 else 1)),
                sup=pd >= 6 and rnd.random() < 0.3,
                plaque=rnd.random() < plaque,
            )
        deep_tooth = max(s.pd or 0 for s in sites.values()) >= 5
        out[tooth] = schemas.ToothIn(
            mobility=(1 if deep_tooth and rnd.random() < 0.5 else 0),
            furcation=(rnd.choice((1, 1, 2)) if deep_tooth else 0)
            if tooth in chart.MULTI_ROOTED
            else None,
            sites=sites,
        )
    return out


def seed(ctx: DemoContext, patient_ids: list[str]) -> dict[str, int]:
    """``patient_ids``: the Clínica Demo patients of the patients seed (María, José, Lucía,
    Antonio, ...)."""
    hyg = ctx.demo["hygienist"]
    today = datetime.now(UTC).date()
    rnd = random.Random(16)  # noqa: S311 - demo data
    count = 0

    def exam(pid: str, days_ago: int, teeth: dict[str, schemas.ToothIn]) -> None:
        nonlocal count
        e = service.create(
            hyg,
            pid,
            schemas.ExamIn(exam_date=today - timedelta(days=days_ago), teeth=teeth),
        )
        service.complete(hyg, e.exam_id, schemas.CompleteIn(version=e.version))
        count += 1

    maria, jose, antonio = patient_ids[0], patient_ids[1], patient_ids[3]
    wisdom = {"18", "28", "38", "48"}

    before = _chart(rnd, deep=0.6, bleeding=0.3, plaque=0.45, missing=wisdom | {"46"})
    exam(maria, 190, before)
    exam(maria, 12, _chart(rnd, deep=0, bleeding=0.08, plaque=0.2, missing=wisdom | {"46"},
                           healed=before))  # fmt: skip

    exam(jose, 40, _chart(rnd, deep=0.05, bleeding=0.08, plaque=0.15, missing={"38", "48"}))

    before = _chart(rnd, deep=0.8, bleeding=0.35, plaque=0.5, missing=wisdom, implants={"36"})
    exam(antonio, 240, before)
    exam(antonio, 30, _chart(rnd, deep=0, bleeding=0.12, plaque=0.25, missing=wisdom,
                             implants={"36"}, healed=before))  # fmt: skip
    return {"perio_exams": count}
