"""The treatment plan: items from the clinic's treatment catalog placed on a surface, a tooth,
a sextant, a quadrant or the whole mouth; a budget from selected items in one step; completing
an item (it leaves its finding on the chart and emits ``treatment.completed``); and the front
desk's list of completed treatments not yet invoiced (ADR 0604)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.billing import budgets, catalog
from chalicelib.billing import schemas as billing
from chalicelib.billing.models import Budget
from chalicelib.charting import codes, schemas, service
from chalicelib.charting.models import Finding, PlanItem
from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import Item, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, Forbidden, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.patients import service as patients


def load_item(clinic_id: str, patient_id: str, item_id: str) -> PlanItem:
    try:
        it = PlanItem.get(*PlanItem.key(clinic_id, patient_id, item_id), consistent_read=True)
    except DoesNotExist:
        it = None
    if not isinstance(it, PlanItem):
        raise NotFound(tr("Plan item not found.", "Elemento del plan no encontrado."))
    return it


def _status_conflict(it: PlanItem) -> Conflict:
    es = {"completed": "ya está hecho", "cancelled": "está anulado", "planned": "está planificado"}
    return Conflict(
        tr(
            f"This plan item is {it.status}; reload the plan.",
            f"Este elemento del plan {es.get(it.status, it.status)}; vuelve a cargar el plan.",
        )
    )


def _item_audit(principal: Principal, action: str, it: PlanItem, **after: Any) -> Any:
    data = {"patient_id": it.patient_id, "treatment_code": it.treatment_code, "status": it.status}
    data.update(after)
    return audit.entry(
        principal.clinic_id, principal.actor, action, "chart_plan_item", it.item_id, after=data
    )


def add_item(
    principal: Principal, patient_id: str, data: schemas.PlanItemIn, lang: str
) -> schemas.PlanItemOut:
    cid = principal.clinic_id
    service.patient(cid, patient_id)
    t = catalog.load_treatments(cid, [data.treatment_id]).get(data.treatment_id)
    if t is None or not t.active:
        raise service.invalid(
            "treatment_id",
            tr("unknown or inactive treatment", "tratamiento desconocido o inactivo"),
        )
    problem = codes.region_problem(t.scope, data.tooth, data.surfaces, data.sextant, data.quadrant)
    if problem:
        raise service.invalid(*problem)
    result = data.result_code or ("filling" if t.scope == "surface" else None)
    if result is not None:
        c = codes.CODES[result]
        if c.kind != "existing" and result != "missing":
            raise service.invalid(
                "result_code",
                tr(
                    "a treatment leaves existing work on the chart (or missing, for an extraction)",
                    "un tratamiento deja un trabajo existente en el odontograma (o ausente, "
                    "para una extracción)",
                ),
            )
        fits = {"surfaces": t.scope == "surface", "span": False}.get(
            c.placement, t.scope in ("tooth", "surface")
        )
        if not fits:
            raise service.invalid(
                "result_code",
                tr(
                    f"{result} does not fit a treatment whose scope is {t.scope}",
                    f"{result} no encaja con un tratamiento de ámbito {t.scope}",
                ),
            )
        if data.material and not c.materials:
            raise service.invalid(
                "material", tr(f"{result} takes no material", f"{result} no lleva material")
            )
    at = now()
    iid = new_id()
    it = PlanItem(
        *PlanItem.key(cid, patient_id, iid),
        item_id=iid,
        patient_id=patient_id,
        treatment_id=t.treatment_id,
        treatment_code=t.code,
        name_es=t.name_es,
        name_en=t.name_en,
        scope=t.scope,
        tooth=data.tooth,
        surfaces=data.surfaces,
        sextant=data.sextant,
        quadrant=data.quadrant,
        result_code=result,
        material=data.material,
        note=data.note,
        status="planned",
        created_at=at,
        created_by=principal.user_id,
        version=1,
    )
    with transaction() as tx:
        tx.save(it, condition=PlanItem.SK.does_not_exist())
        tx.save(_item_audit(principal, "charting.plan.added", it, tooth=data.tooth))
    # The front desk's "planned, not scheduled" follow-up (recalls, ADR 1404) listens.
    events.publish(
        "treatment.planned",
        cid,
        principal.actor,
        plan_item_id=iid,
        patient_id=patient_id,
        treatment_id=it.treatment_id,
        code=it.treatment_code,
    )
    return service.plan_out(it, lang)


def cancel_item(
    principal: Principal, patient_id: str, item_id: str, lang: str
) -> schemas.PlanItemOut:
    it = load_item(principal.clinic_id, patient_id, item_id)
    if it.status != "planned":
        raise _status_conflict(it)
    old = int(it.version)
    it.status, it.cancelled_at, it.version = "cancelled", now(), old + 1
    try:
        with transaction() as tx:
            tx.save(it, condition=(PlanItem.version == old) & (PlanItem.status == "planned"))
            tx.save(_item_audit(principal, "charting.plan.cancelled", it))
    except TransactWriteError as exc:
        raise _status_conflict(load_item(principal.clinic_id, patient_id, item_id)) from exc
    events.publish(
        "treatment.cancelled",
        principal.clinic_id,
        principal.actor,
        plan_item_id=it.item_id,
        patient_id=patient_id,
        treatment_id=it.treatment_id,
        code=it.treatment_code,
    )
    return service.plan_out(it, lang)


def make_budget(
    principal: Principal, patient_id: str, data: schemas.BudgetFromPlanIn, lang: str
) -> schemas.BudgetFromPlanOut:
    """One budget whose lines are the selected planned items (each line links back to its
    item, each item to the budget), in the budget's own transaction."""
    if not principal.can("billing.budgets.write"):
        raise Forbidden(
            tr(
                "Making a budget needs the billing.budgets.write permission.",
                "Hacer un presupuesto necesita el permiso billing.budgets.write.",
            )
        )
    cid = principal.clinic_id
    service.patient(cid, patient_id)
    ids = list(dict.fromkeys(data.item_ids))
    found = {
        it.item_id: it
        for it in PlanItem.batch_get([PlanItem.key(cid, patient_id, i) for i in ids])
        if isinstance(it, PlanItem)
    }
    for i, item_id in enumerate(ids):
        it = found.get(item_id)
        if it is None:
            raise service.invalid(
                f"item_ids.{i}", tr("no such plan item", "no existe ese elemento del plan")
            )
        if it.status == "cancelled" or it.budget_id:
            raise service.invalid(
                f"item_ids.{i}",
                tr(
                    "this item is cancelled or already in a budget",
                    "este elemento está anulado o ya está en un presupuesto",
                ),
            )
    items = [found[i] for i in ids]
    lines = []
    for it in items:
        sextant = int(it.sextant) if it.sextant is not None else None
        quadrant = int(it.quadrant) if it.quadrant is not None else None
        region = codes.region_label(it.scope, sextant, quadrant, lang)
        name = (it.name_en or it.name_es) if lang == "en" else it.name_es
        lines.append(
            billing.BudgetLineIn(
                treatment_id=it.treatment_id,
                description=f"{name} — {region}" if region else None,
                tooth=int(it.tooth) if it.tooth is not None else None,
                surfaces=[s for s in it.surfaces or [] if s != "R"],
            )
        )
    body = billing.BudgetIn(
        patient_id=patient_id, title=data.title, valid_days=data.valid_days, lines=lines
    )

    def link(tx: Any, b: Budget) -> None:
        for it, ln in zip(items, b.lines, strict=True):
            old = int(it.version)
            it.budget_id, it.budget_number, it.budget_line_id = b.budget_id, b.number, ln["line_id"]
            it.version = old + 1
            tx.save(it, condition=(PlanItem.version == old) & PlanItem.budget_id.does_not_exist())
            it.version = old  # a retry of the numbering starts from what was read

    out = budgets.create(principal, body, plan_items=[it.item_id for it in items], also=link)
    for it in items:
        it.version = int(it.version) + 1
    return schemas.BudgetFromPlanOut(
        budget_id=out.budget_id,
        number=out.number,
        total=out.totals.total,
        items=[service.plan_out(it, lang) for it in items],
    )


