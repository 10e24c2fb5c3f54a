"""Routes of the inventory module: items, their stock movements (receive, consume, adjust)
and history, and the lots that expire soon. Handlers parse, call one service function and
shape the response."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.inventory import items, schemas, stock

router = Router("inventory")
r = router.route
ITEM = "/inventory/items/{item_id}"


@r(
    "/inventory/items",
    "GET",
    permission="inventory.read",
    query=schemas.ItemQuery,
    response=list[schemas.ItemOut],
    paged=True,
    summary="The clinic's inventory items by name (a name or SKU prefix, below threshold)",
)
def list_items(req: Req) -> Page:
    return items.list_items(req.user, req.query)


@r(
    "/inventory/items",
    "POST",
    permission="inventory.write",
    body=schemas.ItemIn,
    response=schemas.ItemOut,
    status=201,
    summary="Add an inventory item (stock starts at 0)",
)
def create_item(req: Req) -> schemas.ItemOut:
    return items.create_item(req.user, req.body)


@r(
    ITEM,
    "GET",
    permission="inventory.read",
    response=schemas.ItemOut,
    summary="An inventory item with its lots in stock",
)
def get_item(req: Req, item_id: str) -> schemas.ItemOut:
    return items.get_item(req.user, item_id)


@r(
    ITEM,
    "PATCH",
    permission="inventory.write",
    body=schemas.ItemUpdate,
    response=schemas.ItemOut,
    summary="Edit an inventory item, or archive / restore it",
)
def update_item(req: Req, item_id: str) -> schemas.ItemOut:
    return items.update_item(req.user, item_id, req.body)


@r(
    ITEM + "/movements",
    "GET",
    permission="inventory.read",
    query=schemas.PageQuery,
    response=list[schemas.MovementOut],
    paged=True,
    summary="An item's stock movements, newest first",
)
def list_movements(req: Req, item_id: str) -> Page:
    return stock.history(req.user, item_id, req.query)


@r(
    ITEM + "/receive",
    "POST",
    permission="inventory.write",
    body=schemas.ReceiveIn,
    response=schemas.MovementResult,
    status=201,
    summary="Receive stock (a lot with its supplier, batch number and expiry date)",
)
def receive(req: Req, item_id: str) -> schemas.MovementResult:
    return stock.receive(req.user, item_id, req.body)


@r(
    ITEM + "/consume",
    "POST",
    permission="inventory.write",
    body=schemas.ConsumeIn,
    response=schemas.MovementResult,
    status=201,
    summary="Consume stock by hand (first to expire first); more than in stock answers 409",
)
def consume(req: Req, item_id: str) -> schemas.MovementResult:
    return stock.consume(req.user, item_id, req.body)


@r(
    ITEM + "/adjust",
    "POST",
    permission="inventory.write",
    body=schemas.AdjustIn,
    response=schemas.MovementResult,
    status=201,
    summary="Adjust the stock up or down, with a reason (never below zero)",
)
def adjust(req: Req, item_id: str) -> schemas.MovementResult:
    return stock.adjust(req.user, item_id, req.body)


@r(
    "/inventory/expiring",
    "GET",
    permission="inventory.read",
    query=schemas.ExpiringQuery,
    response=list[schemas.ExpiringLotOut],
    paged=True,
    summary="Lots with stock left expiring within the next days (30 by default)",
)
def list_expiring(req: Req) -> Page:
    return items.list_expiring(req.user, req.query)
