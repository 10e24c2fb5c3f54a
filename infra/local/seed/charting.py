"""Demo charts of Clínica Demo: a few patients with findings recorded at an earlier visit and
today (so "as of" has something to compare), existing work (fillings, a crown, a root canal, a
bridge), a treatment plan from the catalog (one item already in a budget, one per quadrant),
and one treatment completed and not yet invoiced (on the front desk's list). Everything goes
through the charting services; the earlier visit is back-dated on the items afterwards."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.billing import catalog
from chalicelib.billing import schemas as billing_schemas
from chalicelib.charting import plan, schemas, service
from chalicelib.charting.models import Finding
from chalicelib.core.ids import now
from infra.local.seed.context import DemoContext


def _back_date(cid: str, pid: str, finding_ids: list[str], days: int) -> None:
    at = now() - timedelta(days=days)
    for fid in finding_ids:
        f = Finding.get(*Finding.key(cid, pid, fid))
        f.recorded_at = at
        if f.ended_at is not None:
            f.ended_at = at
        f.save()


def seed(ctx: DemoContext, patient_ids: list[str]) -> dict[str, int]:
    dentist, admin = ctx.demo["dentist"], ctx.demo["admin"]
    cid = ctx.demo_clinic_id
    maria, jose, lucia = patient_ids[0], patient_ids[1], patient_ids[2]
    paula = patient_ids[-1]  # the minor: a mixed dentition
    # The per-quadrant root planing of the catalog becomes a quadrant treatment (ADR 0604).
    t = {x.code: x for x in catalog.all_treatments(cid)}
    if "PERIO" in t and t["PERIO"].scope == "mouth":
        catalog.update_treatment(admin, t["PERIO"].treatment_id, _scope("quadrant"))
    tid = {code: x.treatment_id for code, x in t.items()}
    counts = {"findings": 0, "plan_items": 0}

    def find(pid: str, code: str, **kw: object) -> str:
        counts["findings"] += 1
        return service.record_finding(dentist, pid, schemas.FindingIn(code=code, **kw)).finding_id

    def add(pid: str, code: str, **kw: object) -> str:
        counts["plan_items"] += 1
        body = schemas.PlanItemIn(treatment_id=tid[code], **kw)
        return plan.add_item(dentist, pid, body, "es").item_id

    # María: an earlier visit (caries on 36 O, old amalgam on 46), today the caries grew (MOD)
    old = [
        find(maria, "caries", tooth=36, surfaces=["O"]),
        find(maria, "filling", tooth=46, surfaces=["O", "D"], material="amalgam"),
        find(maria, "root_canal", tooth=46),
        find(maria, "crown", tooth=46, material="metal_ceramic"),
        find(maria, "missing", tooth=18),
    ]
    _back_date(cid, maria, old, 120)
    find(maria, "caries", tooth=36, surfaces=["M", "O", "D"], supersedes=old[0])
    find(maria, "caries", tooth=25, surfaces=["D"])
    a = add(maria, "OBT2", tooth=36, surfaces=["M", "O", "D"], material="composite")
    b = add(maria, "OBT1", tooth=25, surfaces=["D"], material="composite")
    add(maria, "LIMP")
    plan.make_budget(dentist, maria, schemas.BudgetFromPlanIn(item_ids=[a, b]), "es")

    # José Luis: a bridge 34-36, a missing 35 under it, an impacted wisdom tooth, root planing
    jose_old = [
        find(jose, "bridge", teeth=[34, 35, 36], material="metal_ceramic"),
        find(jose, "missing", tooth=35),
        find(jose, "impacted", tooth=48),
        find(jose, "filling", tooth=16, surfaces=["O"], material="composite"),
    ]
    _back_date(cid, jose, jose_old, 400)
    add(jose, "EXOQ", tooth=48, result_code="missing")
    add(jose, "PERIO", quadrant=1)
    add(jose, "PERIO", quadrant=4)

    # Lucía: a filling completed today and not yet invoiced (on the front desk's list)
    find(lucia, "caries", tooth=26, surfaces=["O"])
    find(lucia, "sealant", tooth=17, surfaces=["O"])
    done = add(lucia, "OBT1", tooth=26, surfaces=["O"], material="composite")
    plan.complete_item(dentist, lucia, done, schemas.CompleteIn(), "es")

    # Paula (a child): deciduous caries and a sealant on a first permanent molar
    find(paula, "caries", tooth=75, surfaces=["O", "D"])
    find(paula, "sealant", tooth=36, surfaces=["O"])
    add(paula, "SELL", tooth=46)
    return counts


def _scope(scope: str) -> billing_schemas.TreatmentUpdate:
    return billing_schemas.TreatmentUpdate(scope=scope)  # type: ignore[arg-type]
