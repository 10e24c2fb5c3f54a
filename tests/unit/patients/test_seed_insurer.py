"""The demo seed gives most patients an insurer and leaves some private (issue 15)."""

from __future__ import annotations

import random

from infra.local.seed import patients as seed


def test_demo_patients_have_insurers_and_some_are_private():
    rnd = random.Random(2026)  # noqa: S311 - demo data
    bodies = [seed._body(i, person, rnd) for i, person in enumerate(seed.PEOPLE)]
    insured = [b.insurer for b in bodies if b.insurer]
    assert {i.company for i in insured} >= {"Sanitas", "Adeslas", "DKV"}
    assert all(i.policy_number for i in insured)
    assert len({i.policy_number for i in insured}) == len(insured)
    assert 0 < sum(1 for b in bodies if b.insurer is None) < len(bodies) // 2
