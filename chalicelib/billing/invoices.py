"""Invoices: drafts (manual or from accepted budget lines), issue with gapless numbering per
series and year, rectifying invoices, PDF; and the seam VERI*FACTU plugs into.

Numbering (ADR 0502): a ``Counter`` item per (clinic, series, year) holds the last number.
Issuing reads it, and in ONE TransactWriteItems moves it from ``last`` to ``last + 1`` with a
condition, flips the invoice from draft to issued (condition: still a draft at the version
read), updates what a rectifying invoice references, writes the audit entry and whatever the
``ISSUE_HOOKS`` add. A transaction that fails consumes nothing; a lost race re-reads and
retries. So numbers are consecutive, never duplicated, and only issued invoices have one.

VERI*FACTU seam (issue 6): ``ISSUE_HOOKS`` is a list of callables ``hook(tx, invoice, clinic)``
run inside that transaction after the invoice has its number, date, TipoFactura, customer and
totals, for every issue — ordinary and rectifying (a rectifying invoice is how an invoice is
corrected or cancelled; ``invoice.rectifies`` names what it rectifies). A hook adds its own
writes (``tx.save(record, condition=...)``, ``tx.update(chain_head, ..., condition=...)``);
if any condition fails the whole issue is retried from a fresh read, so a hook must rebuild
its writes on each call and never keep state between calls. ``aeat_fields(invoice)`` gives the
invoice in AEAT names (RegistroAlta fields) and ``QR_URL_PROVIDER`` lets the module hand the
PDF its QR URL.

Reads (issue 23): an issue reads what it needs in two strongly consistent BatchGetItems per
attempt, whatever the clinic's size: the clinic and the invoice; then the counter, the patient
(or the rectified invoices) and the keys each ``ISSUE_READS`` function names for its hook (the
series block, chain head and settings of VERI*FACTU), which hooks take with
:func:`issue_read`. Every check stays where it was; only where the item comes from changed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.billing import catalog, common, money, rules, schemas
from chalicelib.billing.models import Budget, Counter, Invoice, InvoiceIssuedOn
from chalicelib.core import audit, events, validators
from chalicelib.core.api import Page, Principal
from chalicelib.core.crypto import open_sealed
from chalicelib.core.db import Item, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.identity.models import Clinic
from chalicelib.patients.models import Patient

ORDINARY_SERIES = "F"
RECTIFYING_SERIES = "R"
SERIES = {ORDINARY_SERIES: "ordinary", RECTIFYING_SERIES: "rectifying"}
DEFAULT_DESCRIPTION = {"es": "Servicios odontológicos", "en": "Dental services"}
ISSUE_ATTEMPTS = 60

IssueHook = Callable[[TransactWrite, Invoice, Clinic], None]
ISSUE_HOOKS: list[IssueHook] = []
"""Extra writes for the issue transaction (VERI*FACTU records, chain head). See module doc."""

QR_URL_PROVIDER: Callable[[Invoice, Clinic], str | None] | None = None
"""Returns the ValidarQR URL of an issued invoice for its PDF (set by the VERI*FACTU module)."""

IssueReads = Callable[[Invoice, Clinic], list[tuple[str, str]]]
ISSUE_READS: list[IssueReads] = []
"""The keys the ``ISSUE_HOOKS`` will read for this invoice: fetched with the issue's own reads
in one BatchGetItem and handed to the hooks by :func:`issue_read`."""

M = TypeVar("M", bound=Item)
_issue_reads: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar(
    "issue_reads", default=None
)


def plugins() -> None:
    """Load what plugs into billing (the VERI*FACTU hooks and QR provider) before an issue or a
    PDF. The API imports a module on the first call to one of its routes (ADR 0017), so a fresh
    instance whose first call was ``POST /billing/invoices/{id}/issue`` issued invoices with no
    VERI*FACTU record at all, and their PDFs had no QR, until some /verifactu route was called.
    ``register`` is idempotent and cheap; the module loads no XML library on import."""
    from chalicelib.charting import invoicing  # noqa: PLC0415
    from chalicelib.verifactu import service  # noqa: PLC0415

    service.register()
    invoicing.register()  # a plan item invoiced leaves the uninvoiced list (ADR 0604)


def issue_read(model: type[M], key: tuple[str, str], *, consistent: bool = True) -> M | None:
    """The item at ``key`` as this issue attempt read it (None: there is none). Outside an
    issue, or for a key no ``ISSUE_READS`` named, a GetItem now."""
    reads = _issue_reads.get()
    if reads is not None and key in reads:
        found = reads[key]
        return found if isinstance(found, model) else None
    try:
        return model.get(*key, consistent_read=consistent)
    except DoesNotExist:
        return None


def _batch_read(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """One strongly consistent BatchGetItem (PynamoDB splits above 100 keys and retries what
    DynamoDB leaves unprocessed); every key maps to its item or None."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], Any] = dict.fromkeys(wanted)
    for item in Item.batch_get(wanted, consistent_read=True):
        found[(item.PK, item.SK)] = item
    return found


def num_serie(series: str, year: int, number: int) -> str:
    """NumSerieFactura: ``F-2026-000001`` (printable ASCII, well under 60 characters)."""
    return f"{series}-{year}-{number:06d}"


def _bad(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."),
        errors=[{"field": field, "message": message}],
    )


def _immutable(inv: Invoice) -> Conflict:
    return Conflict(
        tr(
            f"Invoice {inv.num_serie} is issued and cannot change; correct or cancel it with a "
            "rectifying invoice (POST /billing/invoices/{id}/rectify).",
            f"La factura {inv.num_serie} está emitida y no se puede modificar; corrígela o "
            "anúlala con una factura rectificativa (POST /billing/invoices/{id}/rectify).",
        ),
        code="INVOICE_IMMUTABLE",
        data={"status": inv.status, "num_serie": inv.num_serie},
    )


# --- shaping -------------------------------------------------------------------------------


def due_cents(inv: Invoice) -> int:
    """What the invoice asks the customer to pay once rectifications apply (ADR 0503).

    A rectifying invoice by differences moves what its original asks (a reduction lowers it)
    and asks nothing itself, so money always flows against the original; one by substitution
    asks its own total, and the original it replaces, like one cancelled in full or annulled,
    asks nothing. The sum over a patient's invoices is what their legal totals net to.
    """
    if inv.status == "draft" or inv.cancelled:
        return 0
    if inv.kind == "rectifying" and inv.rectification_mode != "S":
        return 0
    return int(inv.total_cents) + int(inv.differences_cents or 0)