def complete_item(
    principal: Principal, patient_id: str, item_id: str, data: schemas.CompleteIn, lang: str
) -> schemas.PlanItemOut:
    """planned -> completed: its result finding joins the chart (ending the conditions it
    treats on the same tooth and surfaces) and, until invoiced, it is on the front desk's
    list. One transaction; then ``treatment.completed`` (ids only)."""
    cid = principal.clinic_id
    it = load_item(cid, patient_id, item_id)
    if it.status != "planned":
        raise _status_conflict(it)
    at = now()
    tooth = int(it.tooth) if it.tooth is not None else None
    result: Finding | None = None
    treated: list[Finding] = []
    if it.result_code and tooth is not None:
        surfaces = list(it.surfaces or [])
        c = codes.CODES[it.result_code]
        result = service.new_finding(
            principal,
            patient_id,
            it.result_code,
            tooth=tooth,
            teeth=[],
            surfaces=surfaces if c.placement in ("surfaces", "tooth_or_surfaces") else [],
            material=it.material,
            note=data.note,
            at=at,
            plan_item_id=it.item_id,
        )
        findings, _ = service.chart_items(cid, patient_id)
        whole = not result.surfaces or it.result_code == "missing"
        for f in findings:
            if f.ended_at is not None or f.tooth is None or int(f.tooth) != tooth:
                continue
            if it.result_code == "missing" or (
                f.code in codes.TREATABLE
                and (whole or not f.surfaces or set(f.surfaces) & set(result.surfaces))
            ):
                treated.append(f)
        treated = treated[:80]
    old = int(it.version)
    it.status, it.completed_at, it.completed_by = "completed", at, principal.user_id
    it.result_finding_id = result.finding_id if result else None
    it.version = old + 1
    if not it.invoiced:
        it.GSI3PK = PlanItem.uninvoiced_pk(cid)
        it.GSI3SK = f"{at.isoformat()}#{it.item_id}"
    try:
        with transaction() as tx:
            tx.save(it, condition=(PlanItem.version == old) & (PlanItem.status == "planned"))
            if result is not None:
                tx.save(result, condition=Finding.SK.does_not_exist())
            for f in treated:
                service.end(f, principal, at, "treated", result.finding_id if result else None)
                tx.save(f, condition=Finding.ended_at.does_not_exist())
            tx.save(
                _item_audit(
                    principal,
                    "charting.plan.completed",
                    it,
                    result_finding_id=it.result_finding_id,
                    treated=[f.finding_id for f in treated],
                )
            )
    except TransactWriteError as exc:
        raise _status_conflict(load_item(cid, patient_id, item_id)) from exc
    events.publish(
        "treatment.completed",
        cid,
        principal.actor,
        plan_item_id=it.item_id,
        patient_id=patient_id,
        treatment_id=it.treatment_id,
        code=it.treatment_code,
        tooth=tooth,
        budget_id=it.budget_id,
        finding_id=it.result_finding_id,
        invoiced=bool(it.invoiced),
    )
    return service.plan_out(it, lang)


