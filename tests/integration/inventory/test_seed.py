"""The demo seed: realistic consumables, a few below threshold, a few lots expiring within 30
days, a week of movements consistent with the stock, and materials on catalog treatments."""

from __future__ import annotations

from typing import Any

from infra.local.seed import inventory as inventory_seed
from infra.local.seed.context import DemoContext
from tests.integration.billing.conftest import Billing
from tests.integration.conftest import admin_principal, mails_to
from tests.integration.patients.helpers import create_patient


def test_demo_inventory(api: Any, clinic: Any, inv: Any) -> None:
    b = Billing(api, inv.token)
    for code in ("OBT1", "EXO", "IMP"):
        b.treatment(code, "50.00", scope="tooth")
    pids = [create_patient(api, inv.token)["patient_id"] for _ in range(5)]
    ctx = DemoContext(
        demo_clinic_id=clinic.clinic_id,
        norte_clinic_id="-",
        demo={"admin": admin_principal(clinic, "pro_plus")},
    )
    before = len(mails_to(clinic.admin_email))
    inventory_seed.seed(ctx, pids)
    all_items = inv.get("/inventory/items?limit=100")["items"]
    assert len(all_items) == len(inventory_seed.ITEMS)
    below = {i["sku"] for i in inv.get("/inventory/items?below=1")["items"]}
    assert {"CMP-A2", "GLV-NIT-M", "IMPL-4110"} <= below and "IMP-SIL" not in below
    expiring = {x["sku"] for x in inv.get("/inventory/expiring")["items"]}
    assert {"ANE-ART", "IMP-ALG", "SUT-40"} <= expiring
    for it in all_items:
        moves = inv.get(f"/inventory/items/{it['item_id']}/movements?limit=100")["items"]
        assert sum(m["quantity"] for m in moves) == it["stock"] >= 0
    cmp = next(i for i in all_items if i["sku"] == "CMP-A2")
    moves = inv.get(f"/inventory/items/{cmp['item_id']}/movements")["items"]
    assert len({m["at"][:10] for m in moves}) >= 4  # a week of movements
    trts = {t["code"]: t for t in b.get("/billing/treatments")["items"]}
    assert len(trts["IMP"]["materials"]) == 3 and len(trts["OBT1"]["materials"]) == 2
    assert len(mails_to(clinic.admin_email)) == before  # no alert mail at seed time