def payment_status(due: int, paid: int) -> str:
    if paid <= 0:
        return "issued"
    return "paid" if paid >= due else "partially_paid"


def outstanding_cents(inv: Invoice) -> int:
    """Due minus paid: negative when money was paid on an invoice later cancelled (a credit
    to refund)."""
    if inv.status == "draft":
        return 0
    return due_cents(inv) - int(inv.paid_cents)


def invoice_out(inv: Invoice) -> schemas.InvoiceOut:
    return schemas.InvoiceOut(
        invoice_id=inv.invoice_id,
        patient_id=inv.patient_id,
        status=inv.status,
        kind=inv.kind,
        series=inv.series,
        number=int(inv.number) if inv.number is not None else None,
        num_serie=inv.num_serie,
        issue_date=date.fromisoformat(inv.issue_date) if inv.issue_date else None,
        issued_at=inv.issued_at,
        tipo_factura=inv.tipo_factura,
        issuer=inv.issuer,
        customer=inv.customer,
        third_party=inv.third_party,
        description=inv.description,
        notes=inv.notes,
        operation_date=date.fromisoformat(inv.operation_date) if inv.operation_date else None,
        budget_id=inv.budget_id,
        lines=[schemas.InvoiceLineOut(**ln) for ln in inv.lines],
        breakdown=[schemas.BreakdownOut(**b) for b in inv.breakdown],
        total_base=money.fmt(int(inv.total_base_cents)),
        total_vat=money.fmt(int(inv.total_vat_cents)),
        total=money.fmt(int(inv.total_cents)),
        due=money.fmt(due_cents(inv)),
        paid=money.fmt(int(inv.paid_cents)),
        outstanding=money.fmt(outstanding_cents(inv)),
        rectifies=inv.rectifies,
        rectification_code=(
            inv.tipo_factura if (inv.tipo_factura or "").startswith("R") else inv.rectification_code
        ),
        rectification_mode=inv.rectification_mode,
        rectification_reason=inv.rectification_reason,
        rectified_by=list(inv.rectified_by) if inv.rectified_by else None,
        cancelled=bool(inv.cancelled),
        created_at=inv.created_at,
        updated_at=inv.updated_at,
    )


def load(clinic_id: str, invoice_id: str, *, consistent: bool = False) -> Invoice:
    try:
        return Invoice.get(*Invoice.key(clinic_id, invoice_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No invoice with that id in this clinic.",
                "No hay ninguna factura con ese id en esta clínica.",
            ),
            code="INVOICE_NOT_FOUND",
        ) from exc


def get(principal: Principal, invoice_id: str) -> schemas.InvoiceOut:
    return invoice_out(load(principal.clinic_id, invoice_id))


def list_invoices(principal: Principal, q: schemas.InvoiceQuery) -> Page:
    cid = principal.clinic_id
    if q.patient_id:
        common.patient(cid, q.patient_id)
        pk, index, key = Invoice.patient_pk(cid, q.patient_id), Invoice.gsi2, "GSI2PK"
    elif q.budget_id:
        # Like patient_id: an id the clinic does not have is a 404, not an empty list, so a
        # filter by another clinic's budget reads the same as one by a made-up id.
        from chalicelib.billing import budgets

        budgets.load(cid, q.budget_id)
        pk, index, key = Invoice.budget_pk(cid, q.budget_id), Invoice.gsi3, "GSI3PK"
    else:
        pk, index, key = Invoice.list_pk(cid), Invoice.gsi1, "GSI1PK"
    start = decode_cursor(q.cursor, partition=(key, pk))
    it = index.query(
        pk,
        scan_index_forward=False,
        limit=q.limit,
        page_size=q.limit,
        last_evaluated_key=start,
        filter_condition=_list_filter(q),
    )
    return Page(
        [invoice_out(i) for i in it if isinstance(i, Invoice)], encode_cursor(it.last_evaluated_key)
    )


def _list_filter(q: schemas.InvoiceQuery) -> Any:
    """The list's filters as one DynamoDB filter (None without any). ``cancelled``: annulled or
    cancelled in full by a rectifying invoice; the other states leave those out."""
    conds: list[Any] = []
    if q.status == "cancelled":
        conds.append(Invoice.cancelled == True)  # noqa: E712 (a PynamoDB condition)
    elif q.status:
        conds.append(Invoice.status == q.status)
        conds.append(Invoice.cancelled.does_not_exist() | (Invoice.cancelled == False))  # noqa: E712
    if q.series:
        conds.append(Invoice.series == q.series)
    if q.date_from:
        conds.append(Invoice.issue_date >= q.date_from.isoformat())
    if q.date_to:
        conds.append(Invoice.issue_date <= q.date_to.isoformat())
    if q.number:
        conds.append(Invoice.num_serie.contains(q.number.strip().upper()))
    out = None
    for c in conds:
        out = c if out is None else out & c
    return out


# --- lines ---------------------------------------------------------------------------------


def _set_amounts(inv: Invoice, lines: list[dict[str, Any]]) -> None:
    inv.lines = lines
    inv.breakdown = money.breakdown(lines)
    base = sum((Decimal(ln["base"]) for ln in lines), money.ZERO)
    vat = sum((Decimal(ln["vat"]) for ln in lines), money.ZERO)
    inv.total_base_cents, inv.total_vat_cents = money.cents(base), money.cents(vat)
    inv.total_cents = money.cents(base + vat)


