"""Stock movements: the append-only ledger and the stock kept on the item (ADR 1201).

Every movement is one transaction: the item (new stock, its low-stock index keys and its
``alerted`` flag) written on the condition that its ``version`` is the one read, the ledger
entry, the lots it touches and the audit entry. Two movements of the same item can therefore
never both commit from the same stock: the loser reads again and decides again, so the stock
never goes below zero and exactly one movement sees the crossing of the threshold (ADR 1202).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.billing import money
from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import BadRequest, Conflict, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.inventory import alerts, schemas
from chalicelib.inventory.common import (
    item_out,
    live_lots,
    load_item,
    local_day,
    movement_out,
)
from chalicelib.inventory.models import (
    InventoryItem,
    InventoryLot,
    InventoryMovement,
    InventoryUse,
)

ATTEMPTS = 40  # optimistic retries under contention before answering 409
MAX_LOTS_TOUCHED = 90  # a transaction holds 100 items: item, movement, audit, marker, lots


@dataclass
class Outcome:
    item: InventoryItem
    movement: InventoryMovement
    crossed: bool


class _Retry(Exception):
    pass


def _insufficient(item: InventoryItem, wanted: int) -> Conflict:
    stock = int(item.stock)
    return Conflict(
        tr(
            f"Not enough stock: {stock} {item.unit} in stock, {wanted} requested.",
            f"No hay existencias suficientes: quedan {stock} {item.unit} y se piden {wanted}.",
        ),
        code="INSUFFICIENT_STOCK",
        data={"stock": stock, "requested": wanted},
    )


def _archived() -> Conflict:
    return Conflict(
        tr(
            "The item is archived; restore it before moving its stock.",
            "El artículo está archivado; restáuralo antes de mover sus existencias.",
        ),
        code="ITEM_ARCHIVED",
    )


def _take_from_lots(
    clinic_id: str, lots: list[InventoryLot], take: int
) -> tuple[list[InventoryLot], list[InventoryLot]]:
    """First expiry first out: (lots to save with less left, lots to delete as emptied)."""
    save, delete = [], []
    for lot in lots:
        if take <= 0 or len(save) + len(delete) >= MAX_LOTS_TOUCHED:
            break
        left = int(lot.remaining)
        used = min(left, take)
        take -= used
        lot.remaining = left - used
        if lot.remaining <= 0:
            delete.append(lot)
        else:
            lot.index(clinic_id)
            save.append(lot)
    return save, delete


def move(
    clinic_id: str,
    item_id: str,
    actor: dict[str, Any],
    *,
    kind: str,
    quantity: int,
    allow_short: bool = False,
    allow_archived: bool = False,
    use: tuple[str, str] | None = None,
    lot: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> Outcome | None:
    """Apply a signed ``quantity`` to the item's stock with its ledger entry.

    A negative quantity larger than the stock is refused (409 with the stock), or, with
    ``allow_short`` (a treatment already done), takes what there is and records the rest as
    ``short``. ``use`` = (plan item id, treatment id): the movement is written once per
    completed plan item; None is returned when it already was.
    """
    for attempt in range(ATTEMPTS):
        try:
            return _attempt(
                clinic_id,
                item_id,
                actor,
                kind,
                quantity,
                allow_short,
                allow_archived,
                use,
                lot,
                fields or {},
            )
        except _Retry:
            time.sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 8))  # noqa: S311 (jitter)
    raise Conflict(
        tr(
            "The stock of this item is changing right now; try again.",
            "Las existencias de este artículo están cambiando ahora mismo; vuelve a intentarlo.",
        ),
        code="STOCK_BUSY",
    )


def _used_already(clinic_id: str, use: tuple[str, str], item_id: str) -> bool:
    try:
        InventoryUse.get(*InventoryUse.key(clinic_id, use[0], item_id), consistent_read=True)
    except DoesNotExist:
        return False
    return True


def _attempt(
    clinic_id: str,
    item_id: str,
    actor: dict[str, Any],
    kind: str,
    quantity: int,
    allow_short: bool,
    allow_archived: bool,
    use: tuple[str, str] | None,
    lot: dict[str, Any] | None,
    fields: dict[str, Any],
) -> Outcome | None:
    if use is not None and _used_already(clinic_id, use, item_id):
        return None
    item = load_item(clinic_id, item_id)
    if item.archived and not allow_archived:
        raise _archived()
    stock = int(item.stock)
    short = None
    save_lots: list[InventoryLot] = []
    delete_lots: list[InventoryLot] = []
    at = now()
    if quantity < 0:
        wanted = -quantity
        if wanted > stock:
            if not allow_short:
                raise _insufficient(item, wanted)
            short, quantity = wanted - stock, -stock
        save_lots, delete_lots = _take_from_lots(
            clinic_id, live_lots(clinic_id, item_id), -quantity
        )
    elif quantity > 0:
        lid = new_id()
        expiry = (lot or {}).get("expiry")
        new_lot = InventoryLot(
            *InventoryLot.key(clinic_id, item_id, expiry, lid),
            lot_id=lid,
            item_id=item_id,
            lot=(lot or {}).get("lot"),
            expiry=expiry,
            supplier=(lot or {}).get("supplier"),
            received=quantity,
            remaining=quantity,
            received_at=at,
        )
        new_lot.index(clinic_id)
        save_lots.append(new_lot)
    new_stock = stock + quantity
    threshold = int(item.reorder_threshold)
    crossed = stock >= threshold > new_stock and not item.alerted
    if new_stock >= threshold:
        item.alerted = False
    elif crossed:
        item.alerted = True
    old_version = int(item.version)
    item.stock = new_stock
    item.version = old_version + 1
    item.updated_at = at
    item.index(clinic_id)
    mid = new_id()
    day = local_day(clinic_id, at)
    m = InventoryMovement(
        *InventoryMovement.key(clinic_id, item_id, mid),
        movement_id=mid,
        item_id=item_id,
        kind=kind,
        quantity=quantity,
        stock_after=new_stock,
        short=short,
        actor_id=actor.get("id"),
        actor_name=actor.get("name"),
        day=day,
        at=at,
        **fields,
    )
    if kind == "consume":
        m.GSI1PK, m.GSI1SK = InventoryMovement.day_pk(clinic_id, day), mid
    try:
        with transaction() as tx:
            tx.save(item, condition=InventoryItem.version == old_version)
            tx.save(m, condition=InventoryMovement.SK.does_not_exist())
            for x in save_lots:
                tx.save(x)
            for x in delete_lots:
                tx.delete(x)
            if use is not None:
                tx.save(
                    InventoryUse(*InventoryUse.key(clinic_id, use[0], item_id), movement_id=mid),
                    condition=InventoryUse.SK.does_not_exist(),
                )
            tx.save(
                _audit(
                    clinic_id,
                    actor,
                    kind,
                    item_id,
                    before={"stock": stock},
                    after={"stock": new_stock, "movement_id": mid},
                )
            )
    except TransactWriteError as exc:
        raise _Retry from exc
    return Outcome(item, m, crossed)


def _audit(
    clinic_id: str, actor: dict[str, Any], kind: str, item_id: str, **changes: Any
) -> audit.AuditEntry:
    """The movement's audit entry (one literal action per kind, for the audit log's words)."""
    if kind == "receive":
        return audit.entry(
            clinic_id, actor, "inventory.stock.received", "inventory_item", item_id, **changes
        )
    if kind == "consume":
        return audit.entry(
            clinic_id, actor, "inventory.stock.consumed", "inventory_item", item_id, **changes
        )
    return audit.entry(
        clinic_id, actor, "inventory.stock.adjusted", "inventory_item", item_id, **changes
    )


def _after(clinic_id: str, actor: dict[str, Any], out: Outcome) -> None:
    """Once committed: the event for the live screens, and the alert when this movement is the
    one that crossed the threshold."""
    from chalicelib.core import events  # noqa: PLC0415

    events.publish(
        "inventory.stock_moved",
        clinic_id,
        actor,
        item_id=out.item.item_id,
        movement_id=out.movement.movement_id,
        kind=out.movement.kind,
        count=int(out.item.stock),
    )
    if out.crossed:
        alerts.stock_low(clinic_id, actor, out.item)


def _result(clinic_id: str, actor: dict[str, Any], out: Outcome) -> schemas.MovementResult:
    _after(clinic_id, actor, out)
    return schemas.MovementResult(
        item=item_out(out.item), movement=movement_out(out.movement), alerted=out.crossed
    )


def receive(principal: Principal, item_id: str, data: schemas.ReceiveIn) -> schemas.MovementResult:
    cid = principal.clinic_id
    expiry = data.expiry.isoformat() if data.expiry else None
    out = move(
        cid,
        item_id,
        principal.actor,
        kind="receive",
        quantity=data.quantity,
        lot={"lot": data.lot, "expiry": expiry, "supplier": data.supplier},
        fields={
            "supplier": data.supplier,
            "lot": data.lot,
            "expiry": expiry,
            "cost_cents": money.cents(data.cost) if data.cost is not None else None,
        },
    )
    assert out is not None
    return _result(cid, principal.actor, out)


def consume(principal: Principal, item_id: str, data: schemas.ConsumeIn) -> schemas.MovementResult:
    cid = principal.clinic_id
    load_item(cid, item_id)  # an unknown item is a 404 before the references are checked
    if data.patient_id:
        from chalicelib.patients import service as patients  # noqa: PLC0415

        patients.load(cid, data.patient_id)
    if data.appointment_id:
        from chalicelib.agenda import service as agenda  # noqa: PLC0415

        appt = agenda.load(cid, data.appointment_id)
        if data.patient_id and appt.patient_id != data.patient_id:
            raise Unprocessable(
                tr("Some fields are not valid.", "Algunos campos no son válidos."),
                errors=[
                    {
                        "field": "appointment_id",
                        "message": tr(
                            "the appointment is another patient's",
                            "la cita es de otro paciente",
                        ),
                    }
                ],
            )
    out = move(
        cid,
        item_id,
        principal.actor,
        kind="consume",
        quantity=-data.quantity,
        fields={
            "patient_id": data.patient_id,
            "appointment_id": data.appointment_id,
            "reason": data.note,
        },
    )
    assert out is not None
    return _result(cid, principal.actor, out)


def adjust(principal: Principal, item_id: str, data: schemas.AdjustIn) -> schemas.MovementResult:
    if data.delta == 0:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[
                {
                    "field": "delta",
                    "message": tr(
                        "an adjustment adds or removes at least one unit",
                        "un ajuste suma o resta al menos una unidad",
                    ),
                }
            ],
        )
    cid = principal.clinic_id
    out = move(
        cid,
        item_id,
        principal.actor,
        kind="adjust",
        quantity=data.delta,
        fields={"reason": data.reason},
    )
    assert out is not None
    return _result(cid, principal.actor, out)


def consume_for_treatment(
    clinic_id: str,
    actor: dict[str, Any],
    item_id: str,
    quantity: int,
    *,
    plan_item_id: str,
    treatment_id: str | None,
    patient_id: str | None,
) -> Outcome | None:
    """One material of a completed treatment (once per plan item and inventory item)."""
    out = move(
        clinic_id,
        item_id,
        actor,
        kind="consume",
        quantity=-quantity,
        allow_short=True,
        allow_archived=True,
        use=(plan_item_id, treatment_id or ""),
        fields={
            "patient_id": patient_id,
            "plan_item_id": plan_item_id,
            "treatment_id": treatment_id,
        },
    )
    if out is not None:
        _after(clinic_id, actor, out)
    return out


def history(principal: Principal, item_id: str, q: schemas.PageQuery) -> Page:
    """The item's movements, newest first."""
    cid = principal.clinic_id
    load_item(cid, item_id, consistent=False)
    pk = clinic_pk(cid)
    start = decode_cursor(q.cursor, partition=("PK", pk))
    if start is not None and not start.get("SK", {}).get("S", "").startswith(
        InventoryMovement.prefix(item_id)
    ):
        raise BadRequest(
            tr(
                "The cursor belongs to a different listing; start again without it.",
                "El cursor es de otro listado; empieza de nuevo sin él.",
            )
        )
    it = InventoryMovement.query(
        pk,
        InventoryMovement.SK.startswith(InventoryMovement.prefix(item_id)),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=start,
    )
    items = [movement_out(m) for m in it if isinstance(m, InventoryMovement)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def consumed_on(clinic_id: str, day: date) -> list[InventoryMovement]:
    """The day's consumptions (one Query of the per-day index)."""
    return [
        m
        for m in InventoryMovement.gsi1.query(InventoryMovement.day_pk(clinic_id, day.isoformat()))
        if isinstance(m, InventoryMovement)
    ]