def uninvoiced(principal: Principal, q: schemas.UninvoicedQuery, lang: str) -> Page:
    """Completed treatments not yet invoiced, oldest first: one Query of the clinic's sparse
    index (an item leaves it when an invoice for it is issued)."""
    cid = principal.clinic_id
    pk = PlanItem.uninvoiced_pk(cid)
    start = decode_cursor(q.cursor, partition=("GSI3PK", pk))
    res = Item.gsi3.query(pk, limit=q.limit, last_evaluated_key=start)
    items = [x for x in res if isinstance(x, PlanItem)]
    # The page's patients in one BatchGetItem (at most ``limit`` keys): the list names them.
    people = patients.load_many(cid, (it.patient_id for it in items))
    out = []
    for it in items:
        person = people.get(it.patient_id)
        sextant = int(it.sextant) if it.sextant is not None else None
        quadrant = int(it.quadrant) if it.quadrant is not None else None
        out.append(
            schemas.UninvoicedOut(
                item_id=it.item_id,
                patient_id=it.patient_id,
                patient_name=patients.full_name(person) if person else "",
                treatment_code=it.treatment_code,
                name=(it.name_en or it.name_es) if lang == "en" else it.name_es,
                tooth=int(it.tooth) if it.tooth is not None else None,
                region=codes.region_label(it.scope, sextant, quadrant, lang),
                completed_at=it.completed_at,
                budget_id=it.budget_id,
                budget_number=it.budget_number,
            )
        )
    return Page(items=out, next_cursor=encode_cursor(res.last_evaluated_key))
