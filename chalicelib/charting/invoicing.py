"""Billing hears the plan: an invoice issued for a budget line that prices a plan item marks
that item invoiced, in the invoice's own issue transaction, and takes it off the front desk's
list of completed treatments not yet invoiced (ADR 0604).

The link travels with the lines: a budget made from the plan stores each item's id on its line
(``plan_item_id``), and an invoice drafted from that budget copies it onto its own line. So the
hook reads nothing: one conditional update per linked line (a budget from the plan has at most
50 lines), and an invoice with no linked line adds no write at all.
"""

from __future__ import annotations

from typing import Any

from chalicelib.charting.models import PlanItem


def mark_invoiced(tx: Any, inv: Any, clinic: Any) -> None:
    """An ``ISSUE_HOOKS`` hook of ``billing.invoices``."""
    if getattr(inv, "kind", "ordinary") != "ordinary":
        return
    ids = list(
        dict.fromkeys(ln["plan_item_id"] for ln in inv.lines or [] if ln.get("plan_item_id"))
    )
    for item_id in ids[:50]:
        key = PlanItem.key(clinic.clinic_id, inv.patient_id, item_id)
        tx.update(
            PlanItem(*key),
            actions=[
                PlanItem.invoiced.set(True),
                PlanItem.invoice_id.set(inv.invoice_id),
                PlanItem.version.add(1),
                PlanItem.GSI3PK.remove(),
                PlanItem.GSI3SK.remove(),
            ],
            condition=PlanItem.SK.exists(),
        )


def register() -> None:
    """Plug into billing (idempotent)."""
    from chalicelib.billing import invoices  # noqa: PLC0415

    if mark_invoiced not in invoices.ISSUE_HOOKS:
        invoices.ISSUE_HOOKS.append(mark_invoiced)