def manual_lines(
    clinic_id: str, lines_in: list[schemas.InvoiceLineIn], *, allow_negative: bool = False
) -> list[dict[str, Any]]:
    treatments = catalog.load_treatments(
        clinic_id, [ln.treatment_id for ln in lines_in if ln.treatment_id]
    )
    vats = catalog.vat_types(clinic_id)
    out, errors = [], []
    for i, ln in enumerate(lines_in):
        t = treatments.get(ln.treatment_id) if ln.treatment_id else None
        if ln.treatment_id and t is None:
            errors.append(
                {
                    "field": f"lines.{i}.treatment_id",
                    "message": tr("unknown treatment", "tratamiento desconocido"),
                }
            )
            continue
        if ln.quantity == 0 or (ln.quantity < 0 and not allow_negative):
            errors.append(
                {
                    "field": f"lines.{i}.quantity",
                    "message": tr("must be greater than 0", "debe ser mayor que 0"),
                }
            )
            continue
        if ln.tooth is not None and ln.tooth not in rules.TEETH:
            errors.append(
                {
                    "field": f"lines.{i}.tooth",
                    "message": tr("not an FDI tooth", "no es una pieza FDI"),
                }
            )
        unit = ln.unit_price if ln.unit_price is not None else (catalog.price_of(t) if t else None)
        description = ln.description or (t.name_es if t else None)
        if unit is None or description is None:
            errors.append(
                {
                    "field": f"lines.{i}",
                    "message": tr(
                        "a line without a treatment needs description and unit_price",
                        "una línea sin tratamiento necesita description y unit_price",
                    ),
                }
            )
            continue
        if unit < 0 and not allow_negative:
            errors.append(
                {
                    "field": f"lines.{i}.unit_price",
                    "message": tr("cannot be negative", "no puede ser negativo"),
                }
            )
            continue
        vat = vats.get(ln.vat_code or (t.vat_code if t else rules.DEFAULT_VAT_CODE))
        if vat is None:
            errors.append(
                {
                    "field": f"lines.{i}.vat_code",
                    "message": tr("unknown VAT type", "tipo de IVA desconocido"),
                }
            )
            continue
        try:
            (a,), _ = money.compute(
                [
                    money.LineInput(
                        ln.quantity,
                        unit,
                        Decimal(vat.rate),
                        ln.discount.kind if ln.discount else None,
                        ln.discount.value if ln.discount else money.ZERO,
                    )
                ]
            )
        except money.MoneyError as exc:
            errors.append({"field": f"lines.{i}.discount", "message": str(exc)})
            continue
        out.append(
            _line(
                t.treatment_id if t else None,
                None,
                t.code if t else None,
                description,
                ln.tooth,
                ln.quantity,
                unit,
                a.discount,
                a.base,
                vat.code,
                vat.rate,
                vat.classification,
            )
        )
    if errors:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."), errors=errors
        )
    return out


def _line(
    treatment_id: str | None,
    budget_line_id: str | None,
    code: str | None,
    description: str,
    tooth: int | None,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    base: Decimal,
    vat_code: str,
    vat_rate: str,
    classification: str,
) -> dict[str, Any]:
    vat = money.vat_of(base, Decimal(vat_rate))
    return {
        "line_id": new_id(),
        "treatment_id": treatment_id,
        "budget_line_id": budget_line_id,
        "code": code,
        "description": description,
        "tooth": tooth,
        "quantity": money.fmt_qty(quantity),
        "unit_price": money.fmt(unit_price),
        "discount": money.fmt(discount),
        "base": money.fmt(base),
        "vat_code": vat_code,
        "vat_rate": vat_rate,
        "classification": classification,
        "vat": money.fmt(vat),
        "total": money.fmt(base + vat),
    }


