"""The demo seed writes the clinic's note templates and signed notes (one amended, one
draft) through the services, so they read back, are found by search and stay locked."""

from __future__ import annotations

from typing import Any

from infra.local.seed import notes as notes_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.notes.conftest import Notes


def test_demo_notes_and_templates(api: Any, clinic: Any, admin_notes: Notes) -> None:
    pids = [admin_notes.patient(first_name=n) for n in ("Ana", "Bea", "Carla", "Dora")]
    who = admin_principal(clinic)
    ctx = DemoContext(demo_clinic_id=clinic.clinic_id, norte_clinic_id="-", demo={"admin": who})
    notes_seed.seed(ctx, pids)
    tpls = admin_notes.call("get", "/notes/templates")["items"]
    assert {t["treatment_type"] for t in tpls} == {
        "Obturación",
        "Extracción",
        "Higiene",
        "Endodoncia",
        "Ortodoncia",
    }
    first = admin_notes.call("get", f"/patients/{pids[0]}/notes")["items"]
    assert [n["status"] for n in first] == ["signed", "signed"]
    amended = [n for n in first if n["amendments"]]
    assert len(amended) == 1 and amended[0]["template_id"]
    second = admin_notes.call("get", f"/patients/{pids[1]}/notes")["items"]
    assert [n["status"] for n in second] == ["draft", "signed"]
    hits = admin_notes.search("endodoncia")["items"]
    assert pids[0] in {h["patient_id"] for h in hits}
    r = api.delete(f"/patients/{pids[0]}/notes/{first[0]['note_id']}", token=clinic.admin_token)
    assert r.status == 409
