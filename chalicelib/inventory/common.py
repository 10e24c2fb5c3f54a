"""What the inventory files share: loading an item of the caller's clinic, shaping outputs and
the clinic's local day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from chalicelib.billing import money
from chalicelib.core.db import clinic_pk
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import tr
from chalicelib.identity.models import Clinic
from chalicelib.inventory import schemas
from chalicelib.inventory.models import InventoryItem, InventoryLot, InventoryMovement


def not_found() -> NotFound:
    return NotFound(
        tr(
            "No inventory item with that id in this clinic.",
            "No hay ningún artículo de inventario con ese id en esta clínica.",
        )
    )


def load_item(clinic_id: str, item_id: str, consistent: bool = True) -> InventoryItem:
    try:
        it = InventoryItem.get(*InventoryItem.key(clinic_id, item_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise not_found() from exc
    if not isinstance(it, InventoryItem):
        raise not_found()
    return it


def load_items(clinic_id: str, ids: list[str]) -> dict[str, InventoryItem]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return {
        i.item_id: i
        for i in InventoryItem.batch_get([InventoryItem.key(clinic_id, x) for x in ids])
        if isinstance(i, InventoryItem)
    }


def live_lots(clinic_id: str, item_id: str) -> list[InventoryLot]:
    """The item's lots with stock left, first to expire first (no expiry last)."""
    return [
        lot
        for lot in InventoryLot.query(
            clinic_pk(clinic_id),
            InventoryLot.SK.startswith(InventoryLot.prefix(item_id)),
            consistent_read=True,
        )
        if isinstance(lot, InventoryLot)
    ]


def local_day(clinic_id: str, at: datetime) -> str:
    try:
        tz = ZoneInfo(Clinic.get(*Clinic.key(clinic_id)).time_zone or "Europe/Madrid")
    except Exception:  # a clinic without a zone: Spain's
        tz = ZoneInfo("Europe/Madrid")
    return at.astimezone(tz).date().isoformat()


def clinic_today(clinic_id: str) -> date:
    from chalicelib.core.ids import now  # noqa: PLC0415

    return date.fromisoformat(local_day(clinic_id, now()))


def lot_out(lot: InventoryLot) -> schemas.LotOut:
    return schemas.LotOut(
        lot_id=lot.lot_id,
        item_id=lot.item_id,
        lot=lot.lot,
        expiry=date.fromisoformat(lot.expiry) if lot.expiry else None,
        supplier=lot.supplier,
        received=int(lot.received),
        remaining=int(lot.remaining),
        received_at=lot.received_at,
    )


def item_out(it: InventoryItem, lots: list[InventoryLot] | None = None) -> schemas.ItemOut:
    return schemas.ItemOut(
        item_id=it.item_id,
        name=it.name,
        sku=it.sku,
        unit=it.unit,
        category=it.category,
        supplier=it.supplier,
        lab=it.lab,
        reorder_threshold=int(it.reorder_threshold),
        reorder_quantity=int(it.reorder_quantity),
        cost=money.fmt(int(it.cost_cents)) if it.cost_cents is not None else None,
        stock=int(it.stock),
        low=int(it.stock) < int(it.reorder_threshold),
        archived=bool(it.archived),
        updated_at=it.updated_at,
        version=int(it.version),
        lots=[lot_out(x) for x in lots] if lots is not None else None,
    )


def movement_out(m: InventoryMovement) -> schemas.MovementOut:
    return schemas.MovementOut(
        movement_id=m.movement_id,
        item_id=m.item_id,
        kind=m.kind,  # type: ignore[arg-type]
        quantity=int(m.quantity),
        stock_after=int(m.stock_after),
        short=int(m.short) if m.short is not None else None,
        reason=m.reason,
        supplier=m.supplier,
        lot=m.lot,
        expiry=date.fromisoformat(m.expiry) if m.expiry else None,
        cost=money.fmt(int(m.cost_cents)) if m.cost_cents is not None else None,
        patient_id=m.patient_id,
        appointment_id=m.appointment_id,
        plan_item_id=m.plan_item_id,
        treatment_id=m.treatment_id,
        actor_name=m.actor_name,
        at=m.at,
    )