def _from_budget(
    b: Budget, picks: list[schemas.BudgetLinePick] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Invoice lines for the picked accepted budget lines (default: all that is left) and the
    budget's lines with their invoiced quantity/base moved on."""
    if b.status != "accepted":
        raise Conflict(
            tr(
                f"Only an accepted budget can be invoiced (this one is {b.status}).",
                "Solo se puede facturar un presupuesto aceptado "
                f"(este está {common.budget_status_es(b.status)}).",
            ),
            code="BUDGET_STATE",
        )
    by_id = {ln["line_id"]: dict(ln) for ln in b.lines}
    if picks is None:
        picks = [
            schemas.BudgetLinePick(line_id=ln["line_id"])
            for ln in b.lines
            if ln.get("accepted") and Decimal(ln["invoiced_quantity"]) < Decimal(ln["quantity"])
        ]
        if not picks:
            raise Conflict(
                tr(
                    "Every accepted line of this budget is already invoiced.",
                    "Todas las líneas aceptadas de este presupuesto ya están facturadas.",
                ),
                code="NOTHING_TO_INVOICE",
            )
    out, errors, seen = [], [], set()
    for i, pick in enumerate(picks):
        ln = by_id.get(pick.line_id)
        where = f"budget_lines.{i}"
        if ln is None:
            errors.append(
                {
                    "field": where + ".line_id",
                    "message": tr(
                        "not a line of this budget", "no es una línea de este presupuesto"
                    ),
                }
            )
            continue
        if pick.line_id in seen:
            errors.append(
                {
                    "field": where + ".line_id",
                    "message": tr("line picked twice", "línea elegida dos veces"),
                }
            )
            continue
        seen.add(pick.line_id)
        if not ln.get("accepted"):
            errors.append(
                {
                    "field": where + ".line_id",
                    "message": tr("this line was not accepted", "esta línea no se aceptó"),
                }
            )
            continue
        qty, done = Decimal(ln["quantity"]), Decimal(ln["invoiced_quantity"])
        base, done_base = Decimal(ln["base"]), Decimal(ln["invoiced_base"])
        left = qty - done
        q = pick.quantity if pick.quantity is not None else left
        if left <= 0:
            errors.append(
                {
                    "field": where + ".line_id",
                    "message": tr("already fully invoiced", "ya está facturada por completo"),
                }
            )
            continue
        if q > left:
            errors.append(
                {
                    "field": where + ".quantity",
                    "message": tr(
                        f"only {money.fmt_qty(left)} left to invoice on this line",
                        f"solo quedan {money.fmt_qty(left)} por facturar en esta línea",
                    ),
                }
            )
            continue
        part = base - done_base if q == left else min(money.part_of(base, q, qty), base - done_base)
        unit = Decimal(ln["unit_price"])
        gross = money.q2(q * unit)
        out.append(
            _line(
                ln["treatment_id"],
                ln["line_id"],
                ln["code"],
                ln["description"],
                ln["tooth"],
                q,
                unit,
                gross - part,
                part,
                ln["vat_code"],
                ln["vat_rate"],
                ln["classification"],
            )
        )
        if ln.get("plan_item_id"):  # the chart's plan item, for its invoiced mark (ADR 0604)
            out[-1]["plan_item_id"] = ln["plan_item_id"]
        ln["invoiced_quantity"] = money.fmt_qty(done + q)
        ln["invoiced_base"] = money.fmt(done_base + part)
        by_id[pick.line_id] = ln
    if errors:
        raise Unprocessable(
            tr(
                "Some budget lines cannot be invoiced.",
                "Algunas líneas del presupuesto no se pueden facturar.",
            ),
            errors=errors,
        )
    return out, [by_id[ln["line_id"]] for ln in b.lines]


def _release(b: Budget, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Budget lines with the quantities of these (deleted draft) invoice lines given back."""
    by_id = {ln["line_id"]: dict(ln) for ln in b.lines}
    for il in lines:
        bl = by_id.get(il.get("budget_line_id") or "")
        if bl is None:
            continue
        bl["invoiced_quantity"] = money.fmt_qty(
            Decimal(bl["invoiced_quantity"]) - Decimal(il["quantity"])
        )
        bl["invoiced_base"] = money.fmt(Decimal(bl["invoiced_base"]) - Decimal(il["base"]))
    return [by_id[ln["line_id"]] for ln in b.lines]


# --- drafts --------------------------------------------------------------------------------


def _new_invoice(cid: str, principal: Principal, patient_id: str, series: str) -> Invoice:
    iid = new_id()
    at = now()
    return Invoice(
        *Invoice.key(cid, iid),
        GSI1PK=Invoice.list_pk(cid),
        GSI1SK=iid,
        GSI2PK=Invoice.patient_pk(cid, patient_id),
        GSI2SK=iid,
        invoice_id=iid,
        patient_id=patient_id,
        status="draft",
        kind=SERIES[series],
        series=series,
        description=DEFAULT_DESCRIPTION["es"],
        created_by=principal.user_id,
        created_at=at,
        updated_at=at,
        version=1,
        paid_cents=0,
    )


def _third_party(p: schemas.Party | None) -> dict[str, Any] | None:
    if p is None:
        return None
    tax_id = validators.normalise_id(p.tax_id)
    if not validators.valid_spanish_nif(tax_id):
        raise _bad(
            "third_party.tax_id",
            tr(
                "not a valid Spanish NIF (DNI, NIE or CIF)",
                "no es un NIF español válido (DNI, NIE o CIF)",
            ),
        )
    return {"name": p.name, "tax_id": tax_id, "address": p.address}


def create(principal: Principal, data: schemas.InvoiceIn) -> schemas.InvoiceOut:
    cid = principal.clinic_id
    budget: Budget | None = None
    if data.budget_id:
        from chalicelib.billing import budgets

        budget = budgets.load(cid, data.budget_id, consistent=True)
        if data.patient_id and data.patient_id != budget.patient_id:
            raise _bad(
                "patient_id",
                tr("the budget belongs to another patient", "el presupuesto es de otro paciente"),
            )
        patient_id = budget.patient_id
        if data.lines:
            raise _bad(
                "lines",
                tr(
                    "an invoice from a budget takes budget_lines, not lines",
                    "una factura de un presupuesto lleva budget_lines, no lines",
                ),
            )
    else:
        if not data.patient_id:
            raise _bad(
                "patient_id",
                tr("give the patient (or a budget)", "indica el paciente (o un presupuesto)"),
            )
        if not data.lines:
            raise _bad(
                "lines",
                tr(
                    "give at least one line (or a budget)",
                    "añade al menos una línea (o un presupuesto)",
                ),
            )
        if data.budget_lines:
            raise _bad(
                "budget_lines", tr("budget_lines need budget_id", "budget_lines necesita budget_id")
            )
        patient_id = data.patient_id
    common.patient(cid, patient_id)
    inv = _new_invoice(cid, principal, patient_id, ORDINARY_SERIES)
    inv.third_party = _third_party(data.third_party)
    inv.art4_2 = data.art4_2
    inv.notes = data.notes
    inv.operation_date = data.operation_date.isoformat() if data.operation_date else None
    if data.description:
        inv.description = data.description
    if budget is not None:
        lines, budget_lines = _from_budget(budget, data.budget_lines)
        _set_amounts(inv, lines)
        inv.budget_id = budget.budget_id
        inv.GSI3PK, inv.GSI3SK = Invoice.budget_pk(cid, budget.budget_id), inv.invoice_id
        if not data.description and budget.title:
            inv.description = budget.title[:500]
        old = int(budget.version)
        budget.lines = budget_lines
        budget.version = old + 1
        budget.updated_at = now()
    else:
        _set_amounts(inv, manual_lines(cid, data.lines or []))
    try:
        with transaction() as tx:
            tx.save(inv, condition=Invoice.SK.does_not_exist())
            if budget is not None:
                # The budget's invoiced quantities move with the draft: a concurrent invoice
                # of the same lines loses this condition instead of invoicing them twice.
                tx.save(budget, condition=(Budget.version == old) & (Budget.status == "accepted"))
            tx.save(_audit(principal, inv, "billing.invoice.created"))
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The budget changed meanwhile (lines invoiced by someone else?); reload and retry.",
                "El presupuesto ha cambiado mientras tanto (¿alguien ha facturado esas líneas?); "
                "recarga y vuelve a intentarlo.",
            ),
            code="BUDGET_CONFLICT",
        ) from exc
    events.publish(
        "invoice.created",
        cid,
        principal.actor,
        invoice_id=inv.invoice_id,
        patient_id=patient_id,
        budget_id=inv.budget_id,
        total=money.fmt(int(inv.total_cents)),
    )
    return invoice_out(inv)


def _audit(principal: Principal, inv: Invoice, action: str, **after: Any) -> Any:
    return audit.entry(
        inv.PK.removeprefix("C#"),
        principal.actor,
        action,
        "invoice",
        inv.invoice_id,
        after={"status": inv.status, "total": money.fmt(int(inv.total_cents)), **after},
    )


def update(
    principal: Principal, invoice_id: str, data: schemas.InvoiceUpdate
) -> schemas.InvoiceOut:
    cid = principal.clinic_id
    inv = load(cid, invoice_id, consistent=True)
    if inv.status != "draft":
        raise _immutable(inv)
    fields = data.model_fields_set
    if data.lines is not None:
        if inv.budget_id or inv.kind == "rectifying":
            raise Conflict(
                tr(
                    "The lines of this draft come from a budget or an invoice it rectifies; delete "
                    "the draft and create it again.",
                    "Las líneas de este borrador vienen de un presupuesto o de la factura que "
                    "rectifica; borra el borrador y vuelve a crearlo.",
                ),
                code="LINES_LOCKED",
            )
        _set_amounts(inv, manual_lines(cid, data.lines))
    if data.clear_third_party:
        inv.third_party = None
    elif data.third_party is not None:
        inv.third_party = _third_party(data.third_party)
    if data.description:
        inv.description = data.description
    if "notes" in fields:
        inv.notes = data.notes
    if "operation_date" in fields:
        inv.operation_date = data.operation_date.isoformat() if data.operation_date else None
    if data.art4_2 is not None:
        inv.art4_2 = data.art4_2
    old = int(inv.version)
    inv.version, inv.updated_at = old + 1, now()
    try:
        with transaction() as tx:
            tx.save(inv, condition=(Invoice.version == old) & (Invoice.status == "draft"))
            tx.save(_audit(principal, inv, "billing.invoice.updated"))
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The invoice changed meanwhile; reload it.",
                "La factura ha cambiado mientras tanto; recárgala.",
            ),
            code="INVOICE_CONFLICT",
        ) from exc
    return invoice_out(inv)


def delete(principal: Principal, invoice_id: str) -> None:
    """Only a draft can be deleted (it gives its budget quantities back)."""
    cid = principal.clinic_id
    inv = load(cid, invoice_id, consistent=True)
    if inv.status != "draft":
        raise _immutable(inv)
    budget = None
    if inv.budget_id:
        from chalicelib.billing import budgets

        budget = budgets.load(cid, inv.budget_id, consistent=True)
        old_b = int(budget.version)
        budget.lines = _release(budget, inv.lines)
        budget.version, budget.updated_at = old_b + 1, now()
    try:
        with transaction() as tx:
            tx.delete(inv, condition=(Invoice.version == inv.version) & (Invoice.status == "draft"))
            if budget is not None:
                tx.save(budget, condition=Budget.version == old_b)
            tx.save(_audit(principal, inv, "billing.invoice.deleted"))
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The invoice changed meanwhile; reload it.",
                "La factura ha cambiado mientras tanto; recárgala.",
            ),
            code="INVOICE_CONFLICT",
        ) from exc


# --- customer and issuer -------------------------------------------------------------------


def _patient_customer(cid: str, patient_id: str) -> dict[str, Any]:
    p = issue_read(Patient, Patient.key(cid, patient_id)) or common.patient(cid, patient_id)
    number = open_sealed(cid, p.national_id_sealed) if p.national_id_sealed else None
    kind = (p.national_id_type or "").lower()
    tax_id_type = None
    if number:
        if kind in ("dni", "nie") or validators.valid_spanish_nif(number):
            tax_id_type = "NIF"
        elif kind == "passport":
            tax_id_type = "PASSPORT"
        else:
            tax_id_type = "OTHER"
    return {
        "kind": "patient",
        "patient_id": patient_id,
        "name": common.patient_name(p),
        "tax_id": number,
        "tax_id_type": tax_id_type,
        # Unknown stays unknown: the AEAT needs the country of a non-Spanish document (error
        # 1111), and guessing Spain makes a foreign patient's record invalid (1126).
        "country": (p.address or {}).get("country") or None,
        "address": p.address,
    }


def _customer(cid: str, inv: Invoice) -> dict[str, Any]:
    if inv.third_party:
        return {
            "kind": "third_party",
            "patient_id": inv.patient_id,
            "name": inv.third_party["name"],
            "tax_id": inv.third_party["tax_id"],
            "tax_id_type": "NIF",
            "country": ((inv.third_party.get("address") or {}).get("country") or "ES"),
            "address": inv.third_party.get("address"),
        }
    return _patient_customer(cid, inv.patient_id)


def issuer_nif(clinic: Clinic) -> str | None:
    """The issuer's NIF as invoices carry it (``issuer.tax_id``), None while the clinic has none."""
    return validators.normalise_id(clinic.tax_id) if clinic.tax_id else None


def _issuer(clinic: Clinic) -> dict[str, Any]:
    if not clinic.tax_id:
        raise Unprocessable(
            tr(
                "The clinic's NIF is missing: set it in the clinic profile before issuing "
                "invoices.",
                "Falta el NIF de la clínica: añádelo en el perfil de la clínica antes de emitir "
                "facturas.",
            ),
            errors=[
                {
                    "field": "clinic.tax_id",
                    "message": tr("required to issue invoices", "obligatorio para emitir facturas"),
                }
            ],
            code="ISSUER_INCOMPLETE",
        )
    return {
        "name": clinic.name,
        "legal_name": clinic.legal_name or clinic.name,
        "tax_id": issuer_nif(clinic),
        "address": clinic.address,
    }


# --- issue ---------------------------------------------------------------------------------


def _prepare(cid: str, inv: Invoice, clinic: Clinic) -> list[Invoice]:
    """Fill what issuing fixes (issuer, customer, type) and return the invoices a rectifying
    invoice references, updated; raises 422/409 when the invoice cannot be issued."""
    if not inv.lines:
        raise _bad(
            "lines",
            tr("an invoice needs at least one line", "una factura necesita al menos una línea"),
        )
    inv.issuer = _issuer(clinic)
    total = money.from_cents(int(inv.total_cents))
    originals: list[Invoice] = []
    if inv.kind == "rectifying":
        for ref in inv.rectifies or []:
            o = issue_read(Invoice, Invoice.key(cid, ref["invoice_id"]))
            if o is None:
                o = load(cid, ref["invoice_id"], consistent=True)  # its 404
            if o.status == "draft":
                raise Conflict(
                    tr(
                        "The rectified invoice is not issued.",
                        "La factura rectificada no está emitida.",
                    ),
                    code="INVOICE_STATE",
                )
            if o.cancelled:
                raise Conflict(
                    tr(
                        f"Invoice {o.num_serie} is already cancelled; this draft can only be "
                        "deleted.",
                        f"La factura {o.num_serie} ya está anulada; este borrador solo se puede "
                        "borrar.",
                    ),
                    code="INVOICE_CANCELLED",
                )
            o.rectified_by = [*(o.rectified_by or []), inv.invoice_id]
            if inv.rectification_mode == "S":
                o.cancelled = True
            else:
                o.differences_cents = int(o.differences_cents or 0) + int(inv.total_cents)
                o.cancelled = int(o.total_cents) + int(o.differences_cents) == 0
            o.status = payment_status(due_cents(o), int(o.paid_cents))
            originals.append(o)
        first = originals[0]
        inv.customer = dict(first.customer or _customer(cid, inv))
        inv.tipo_factura = rules.rectifying_type(
            first.tipo_factura or "F1", inv.rectification_code or "R4"
        )
        # The code is the type: a rectifying invoice of a simplified one is R5 in its record,
        # on its model and on its PDF alike (a draft made before this rule said R1-R4).
        inv.rectification_code = inv.tipo_factura
    else:
        if total <= 0:
            raise _bad(
                "lines",
                tr(
                    "an ordinary invoice must have a positive total",
                    "una factura ordinaria debe tener un total positivo",
                ),
            )
        inv.customer = _customer(cid, inv)
        inv.tipo_factura = rules.invoice_type(
            total, inv.customer.get("tax_id"), art4_2=bool(inv.art4_2)
        )
        if inv.tipo_factura == "F1" and not inv.customer.get("tax_id"):
            raise Unprocessable(
                tr(
                    f"A full invoice (total {money.fmt_eur(total)}, above the "
                    f"{money.fmt_eur(rules.SIMPLIFIED_LIMIT)} of a simplified one) needs the "
                    "customer's tax id: add the patient's national id or bill a third party.",
                    f"Una factura completa (total {money.fmt_eur(total)}, por encima de los "
                    f"{money.fmt_eur(rules.SIMPLIFIED_LIMIT)} de una simplificada) necesita el "
                    "NIF del cliente: añade el NIF del paciente o factura a un tercero.",
                ),
                errors=[
                    {
                        "field": "customer.tax_id",
                        "message": tr(
                            "required for a full invoice", "obligatorio en una factura completa"
                        ),
                    }
                ],
                code="CUSTOMER_TAX_ID_REQUIRED",
            )
    if inv.tipo_factura in ("F2", "R5"):
        # Simplified: the customer is not identified (F2 chosen only without a tax id).
        pass
    return originals


def undo_rectification(cid: str, inv: Invoice) -> list[Invoice]:
    """The invoices a rectifying ``inv`` changed when it was issued, as they are without it:
    what annulling it (a rectifying invoice issued by mistake) writes back, in the annulment's
    own transaction. The inverse of ``_prepare``: the original is no longer rectified by it, one
    replaced by substitution is in force again, and differences no longer move what it asks."""
    originals: list[Invoice] = []
    if inv.kind != "rectifying":
        return originals
    for ref in inv.rectifies or []:
        o = load(cid, ref["invoice_id"], consistent=True)
        o.rectified_by = [r for r in o.rectified_by or [] if r != inv.invoice_id] or None
        if inv.rectification_mode == "S":
            o.cancelled = False
        else:
            o.differences_cents = int(o.differences_cents or 0) - int(inv.total_cents)
            o.cancelled = int(o.total_cents) + int(o.differences_cents) == 0
        o.status = payment_status(due_cents(o), int(o.paid_cents))
        originals.append(o)
    return originals


def _issue_attempt(
    principal: Principal,
    inv: Invoice,
    clinic: Clinic,
    counter: Counter | None,
    key: tuple[str, str],
    at: Any,
    today: date,
    ours: set[str],
) -> bool:
    """One try at the issue transaction from what was read; False when it lost a race."""
    cid = clinic.clinic_id
    originals = _prepare(cid, inv, clinic)
    ours.add(at.isoformat())
    last = int(counter.last) if counter is not None else 0
    if counter is None:
        counter = Counter(*key, last=0)
    n = last + 1
    old = int(inv.version)
    inv.year, inv.number = today.year, n
    inv.num_serie = num_serie(inv.series, today.year, n)
    inv.issue_date, inv.issued_at = today.isoformat(), at
    inv.status, inv.version, inv.updated_at = "issued", old + 1, at
    try:
        with transaction() as tx:
            counter.last = n
            if last == 0:
                tx.save(counter, condition=Counter.SK.does_not_exist() | (Counter.last == 0))
            else:
                tx.save(counter, condition=Counter.last == last)
            tx.save(inv, condition=(Invoice.version == old) & (Invoice.status == "draft"))
            for o in originals:
                ov = int(o.version)
                o.version = ov + 1
                tx.save(o, condition=Invoice.version == ov)
            # What the end-of-day email totals: one entry under the day it was issued.
            day = InvoiceIssuedOn(
                *InvoiceIssuedOn.key(cid, inv.issue_date, inv.invoice_id),
                invoice_id=inv.invoice_id,
                num_serie=inv.num_serie,
                total_cents=int(inv.total_cents),
            )
            tx.save(day, condition=InvoiceIssuedOn.SK.does_not_exist())
            tx.save(
                _audit(
                    principal,
                    inv,
                    "billing.invoice.issued",
                    num_serie=inv.num_serie,
                    tipo_factura=inv.tipo_factura,
                )
            )
            for hook in ISSUE_HOOKS:
                hook(tx, inv, clinic)
    except TransactWriteError:
        return False
    return True


def _issue_keys(
    cid: str, inv: Invoice, clinic: Clinic, counter_key: tuple[str, str]
) -> list[tuple[str, str]]:
    """What an attempt reads after the clinic and the invoice (see the module doc)."""
    keys = [counter_key]
    if inv.kind == "rectifying":
        keys += [Invoice.key(cid, ref["invoice_id"]) for ref in inv.rectifies or []]
    elif not inv.third_party:
        keys.append(Patient.key(cid, inv.patient_id))
    for reads in ISSUE_READS:
        keys += reads(inv, clinic)
    return keys


def issue(principal: Principal, invoice_id: str) -> schemas.InvoiceOut:
    """draft -> issued: number, date, customer and type fixed for good (see module doc)."""
    cid = principal.clinic_id
    plugins()
    ours: set[str] = set()  # issued_at of our attempts: an ambiguous failure may have committed
    for attempt in range(ISSUE_ATTEMPTS):
        first = _batch_read([Clinic.key(cid), Invoice.key(cid, invoice_id)])
        clinic = first[Clinic.key(cid)] or common.clinic(cid)  # its 404
        inv = first[Invoice.key(cid, invoice_id)] or load(cid, invoice_id, consistent=True)
        if inv.status != "draft":
            if inv.issued_at is not None and inv.issued_at.isoformat() in ours:
                break  # our previous attempt committed although its answer was an error
            raise _immutable(inv)
        at = now()
        today = common.local_today(clinic.time_zone, at)
        key = Counter.invoice_key(cid, inv.series, today.year)
        reads = _batch_read(_issue_keys(cid, inv, clinic, key))
        token = _issue_reads.set(reads)
        try:
            if _issue_attempt(principal, inv, clinic, reads[key], key, at, today, ours):
                break
        finally:
            _issue_reads.reset(token)
        time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))  # noqa: S311
    else:
        raise Conflict(
            tr(
                "Too many invoices are being issued at once; try again.",
                "Se están emitiendo demasiadas facturas a la vez; inténtalo de nuevo.",
            ),
            code="BUSY",
        )
    events.publish(
        "invoice.issued",
        cid,
        principal.actor,
        invoice_id=inv.invoice_id,
        patient_id=inv.patient_id,
        num_serie=inv.num_serie,
        tipo_factura=inv.tipo_factura,
        issue_date=inv.issue_date,
        total=money.fmt(int(inv.total_cents)),
        rectifies=[r["invoice_id"] for r in inv.rectifies or []],
    )
    return invoice_out(inv)


