"""The demo seed writes three labs and a dozen cases in every state through the services."""

from __future__ import annotations

from typing import Any

from infra.local.seed import labs as labs_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.labs.conftest import Labs


def test_demo_labs_and_cases_in_every_state(api: Any, clinic: Any, labs: Labs) -> None:
    pids = [labs.patient(first_name=n) for n in ("Ana", "Bea", "Carla", "Dora")]
    ctx = DemoContext(
        demo_clinic_id=clinic.clinic_id,
        norte_clinic_id="-",
        demo={"admin": admin_principal(clinic)},
    )
    labs_seed.seed(ctx, pids)
    assert len(labs.call("get", "/labs")["items"]) == 3
    cases = labs.call("get", "/labs/cases?limit=100")["items"]
    assert len(cases) == 12
    assert {c["status"] for c in cases} == {
        "draft",
        "sent",
        "in_progress",
        "shipped",
        "received",
        "fitted",
        "returned_for_remake",
    }
    by_lab = [h for c in cases for h in c["history"] if h["by"] == "lab"]
    assert by_lab and all(h["by_name"] for h in by_lab)
    alerts = labs.call("get", "/labs/alerts")["items"]
    assert any("overdue" in c["alerts"] for c in alerts)
