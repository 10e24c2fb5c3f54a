"""The demo seed's "Paciente Supresión Demo" has a photo, a note, a message and an issued
invoice, and its erasure preview says which are erased and which kept."""

from __future__ import annotations

from typing import Any

from infra.local.seed import gdpr as gdpr_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal


def test_the_demo_patient_to_erase(api: Any, clinic: Any, billing: Any) -> None:
    billing.treatment("REV", "40.00")
    who = admin_principal(clinic, plan="pro")
    ctx = DemoContext(
        demo_clinic_id=clinic.clinic_id,
        norte_clinic_id="-",
        demo={"admin": who, "dentist": who, "receptionist": who},
    )
    pid = gdpr_seed.seed(ctx)
    r = api.get("/patients?q=Supresion", token=clinic.admin_token)
    assert pid in [p["patient_id"] for p in r.json()["data"]["items"]]
    r = api.get(f"/patients/{pid}/erasure", token=clinic.admin_token)
    assert r.status == 200, r.body
    rows = {x["kind"]: x for x in r.json()["data"]["preview"]}
    assert rows["messages"]["action"] == "erase" and rows["messages"]["count"] == 1
    assert rows["images"]["action"] == "keep" and rows["invoices"]["action"] == "keep"
    assert rows["notes"]["count"] == 1
