"""Input and output schemas of the inventory routes. Quantities are whole units of the item's
unit of measure (ADR 1201); cost travels as money text ("12.50"), as in billing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.billing.schemas import Money
from chalicelib.core.validators import BoundedDate, PartialUpdate

MAX_QTY = 1_000_000
ID_PATTERN = r"^[0-9A-Za-z_-]+$"
SKU_PATTERN = r"^[A-Za-z0-9._/\-]+$"
MovementKind = Literal["receive", "consume", "adjust"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemIn(Strict):
    name: str = Field(min_length=2, max_length=120)
    sku: str = Field(min_length=1, max_length=40, pattern=SKU_PATTERN)
    unit: str = Field(min_length=1, max_length=20)
    category: str | None = Field(default=None, max_length=60)
    supplier: str | None = Field(default=None, max_length=120)
    lab: str | None = Field(default=None, max_length=120)
    reorder_threshold: int = Field(default=0, ge=0, le=MAX_QTY)
    reorder_quantity: int = Field(default=0, ge=0, le=MAX_QTY)
    cost: Money | None = Field(default=None, ge=0)


class ItemUpdate(PartialUpdate):
    """Only the fields sent change; null clears category, supplier, lab or cost."""

    CLEARABLE = frozenset({"category", "supplier", "lab", "cost"})

    name: str | None = Field(default=None, min_length=2, max_length=120)
    sku: str | None = Field(default=None, min_length=1, max_length=40, pattern=SKU_PATTERN)
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    category: str | None = Field(default=None, max_length=60)
    supplier: str | None = Field(default=None, max_length=120)
    lab: str | None = Field(default=None, max_length=120)
    reorder_threshold: int | None = Field(default=None, ge=0, le=MAX_QTY)
    reorder_quantity: int | None = Field(default=None, ge=0, le=MAX_QTY)
    cost: Money | None = Field(default=None, ge=0)
    archived: bool | None = None


class LotOut(BaseModel):
    lot_id: str
    item_id: str
    lot: str | None
    expiry: date | None
    supplier: str | None
    received: int
    remaining: int
    received_at: datetime


class ItemOut(BaseModel):
    item_id: str
    name: str
    sku: str
    unit: str
    category: str | None
    supplier: str | None
    lab: str | None
    reorder_threshold: int
    reorder_quantity: int
    cost: str | None
    stock: int
    low: bool
    archived: bool
    updated_at: datetime
    version: int
    lots: list[LotOut] | None = None


class ItemQuery(Strict):
    q: str | None = Field(default=None, max_length=80)
    below: bool = False
    archived: bool = False
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class ExpiringQuery(Strict):
    days: int = Field(default=30, ge=0, le=365)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class ExpiringLotOut(LotOut):
    item_name: str
    sku: str
    unit: str


class PageQuery(Strict):
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=50, ge=1, le=100)


class ReceiveIn(Strict):
    quantity: int = Field(ge=1, le=MAX_QTY)
    supplier: str | None = Field(default=None, max_length=120)
    lot: str | None = Field(default=None, max_length=60)
    expiry: BoundedDate | None = None
    cost: Money | None = Field(default=None, ge=0)


class ConsumeIn(Strict):
    quantity: int = Field(ge=1, le=MAX_QTY)
    patient_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    appointment_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    note: str | None = Field(default=None, max_length=300)


class AdjustIn(Strict):
    delta: int = Field(ge=-MAX_QTY, le=MAX_QTY)
    reason: str = Field(min_length=3, max_length=300)


class MovementOut(BaseModel):
    movement_id: str
    item_id: str
    kind: MovementKind
    quantity: int
    stock_after: int
    short: int | None
    reason: str | None
    supplier: str | None
    lot: str | None
    expiry: date | None
    cost: str | None
    patient_id: str | None
    appointment_id: str | None
    plan_item_id: str | None
    treatment_id: str | None
    actor_name: str | None
    at: datetime


class MovementResult(BaseModel):
    item: ItemOut
    movement: MovementOut
    alerted: bool
