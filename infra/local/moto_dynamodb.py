"""Two corrections to moto's DynamoDB, so the embedded stand-in behaves like DynamoDB.

Applied in-process wherever moto runs as the local AWS (``make run``, the test suite); never
part of the product.

1. Serialised calls. moto's server answers requests in threads without a lock, so two
   TransactWriteItems can both pass the same condition (real DynamoDB serialises them, which
   our gapless numbering, chain head and single-use tokens rely on).
2. Rollback by item. To undo a cancelled transaction, moto deep-copies the *whole table*
   before every TransactWriteItems. That makes each transaction cost grow with the size of the
   table: a seeded demo clinic took minutes and a long test session ran out of memory. Here
   only the items the transaction names are saved and restored, which is all it can change.
"""

from __future__ import annotations

import copy
import threading
import types
from typing import Any

_lock = threading.RLock()
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def serialised_call_action(self: Any) -> Any:
        with _lock:
            return call_action(self)

    def deepcopy_but_tables(obj: Any, memo: Any = None) -> Any:
        # transact_write_items' whole-table snapshot becomes a no-op; item copies stay real.
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot(self, transact_items)
        try:
            transact(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    DynamoHandler.call_action = serialised_call_action  # type: ignore[method-assign]
    models.copy = types.SimpleNamespace(deepcopy=deepcopy_but_tables)  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _applied = True


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    saved = []
    for entry in transact_items:
        try:
            (_, op), *_ = entry.items()
            table = backend.get_table(op["TableName"])
            key = op.get("Key") or {
                a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a
            }
            h, r = backend.get_keys_value(table, key)
            current = table.get_item(h, r)
        except Exception:  # noqa: S112 - moto itself rejects this entry before writing it
            continue
        saved.append((table, h, r, copy.deepcopy(current)))
    return saved


def _restore(saved: list[tuple[Any, ...]]) -> None:
    for table, h, r, item in reversed(saved):
        if r is None:
            if item is None:
                table.items.pop(h, None)
            else:
                table.items[h] = item
        elif item is None:
            table.items.get(h, {}).pop(r, None)
        else:
            table.items[h][r] = item
