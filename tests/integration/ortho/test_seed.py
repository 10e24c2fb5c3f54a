"""The demo seed writes four realistic cases through the services: the alerts the issue asks
for (tray change overdue, check-up overdue, retention check due) and one finished case."""

from __future__ import annotations

from typing import Any

from infra.local.seed import ortho as ortho_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.ortho.conftest import Ortho


def test_demo_cases_and_their_alerts(clinic: Any, admin_ortho: Ortho) -> None:
    pids = [admin_ortho.patient(first_name=n) for n in ("Ana", "Bea", "Carla", "Dora")]
    who = admin_principal(clinic)
    ctx = DemoContext(demo_clinic_id=clinic.clinic_id, norte_clinic_id="-", demo={"admin": who})
    ortho_seed.seed(ctx, pids)
    alerts = admin_ortho.call("get", "/ortho/alerts?limit=50")["data"]["items"]
    assert {(a["patient_id"], a["kind"]) for a in alerts} == {
        (pids[0], "tray"),
        (pids[1], "visit"),
        (pids[2], "retention"),
    }
    aligner = admin_ortho.call("get", f"/patients/{pids[0]}/ortho/cases")["data"]["items"][0]
    assert aligner["current_tray"] == 10 and aligner["total_trays"] == 30
    finished = admin_ortho.call("get", f"/patients/{pids[3]}/ortho/cases")["data"]["items"]
    assert [c["status"] for c in finished] == ["finished"]
    figures = admin_ortho.call("get", "/ortho/figures")["data"]
    assert figures["active"] == 3 and figures["finished_total"] == 1
    assert figures["average_months"] < figures["average_planned_months"]
