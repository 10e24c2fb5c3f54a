"""Pure parts of the inventory: the search key, first-expiry-first-out lot taking, the index
keys an item carries (below threshold only while it is), and the expiry lots index."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.inventory.models import InventoryItem, InventoryLot, search_key
from chalicelib.inventory.stock import _take_from_lots

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _lot(lot_id: str, remaining: int, expiry: str | None) -> InventoryLot:
    lot = InventoryLot(
        *InventoryLot.key("C1", "I1", expiry, lot_id),
        lot_id=lot_id,
        item_id="I1",
        expiry=expiry,
        received=remaining,
        remaining=remaining,
        received_at=AT,
    )
    lot.index("C1")
    return lot


def test_search_key_folds_case_accents_and_spaces() -> None:
    assert search_key("  Cemento  IONÓMERO ") == "cemento ionomero"
    assert search_key("ART-4") == "art-4"


def test_lots_are_taken_first_expiry_first_and_emptied_ones_deleted() -> None:
    lots = [_lot("A", 3, "2026-03-10"), _lot("B", 5, "2026-06-01"), _lot("C", 2, None)]
    save, delete = _take_from_lots("C1", lots, 4)
    assert [x.lot_id for x in delete] == ["A"]
    assert [(x.lot_id, x.remaining) for x in save] == [("B", 4)]
    assert lots[2].remaining == 2  # untouched


def test_expiry_index_only_for_lots_with_stock_and_a_date() -> None:
    assert _lot("A", 1, "2026-03-10").GSI2PK == "C#C1#INVEXP"
    assert _lot("B", 1, None).GSI2PK is None
    emptied = _lot("C", 0, "2026-03-10")
    assert emptied.GSI2PK is None


def test_item_is_on_the_low_index_only_while_below_and_active() -> None:
    it = InventoryItem(
        *InventoryItem.key("C1", "I1"),
        item_id="I1",
        name="Guantes",
        sku="GLV",
        unit="caja",
        reorder_threshold=5,
        stock=4,
        archived=False,
        created_at=AT,
        updated_at=AT,
    )
    it.index("C1")
    assert it.GSI2PK == "C#C1#INVLOW" and it.GSI1SK == "guantes#I1"
    it.stock = 5
    it.index("C1")
    assert it.GSI2PK is None
    it.stock, it.archived = 0, True
    it.index("C1")
    assert it.GSI2PK is None and it.GSI3PK == "C#C1#INVARCH"
