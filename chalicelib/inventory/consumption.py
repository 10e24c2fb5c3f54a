"""Stock consumed by completed treatments (the ``inventory`` queue,
functions/inventory_consumer.py).

A ``treatment.completed`` event names the plan item and the catalog treatment; the treatment's
catalog entry lists its materials (inventory item id and units). Each material is consumed
once per completed plan item: the movement is written together with an ``InventoryUse``
marker conditioned on not existing, so a redelivered event consumes nothing twice. A treatment
already done consumes what is in stock and records the rest as short (never below zero).
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.billing.models import Treatment
from chalicelib.core.errors import NotFound
from chalicelib.inventory import stock


def on_treatment_completed(detail: dict[str, Any]) -> str:
    """The outcome for the log: consumed, already, no-materials or skipped."""
    cid = detail.get("clinic_id")
    plan_item_id = detail.get("plan_item_id")
    treatment_id = detail.get("treatment_id")
    if not (cid and plan_item_id and treatment_id):
        return "skipped"
    try:
        t = Treatment.get(*Treatment.key(cid, treatment_id))
    except DoesNotExist:
        return "skipped"
    materials = list(getattr(t, "materials", None) or [])
    if not materials:
        return "no-materials"
    actor = detail.get("actor") or {"type": "system", "id": "system"}
    actor = {k: actor.get(k) for k in ("type", "id", "name")}
    done = 0
    for m in materials:
        try:
            out = stock.consume_for_treatment(
                cid,
                actor,
                str(m["item_id"]),
                int(m["quantity"]),
                plan_item_id=plan_item_id,
                treatment_id=treatment_id,
                patient_id=detail.get("patient_id"),
            )
        except NotFound:
            continue  # an item deleted from the catalog's materials since: nothing to consume
        if out is not None:
            done += 1
    return "consumed" if done else "already"