# --- rectifying ----------------------------------------------------------------------------


def rectify(principal: Principal, invoice_id: str, data: schemas.RectifyIn) -> schemas.InvoiceOut:
    """A draft rectifying invoice (series R) referencing an issued one. Mode I (por
    diferencias): its lines are the differences; without lines it cancels the original (every
    line negated). Mode S (por sustitución): its lines are the corrected invoice, and it
    records the original's base and VAT (ImporteRectificacion)."""
    cid = principal.clinic_id
    o = load(cid, invoice_id, consistent=True)
    if o.status == "draft":
        raise Conflict(
            tr(
                "A draft is edited or deleted, not rectified.",
                "Un borrador se edita o se borra, no se rectifica.",
            ),
            code="INVOICE_STATE",
        )
    if o.cancelled:
        raise Conflict(
            tr(
                "This invoice is already cancelled by a rectifying invoice.",
                "Esta factura ya está anulada por una factura rectificativa.",
            ),
            code="INVOICE_CANCELLED",
        )
    if o.kind == "rectifying" and o.rectification_mode != "S":
        raise Conflict(
            tr(
                "A rectifying invoice by differences is corrected by rectifying the invoice it "
                f"rectifies ({o.rectifies[0]['num_serie'] if o.rectifies else 'the original'}).",
                "Una factura rectificativa por diferencias se corrige rectificando la factura "
                f"que rectifica ({o.rectifies[0]['num_serie'] if o.rectifies else 'la original'}).",
            ),
            code="INVOICE_STATE",
        )
    if o.rectified_by and (data.mode == "S" or not data.lines):
        raise Conflict(
            tr(
                f"Invoice {o.num_serie} already has rectifying invoices: rectify it again by "
                "differences, giving the lines of the difference.",
                f"La factura {o.num_serie} ya tiene facturas rectificativas: vuelve a "
                "rectificarla por diferencias, con las líneas de la diferencia.",
            ),
            code="INVOICE_RECTIFIED",
        )
    inv = _new_invoice(cid, principal, o.patient_id, RECTIFYING_SERIES)
    if data.lines:
        lines = manual_lines(cid, data.lines, allow_negative=data.mode == "I")
    elif data.mode == "I":
        lines = [
            {
                **ln,
                "line_id": new_id(),
                "quantity": money.fmt_qty(-Decimal(ln["quantity"])),
                "discount": money.fmt(-Decimal(ln["discount"])),
                "base": money.fmt(-Decimal(ln["base"])),
                "vat": money.fmt(-Decimal(ln["vat"])),
                "total": money.fmt(-Decimal(ln["total"])),
            }
            for ln in o.lines
        ]
    else:
        raise _bad(
            "lines",
            tr(
                "a rectifying invoice by substitution needs the corrected lines",
                "una factura rectificativa por sustitución necesita las líneas corregidas",
            ),
        )
    _set_amounts(inv, lines)
    inv.third_party = o.third_party
    inv.description = f"Rectificación de {o.num_serie}: {data.reason}"[:500]
    inv.rectifies = [
        {"invoice_id": o.invoice_id, "num_serie": o.num_serie, "issue_date": o.issue_date}
    ]
    # R5 whenever the original is simplified (F2, or an R5 itself): the code asked (R1-R4)
    # describes a full invoice's cause and does not apply (rules.rectifying_type).
    inv.rectification_code = rules.rectifying_type(o.tipo_factura or "F1", data.code)
    inv.rectification_mode = data.mode
    inv.rectification_reason = data.reason
    if data.mode == "S":
        inv.rectified_amount = {
            "base": money.fmt(int(o.total_base_cents)),
            "cuota": money.fmt(int(o.total_vat_cents)),
        }
    with transaction() as tx:
        tx.save(inv, condition=Invoice.SK.does_not_exist())
        tx.save(_audit(principal, inv, "billing.invoice.created", rectifies=o.num_serie))
    events.publish(
        "invoice.created",
        cid,
        principal.actor,
        invoice_id=inv.invoice_id,
        patient_id=inv.patient_id,
        rectifies=o.invoice_id,
        total=money.fmt(int(inv.total_cents)),
    )
    return invoice_out(inv)


