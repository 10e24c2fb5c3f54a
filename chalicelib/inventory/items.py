"""Inventory items: create, edit, archive, the list (by name, a name or SKU prefix, below the
reorder threshold) and the lots that expire soon. Every list is one Query of its own index
(models.py), never read-and-discard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.billing import money
from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import Item, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.inventory import schemas
from chalicelib.inventory.common import (
    clinic_today,
    item_out,
    live_lots,
    load_item,
    load_items,
    lot_out,
)
from chalicelib.inventory.models import InventoryItem, InventoryLot, InventorySku, search_key


def _sku_taken(sku: str) -> Conflict:
    return Conflict(
        tr(
            f"An item with SKU {sku} already exists.",
            f"Ya existe un artículo con la referencia (SKU) {sku}.",
        ),
        code="SKU_TAKEN",
    )


def _changed() -> Conflict:
    return Conflict(
        tr(
            "The item changed meanwhile; reload and try again.",
            "El artículo ha cambiado mientras tanto; recárgalo y vuelve a intentarlo.",
        ),
        code="ITEM_CHANGED",
    )


def _sku_entry(clinic_id: str, item: InventoryItem) -> InventorySku:
    s = InventorySku(*InventorySku.key(clinic_id, item.sku), item_id=item.item_id)
    s.index(clinic_id, item.sku, bool(item.archived))
    return s


def create_item(principal: Principal, data: schemas.ItemIn) -> schemas.ItemOut:
    cid = principal.clinic_id
    iid, at = new_id(), now()
    item = InventoryItem(
        *InventoryItem.key(cid, iid),
        item_id=iid,
        name=data.name,
        sku=data.sku.upper(),
        unit=data.unit,
        category=data.category or None,
        supplier=data.supplier or None,
        lab=data.lab or None,
        reorder_threshold=data.reorder_threshold,
        reorder_quantity=data.reorder_quantity,
        cost_cents=money.cents(data.cost) if data.cost is not None else None,
        stock=0,
        alerted=False,
        archived=False,
        created_at=at,
        updated_at=at,
        version=1,
    )
    item.index(cid)
    try:
        with transaction() as tx:
            tx.save(_sku_entry(cid, item), condition=InventorySku.SK.does_not_exist())
            tx.save(item, condition=InventoryItem.SK.does_not_exist())
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "inventory.item.created",
                    "inventory_item",
                    iid,
                    after={"name": item.name, "sku": item.sku},
                )
            )
    except TransactWriteError as exc:
        raise _sku_taken(item.sku) from exc
    events.publish("inventory.item_created", cid, principal.actor, item_id=iid)
    return item_out(item, [])


def get_item(principal: Principal, item_id: str) -> schemas.ItemOut:
    cid = principal.clinic_id
    return item_out(load_item(cid, item_id), live_lots(cid, item_id))


def update_item(principal: Principal, item_id: str, data: schemas.ItemUpdate) -> schemas.ItemOut:
    cid = principal.clinic_id
    item = load_item(cid, item_id)
    before = item_out(item).model_dump(mode="json")
    changes = data.model_dump(exclude_unset=True)
    old_sku, old_archived = item.sku, bool(item.archived)
    for k, v in changes.items():
        if k == "cost":
            item.cost_cents = money.cents(v) if v is not None else None
        elif k == "sku":
            item.sku = v.upper()
        elif k in ("category", "supplier", "lab"):
            setattr(item, k, v or None)
        else:
            setattr(item, k, v)
    # A new threshold never sends an alert by itself (ADR 1202); stock at or above it again
    # re-arms the alert.
    if int(item.stock) >= int(item.reorder_threshold):
        item.alerted = False
    old_version = int(item.version)
    item.version = old_version + 1
    item.updated_at = now()
    item.index(cid)
    after = item_out(item).model_dump(mode="json")
    skip = ("updated_at", "version", "lots", "low", "stock")
    try:
        with transaction() as tx:
            tx.save(item, condition=InventoryItem.version == old_version)
            if item.sku != old_sku:
                tx.delete(InventorySku(*InventorySku.key(cid, old_sku)))
                tx.save(_sku_entry(cid, item), condition=InventorySku.SK.does_not_exist())
            elif bool(item.archived) != old_archived:
                tx.save(_sku_entry(cid, item))
            changed = {
                "before": {k: v for k, v in before.items() if k not in skip},
                "after": {k: v for k, v in after.items() if k not in skip},
            }
            if item.archived and not old_archived:
                entry = audit.entry(
                    cid,
                    principal.actor,
                    "inventory.item.archived",
                    "inventory_item",
                    item_id,
                    **changed,
                )
            else:
                entry = audit.entry(
                    cid,
                    principal.actor,
                    "inventory.item.updated",
                    "inventory_item",
                    item_id,
                    **changed,
                )
            tx.save(entry)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if item.sku != old_sku and len(reasons) > 2 and reasons[2] is not None:
            raise _sku_taken(item.sku) from exc
        raise _changed() from exc
    events.publish("inventory.item_updated", cid, principal.actor, item_id=item_id)
    return item_out(item, live_lots(cid, item_id))


def list_items(principal: Principal, q: schemas.ItemQuery) -> Page:
    cid = principal.clinic_id
    if q.below:
        pk = InventoryItem.low_pk(cid)
        start = decode_cursor(q.cursor, partition=("GSI2PK", pk))
        cond = InventoryItem.GSI2SK.startswith(search_key(q.q)) if q.q else None
        it: Any = InventoryItem.gsi2.query(pk, cond, limit=q.limit, last_evaluated_key=start)
        items = [item_out(i) for i in it if isinstance(i, InventoryItem)]
        return Page(items, encode_cursor(it.last_evaluated_key))
    if q.q:
        pk = InventoryItem.search_pk(cid, q.archived)
        start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
        # Item, not InventoryItem: the partition holds the SKU entries too (a subclass's Query
        # would filter them out after reading them).
        it = Item.gsi1.query(
            pk, Item.GSI1SK.startswith(search_key(q.q)), limit=q.limit, last_evaluated_key=start
        )
        hits = [h for h in it if isinstance(h, InventoryItem | InventorySku)]
        ids = list(dict.fromkeys(h.item_id for h in hits))
        found = {h.item_id: h for h in hits if isinstance(h, InventoryItem)}
        missing = [i for i in ids if i not in found]
        found.update(load_items(cid, missing))
        items = [item_out(found[i]) for i in ids if i in found]
        return Page(items, encode_cursor(it.last_evaluated_key))
    pk = InventoryItem.list_pk(cid, q.archived)
    start = decode_cursor(q.cursor, partition=("GSI3PK", pk))
    it = InventoryItem.gsi3.query(pk, limit=q.limit, last_evaluated_key=start)
    items = [item_out(i) for i in it if isinstance(i, InventoryItem)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def expiring_lots(
    clinic_id: str, days: int, limit: int, cursor: str | None
) -> tuple[list[InventoryLot], str | None]:
    """Lots with stock left whose expiry is before today + ``days`` (expired ones too), first
    to expire first: one Query of the sparse expiry index."""
    until = (clinic_today(clinic_id) + timedelta(days=days)).isoformat()
    pk = InventoryLot.expiring_pk(clinic_id)
    start = decode_cursor(cursor, partition=("GSI2PK", pk))
    it = InventoryLot.gsi2.query(
        pk, InventoryLot.GSI2SK.between("0", f"{until}#~"), limit=limit, last_evaluated_key=start
    )
    lots = [x for x in it if isinstance(x, InventoryLot)]
    return lots, encode_cursor(it.last_evaluated_key)


def list_expiring(principal: Principal, q: schemas.ExpiringQuery) -> Page:
    cid = principal.clinic_id
    lots, nxt = expiring_lots(cid, q.days, q.limit, q.cursor)
    items = load_items(cid, [x.item_id for x in lots])
    out = []
    for lot in lots:
        it = items.get(lot.item_id)
        if it is None:
            continue
        out.append(
            schemas.ExpiringLotOut(
                **lot_out(lot).model_dump(), item_name=it.name, sku=it.sku, unit=it.unit
            )
        )
    return Page(out, nxt)
