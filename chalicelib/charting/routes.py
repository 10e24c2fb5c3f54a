"""Routes of the charting module: the patient's dental chart (findings, history as of a day,
X-ray badge) and treatment plan (budget in one step, completion), and the front desk's list
of completed treatments not yet invoiced. Handlers parse, call one service function."""

from __future__ import annotations

from chalicelib.charting import plan, schemas, service
from chalicelib.core.api import Page, Req, Router

router = Router("charting")
r = router.route
CHART = ("charting",)


@r(
    "/patients/{patient_id}/chart",
    "GET",
    permission="clinical.chart.read",
    query=schemas.ChartQuery,
    response=schemas.ChartOut,
    summary="The patient's dental chart now or as of a day, with the plan and X-ray teeth",
    tags=CHART,
)
def get_chart(req: Req, patient_id: str) -> schemas.ChartOut:
    return service.get_chart(req.user, patient_id, req.query, req.lang)


@r(
    "/patients/{patient_id}/chart/findings",
    "POST",
    permission="clinical.chart.write",
    body=schemas.FindingIn,
    response=schemas.FindingOut,
    status=201,
    summary="Record a finding (a condition or existing work), optionally superseding one",
    tags=CHART,
)
def record_finding(req: Req, patient_id: str) -> schemas.FindingOut:
    return service.record_finding(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/chart/findings/{finding_id}/resolve",
    "POST",
    permission="clinical.chart.write",
    body=schemas.ResolveIn,
    response=schemas.FindingOut,
    summary="Resolve a finding (it stays in the history)",
    tags=CHART,
)
def resolve_finding(req: Req, patient_id: str, finding_id: str) -> schemas.FindingOut:
    return service.resolve_finding(req.user, patient_id, finding_id, req.body)


@r(
    "/patients/{patient_id}/chart/plan",
    "POST",
    permission="clinical.chart.write",
    body=schemas.PlanItemIn,
    response=schemas.PlanItemOut,
    status=201,
    summary="Plan a treatment from the catalog on a surface, tooth, sextant, quadrant or mouth",
    tags=CHART,
)
def add_plan_item(req: Req, patient_id: str) -> schemas.PlanItemOut:
    return plan.add_item(req.user, patient_id, req.body, req.lang)


@r(
    "/patients/{patient_id}/chart/plan/budget",
    "POST",
    permission="clinical.chart.write",
    body=schemas.BudgetFromPlanIn,
    response=schemas.BudgetFromPlanOut,
    status=201,
    summary="Make a budget from planned items (also needs billing.budgets.write)",
    tags=CHART,
)
def budget_from_plan(req: Req, patient_id: str) -> schemas.BudgetFromPlanOut:
    return plan.make_budget(req.user, patient_id, req.body, req.lang)


@r(
    "/patients/{patient_id}/chart/plan/{item_id}/complete",
    "POST",
    permission="clinical.chart.write",
    body=schemas.CompleteIn,
    response=schemas.PlanItemOut,
    summary="Complete a planned treatment: done on the chart, treatment.completed",
    tags=CHART,
)
def complete_plan_item(req: Req, patient_id: str, item_id: str) -> schemas.PlanItemOut:
    return plan.complete_item(req.user, patient_id, item_id, req.body, req.lang)


@r(
    "/patients/{patient_id}/chart/plan/{item_id}/cancel",
    "POST",
    permission="clinical.chart.write",
    response=schemas.PlanItemOut,
    summary="Cancel a planned treatment",
    tags=CHART,
)
def cancel_plan_item(req: Req, patient_id: str, item_id: str) -> schemas.PlanItemOut:
    return plan.cancel_item(req.user, patient_id, item_id, req.lang)


@r(
    "/charting/uninvoiced",
    "GET",
    # The front desk's list, read by whoever invoices: a billing key, not a clinical one.
    permission="billing.invoices.read",
    query=schemas.UninvoicedQuery,
    response=list[schemas.UninvoicedOut],
    paged=True,
    summary="Completed treatments not yet invoiced, oldest first (the front desk's list)",
    tags=CHART,
)
def list_uninvoiced(req: Req) -> Page:
    return plan.uninvoiced(req.user, req.query, req.lang)