# --- AEAT view and PDF ---------------------------------------------------------------------


def aeat_fields(inv: Invoice) -> dict[str, Any]:
    """The issued invoice in AEAT names, ready for ``verifactu.records.RegistroAlta`` (add
    Encadenamiento, SistemaInformatico and FechaHoraHusoGenRegistro). Amounts/dates as the
    canonical text the record stores ("123.10", dd-mm-yyyy)."""
    if inv.status == "draft" or not inv.issuer or not inv.customer:
        raise ValueError("only issued invoices map to a registro")
    d = date.fromisoformat(inv.issue_date or "")
    desglose = []
    for b in inv.breakdown:
        cls = b["classification"]
        line: dict[str, Any] = {
            "Impuesto": "01",
            "ClaveRegimen": "01",
            "BaseImponibleOimporteNoSujeto": b["base"],
        }
        if cls in rules.EXEMPT:
            line["OperacionExenta"] = cls
        else:
            line["CalificacionOperacion"] = cls
            if cls in ("S1", "S2"):
                line["TipoImpositivo"] = b["rate"]
                line["CuotaRepercutida"] = b["vat"]
        desglose.append(line)
    out: dict[str, Any] = {
        "IDFactura": {
            "IDEmisorFactura": inv.issuer["tax_id"],
            "NumSerieFactura": inv.num_serie,
            "FechaExpedicionFactura": d.strftime("%d-%m-%Y"),
        },
        "NombreRazonEmisor": inv.issuer["legal_name"][:120],
        "TipoFactura": inv.tipo_factura,
        "DescripcionOperacion": inv.description[:500],
        "Desglose": desglose,
        "CuotaTotal": money.fmt(int(inv.total_vat_cents)),
        "ImporteTotal": money.fmt(int(inv.total_cents)),
    }
    if inv.operation_date and inv.operation_date != inv.issue_date:
        out["FechaOperacion"] = date.fromisoformat(inv.operation_date).strftime("%d-%m-%Y")
    c = inv.customer
    if inv.tipo_factura not in ("F2", "R5") and c.get("tax_id"):
        if c.get("tax_id_type") == "NIF":
            dest = {"NombreRazon": c["name"][:120], "NIF": c["tax_id"]}
        else:
            dest = {
                "NombreRazon": c["name"][:120],
                "IDOtro": {
                    "CodigoPais": (c.get("country") or None),
                    "IDType": "03" if c.get("tax_id_type") == "PASSPORT" else "06",
                    "ID": c["tax_id"],
                },
            }
        out["Destinatarios"] = [dest]
    if inv.kind == "rectifying":
        out["TipoRectificativa"] = inv.rectification_mode
        out["FacturasRectificadas"] = [
            {
                "IDEmisorFactura": inv.issuer["tax_id"],
                "NumSerieFactura": r["num_serie"],
                "FechaExpedicionFactura": date.fromisoformat(r["issue_date"]).strftime("%d-%m-%Y"),
            }
            for r in inv.rectifies or []
        ]
        if inv.rectification_mode == "S":
            out["ImporteRectificacion"] = {
                "BaseRectificada": inv.rectified_amount["base"],
                "CuotaRectificada": inv.rectified_amount["cuota"],
            }
    return out


