"""Inventory items (one table; keys from the authenticated clinic). ADR 1201.

Keys (PK is always ``C#<cid>``):

* InventoryItem: SK ``INVITEM#<id>``; GSI1 ``C#<cid>#INVQ`` / ``<name key>#<id>`` (1);
  GSI2 ``C#<cid>#INVLOW`` / ``<name key>#<id>`` (2); GSI3 ``C#<cid>#INV`` / ``<name key>#<id>`` (3).
* InventorySku (unique SKU): SK ``INVSKU#<SKU>``; GSI1 ``C#<cid>#INVQ`` / ``<sku key>#<id>`` (1).
* InventoryLot: SK ``INVLOT#<item id>#<expiry or 9999-12-31>#<lot id>``;
  GSI2 ``C#<cid>#INVEXP`` / ``<expiry>#<lot id>`` (4).
* InventoryMovement: SK ``INVMOV#<item id>#<movement id>``;
  GSI1 ``C#<cid>#INVDAY#<local day>`` / ``<movement id>`` (5).
* InventoryUse (idempotency of automatic consumption): SK ``INVUSE#<plan item id>#<item id>``.

(1) the search partition: a name or SKU prefix is one Query (``search_key`` normalises it);
archived items move to ``C#<cid>#INVQARCH``.
(2) sparse: only while the stock is below the reorder threshold (and the item is active).
(3) the list, by name; archived items move to ``C#<cid>#INVARCH``.
(4) sparse: only lots with an expiry date and stock left. A lot with no stock left is deleted
(the ledger keeps its history), so an item's live lots are one short Query.
(5) sparse: consumptions only, by the clinic's local day (the end-of-day email).

Quantities are whole numbers of the item's unit of measure; stock is a number on the item,
changed only together with the ledger entry in one transaction conditioned on the item's
``version`` (ADR 1201). Cost is integer cents.
"""

from __future__ import annotations

import unicodedata

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk

NO_EXPIRY = "9999-12-31"


def search_key(text: str) -> str:
    """Lowercase, accents and spaces folded: what a prefix search compares."""
    folded = unicodedata.normalize("NFKD", text or "")
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(folded.lower().split())[:80]


class InventoryItem(Item, discriminator="InventoryItem"):
    item_id = UnicodeAttribute()
    name = UnicodeAttribute()
    sku = UnicodeAttribute()
    unit = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    supplier = UnicodeAttribute(null=True)
    lab = UnicodeAttribute(null=True)  # a lab id or name (the labs module is separate)
    reorder_threshold = NumberAttribute(default=0)
    reorder_quantity = NumberAttribute(default=0)
    cost_cents = NumberAttribute(null=True)
    stock = NumberAttribute(default=0)
    alerted = BooleanAttribute(default=False)  # a low-stock alert was sent for this drop
    archived = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, item_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INVITEM#{item_id}"

    @staticmethod
    def search_pk(clinic_id: str, archived: bool = False) -> str:
        return f"{clinic_pk(clinic_id)}#INVQ{'ARCH' if archived else ''}"

    @staticmethod
    def list_pk(clinic_id: str, archived: bool = False) -> str:
        return f"{clinic_pk(clinic_id)}#INV{'ARCH' if archived else ''}"

    @staticmethod
    def low_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#INVLOW"

    def index(self, clinic_id: str) -> None:
        """Set the index keys from the item's own fields (call before every write)."""
        sk = f"{search_key(self.name)}#{self.item_id}"
        self.GSI1PK, self.GSI1SK = InventoryItem.search_pk(clinic_id, self.archived), sk
        self.GSI3PK, self.GSI3SK = InventoryItem.list_pk(clinic_id, self.archived), sk
        if not self.archived and int(self.stock) < int(self.reorder_threshold):
            self.GSI2PK, self.GSI2SK = InventoryItem.low_pk(clinic_id), sk
        else:
            self.GSI2PK = self.GSI2SK = None


class InventorySku(Item, discriminator="InventorySku"):
    item_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, sku: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INVSKU#{sku.upper()}"

    def index(self, clinic_id: str, sku: str, archived: bool) -> None:
        self.GSI1PK = InventoryItem.search_pk(clinic_id, archived)
        self.GSI1SK = f"{search_key(sku)}#{self.item_id}"


class InventoryLot(Item, discriminator="InventoryLot"):
    lot_id = UnicodeAttribute()
    item_id = UnicodeAttribute()
    lot = UnicodeAttribute(null=True)  # the supplier's batch/lot number
    expiry = UnicodeAttribute(null=True)  # ISO date
    supplier = UnicodeAttribute(null=True)
    received = NumberAttribute()
    remaining = NumberAttribute()
    received_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, item_id: str, expiry: str | None, lot_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{InventoryLot.prefix(item_id)}{expiry or NO_EXPIRY}#{lot_id}"

    @staticmethod
    def prefix(item_id: str) -> str:
        return f"INVLOT#{item_id}#"

    @staticmethod
    def expiring_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#INVEXP"

    def index(self, clinic_id: str) -> None:
        if self.expiry and int(self.remaining) > 0:
            self.GSI2PK = InventoryLot.expiring_pk(clinic_id)
            self.GSI2SK = f"{self.expiry}#{self.lot_id}"
        else:
            self.GSI2PK = self.GSI2SK = None


class InventoryMovement(Item, discriminator="InventoryMovement"):
    """One ledger entry: written once, never updated or deleted."""

    movement_id = UnicodeAttribute()
    item_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # receive | consume | adjust
    quantity = NumberAttribute()  # signed change of the stock
    stock_after = NumberAttribute()
    short = NumberAttribute(null=True)  # an automatic consumption that found less in stock
    reason = UnicodeAttribute(null=True)
    supplier = UnicodeAttribute(null=True)
    lot = UnicodeAttribute(null=True)
    expiry = UnicodeAttribute(null=True)
    cost_cents = NumberAttribute(null=True)
    patient_id = UnicodeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)
    plan_item_id = UnicodeAttribute(null=True)
    treatment_id = UnicodeAttribute(null=True)
    actor_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)
    day = UnicodeAttribute()  # the clinic's local day
    at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, item_id: str, movement_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{InventoryMovement.prefix(item_id)}{movement_id}"

    @staticmethod
    def prefix(item_id: str) -> str:
        return f"INVMOV#{item_id}#"

    @staticmethod
    def day_pk(clinic_id: str, day: str) -> str:
        return f"{clinic_pk(clinic_id)}#INVDAY#{day}"


class InventoryUse(Item, discriminator="InventoryUse"):
    """A completed plan item's materials were consumed from this item (redeliveries skip)."""

    movement_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, plan_item_id: str, item_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INVUSE#{plan_item_id}#{item_id}"