def pdf_bytes(clinic_id: str, invoice_id: str, qr_url: str | None = None) -> bytes:
    from chalicelib.billing import pdf  # lazy: reportlab stays out of the API cold start

    plugins()
    inv = load(clinic_id, invoice_id)
    clinic = common.clinic(clinic_id)
    if qr_url is None and QR_URL_PROVIDER is not None and inv.status != "draft":
        qr_url = QR_URL_PROVIDER(inv, clinic)
    return pdf.invoice_pdf(inv, clinic, qr_url=qr_url)


# --- email to the patient ------------------------------------------------------------------

EMAILS_PER_INVOICE_PER_HOUR = 5
EMAILS_PER_CLINIC_PER_HOUR = 200


def email(
    principal: Principal, invoice_id: str, data: schemas.InvoiceEmailIn
) -> schemas.InvoiceEmailOut:
    """Email the invoice's PDF to the patient (or to the address given): refused for a draft
    (it is not an invoice yet), for a patient without an email, and for an address that
    bounced before. Rate-limited per invoice and per clinic, audited without the address."""
    from chalicelib.comms import templates  # noqa: PLC0415
    from chalicelib.core import mail, ratelimit  # noqa: PLC0415

    cid = principal.clinic_id
    inv = load(cid, invoice_id)
    if inv.status == "draft":
        raise Conflict(
            tr(
                "A draft is not an invoice yet: issue it before sending it to the patient.",
                "Un borrador aún no es una factura: emítela antes de enviarla al paciente.",
            ),
            code="INVOICE_STATE",
        )
    patient = common.patient(cid, inv.patient_id)
    to = (str(data.to) if data.to else patient.email or "").strip()
    if not to:
        raise Unprocessable(
            tr(
                "This patient has no email address: add one to their record, or type the "
                "address to send it to.",
                "Este paciente no tiene correo electrónico: añádelo a su ficha o escribe la "
                "dirección a la que enviarla.",
            ),
            errors=[
                {
                    "field": "to",
                    "message": tr("the patient has no email", "el paciente no tiene correo"),
                }
            ],
            code="PATIENT_NO_EMAIL",
        )
    undeliverable = Conflict(
        tr(
            "Email to this address bounced before: check it on the patient's record.",
            "Los correos a esta dirección se han devuelto antes: revísala en la ficha del "
            "paciente.",
        ),
        code="EMAIL_UNDELIVERABLE",
    )
    if mail.is_undeliverable(to):
        raise undeliverable
    busy = tr(
        "This invoice was sent too many times in the last hour; try again later.",
        "Esta factura se ha enviado demasiadas veces en la última hora; inténtalo más tarde.",
    )
    ratelimit.hit(
        "invoice-email",
        f"{cid}#{invoice_id}",
        limit=EMAILS_PER_INVOICE_PER_HOUR,
        window_s=3600,
        message=busy,
    )
    ratelimit.hit(
        "invoice-email-clinic",
        cid,
        limit=EMAILS_PER_CLINIC_PER_HOUR,
        window_s=3600,
        message=busy,
    )
    clinic = common.clinic(cid)
    pdf = pdf_bytes(cid, invoice_id)
    lang = templates.lang_of(patient.language)
    number = inv.num_serie or ""
    total = money.fmt_eur(money.from_cents(int(inv.total_cents)))
    if lang == "en":
        subject = f"Invoice {number} from {clinic.name}"
        intro = f"Dear {patient.first_name}, attached is invoice {number} ({total})."
    else:
        subject = f"Factura {number} de {clinic.name}"
        intro = f"Hola, {patient.first_name}: le enviamos adjunta la factura {number} ({total})."
    message_id = common.email_pdf(
        clinic,
        to=to,
        lang=lang,
        subject=subject,
        intro=intro,
        attachment=(f"factura-{number}.pdf", pdf),
        undeliverable=undeliverable,
    )
    to_patient = to.lower() == (patient.email or "").strip().lower()
    audit.record(
        cid,
        principal.actor,
        "billing.invoice.emailed",
        "invoice",
        inv.invoice_id,
        after={"num_serie": inv.num_serie, "to_patient_email": to_patient},
    )
    return schemas.InvoiceEmailOut(sent_to=to, message_id=message_id)
