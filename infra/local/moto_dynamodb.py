"""Three corrections to moto's DynamoDB, so the embedded stand-in behaves like DynamoDB, and a
hook that makes its writes durable.

Applied in-process wherever moto runs as the local AWS (``make run``, the test suite); never
part of the product.

1. Serialised calls. moto's server answers requests in threads without a lock, so two
   TransactWriteItems can both pass the same condition (real DynamoDB serialises them, which
   our gapless numbering, chain head and single-use tokens rely on).
2. Rollback by item. To undo a cancelled transaction, moto deep-copies the *whole table*
   before every TransactWriteItems. That makes each transaction cost grow with the size of the
   table: a seeded demo clinic took minutes and a long test session ran out of memory. Here
   only the items the transaction names are saved and restored, which is all it can change.

3. Query by partition, in order. moto answers every Query by listing and sorting the *whole
   table* (``Table.all_items``) and then keeping the items of the partition asked for, so a
   Query's cost grows with everything every clinic stored: an agenda day took seconds on a
   large table. Here the table's partitions and each global secondary index's partitions are
   kept in sort-key order (built on the table's first Query, then updated by every write below
   and by a transaction's rollback), and a Query starts from the keys of its partition that its
   key condition can match, found by bisection: it costs what it returns, not the clinic's
   partition (which holds every record of the clinic). moto's own code then checks, sorts,
   pages and filters them as before, so answers are unchanged.

Durable writes (``record_writes``, used by the local stack's runner; off unless asked for).
Every call that changed items (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
TransactWriteItems, PartiQL, DeleteTable) hands the resulting image of each item it touched (or
its deleted key) to a sink, as one list, before moto answers and while calls are still
serialised, so the sink sees the writes in the order they were applied. The runner's sink is
the write-ahead journal (``infra/local/journal.py``); ``replay`` applies such lists back to the
in-process backend at start. The images are read from the table after the call, so a
cancelled transaction or a half-applied batch is recorded exactly as moto left it.
"""

from __future__ import annotations

import base64
import bisect
import copy
import itertools
import threading
import types
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

_lock = threading.RLock()
_applied = False
# Where accepted writes go (None: nowhere), and the items the current call has touched.
_sink: Callable[[list[dict[str, Any]]], None] | None = None
_touched = threading.local()


def record_writes(sink: Callable[[list[dict[str, Any]]], None] | None) -> None:
    """From now on hand each call's written item images to ``sink`` before moto answers (the
    call fails if the sink raises); ``None`` stops. Between calls, so no call is half recorded.
    """
    global _sink
    with _lock:
        _sink = sink


def apply() -> None:
    global _applied
    if _applied:
        return
    # Session policies of clinic-scoped credentials are enforced wherever these corrections
    # are (ADR 0012): both make moto behave as AWS does for what the product relies on.
    from infra.local import moto_scoping

    moto_scoping.apply()
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def serialised_call_action(self: Any) -> Any:
        with _lock:
            sink = _sink
            if sink is None:
                return call_action(self)
            touched: dict[tuple[Any, ...], tuple[Any, ...]] = {}
            _touched.items = touched
            try:
                return call_action(self)
            finally:
                _touched.items = None
                if touched:
                    sink(_images(touched.values()))

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

    # Every change to an item goes through Table.put_item / Table.delete_item (PutItem, the
    # parts of a batch or a transaction, PartiQL, an update that creates its item) or is made
    # in place by DynamoDBBackend.update_item: note the keys, the images are read at the end.
    table_put, table_delete = Table.put_item, Table.delete_item
    update, drop = DynamoDBBackend.update_item, DynamoDBBackend.delete_table

    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = table_put(self, item_attrs, *args, **kwargs)
        _touch(self, item.hash_key, item.range_key)
        return item

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = table_delete(self, hash_key, range_key)
        if item is not None:
            _touch(self, hash_key, range_key)
        return item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *a: Any, **kw: Any) -> Any:
        item = update(self, table_name, key, *a, **kw)
        _touch(self.get_table(table_name), item.hash_key, item.range_key)
        return item

    table_query = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name")
        if index_name is None and len(args) > 6:
            index_name = args[6]
        one_condition = args and args[0] and len(kwargs.get("range_key_conditions") or ()) <= 1
        comparison, values = (args[0], args[1]) if one_condition else (None, [])
        candidates = _partition(
            self, hash_key, index_name, kwargs.get("hash_key_conditions"), comparison, values
        )
        if candidates is None:
            return table_query(self, hash_key, *args, **kwargs)
        if comparison:
            candidates = _in_range(self, index_name, candidates, comparison, values)
        self.all_items = lambda: candidates  # this call only: moto sorts and pages them
        try:
            return table_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    def delete_table(self: Any, name: str) -> Any:
        table = drop(self, name)
        if getattr(_touched, "items", None) is not None:
            _touched.items[("drop", table.name)] = ("drop", table, None, None)
        return table

    DynamoHandler.call_action = serialised_call_action  # type: ignore[method-assign]
    models.copy = types.SimpleNamespace(deepcopy=deepcopy_but_tables)  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend.delete_table = delete_table  # type: ignore[method-assign]
    _applied = True


def replay(entries: Iterable[list[dict[str, Any]]], account: str, region: str) -> int:
    """Apply recorded writes (``record_writes``' lists, oldest first) to the in-process backend:
    each image put as it is, each deleted key deleted. Entries for another service or a table
    that does not exist are skipped. Returns how many writes were applied."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    backend = dynamodb_backends[account][region]
    applied = 0
    with _lock:
        for ops in entries:
            for op in ops:
                table = backend.tables.get(op.get("t")) if isinstance(op, dict) else None
                if table is None:
                    continue
                if "put" in op:
                    table.put_item(op["put"])
                elif "del" in op:
                    key = op["del"]
                    r = key.get(table.range_key_attr) if table.range_key_attr else None
                    table.delete_item(DynamoType(key[table.hash_key_attr]), r and DynamoType(r))
                elif op.get("drop"):
                    for item in list(table.all_items()):
                        table.delete_item(item.hash_key, item.range_key)
                applied += 1
    return applied


def _touch(table: Any, hash_key: Any, range_key: Any) -> None:
    _reindex(table, hash_key, range_key)
    touched = getattr(_touched, "items", None)
    if touched is not None:
        touched[(table.name, hash_key, range_key)] = ("item", table, hash_key, range_key)


def _reindex(table: Any, hash_key: Any, range_key: Any) -> None:
    """Put the item of this key (as it is now, or gone) in the table's sorted partitions."""
    index = getattr(table, "_sorted", None)
    if index is not None:
        index.place(table, hash_key, range_key)


# A sort key as Python orders it: its DynamoDB type first (numbers as numbers), so a partition
# holding one type per sort key is in DynamoDB's order. No sort key: before every value.
_NO_SORT_KEY: tuple[Any, ...] = ("",)
_HIGH = chr(0x10FFFF) * 2  # after every tie-breaker


def _sort_value(value: Any) -> tuple[Any, ...]:
    if value is None:
        return _NO_SORT_KEY
    if value.type == "N":
        return ("N", Decimal(value.value))
    return (value.type, value.value)


Entry = tuple[tuple[Any, ...], str, tuple[Any, Any]]  # (sort value, tie-breaker, primary key)


class _Partition:
    """The primary keys of one partition of the table or of one index, in sort-key order."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, entry: Entry) -> None:
        bisect.insort(self.entries, entry)

    def remove(self, entry: Entry) -> None:
        i = bisect.bisect_left(self.entries, entry[:2])
        if i < len(self.entries) and self.entries[i][:2] == entry[:2]:
            del self.entries[i]

    def keys(self, comparison: str | None, values: list[Any]) -> list[tuple[Any, Any]]:
        """The keys whose sort key may meet the condition: a superset that is exact but for
        values of another type (the caller checks each one, as moto does)."""
        entries = self.entries
        if not comparison or not values:
            return [e[2] for e in entries]
        first = _sort_value(values[0])
        type_start, type_end = (first[0],), (first[0] + "\0",)
        bounds = {
            "=": (first, first),
            "EQ": (first, first),
            "<": (type_start, first),
            "<=": (type_start, first),
            "LT": (type_start, first),
            "LE": (type_start, first),
            ">": (first, type_end),
            ">=": (first, type_end),
            "GT": (first, type_end),
            "GE": (first, type_end),
            "BETWEEN": (first, _sort_value(values[-1])),
        }
        if comparison == "BEGINS_WITH":
            out = []
            lo_i = bisect.bisect_left(entries, (first,))
            prefix = first[1]
            for e in itertools.islice(entries, lo_i, None):
                value = e[0]
                if value[0] != first[0] or not isinstance(value[1], type(prefix)):
                    break
                if not value[1].startswith(prefix):
                    break
                out.append(e[2])
            return out
        if comparison not in bounds:
            return [e[2] for e in entries]
        lo, hi = bounds[comparison]
        lo_i = bisect.bisect_left(entries, (lo,))
        hi_i = bisect.bisect_right(entries, (hi, _HIGH))
        return [e[2] for e in entries[lo_i:hi_i]]


class _SortedIndex:
    """A table's partitions (of the table itself, name ``None``, and of each global secondary
    index) in sort-key order, built on the table's first Query and kept by every write."""

    def __init__(self, table: Any) -> None:
        self.schemas: dict[str | None, tuple[list[str], str | None]] = {
            None: ([table.hash_key_attr], table.range_key_attr)
        }
        for i in table.global_indexes or []:
            hash_attrs = [k["AttributeName"] for k in i.schema if k["KeyType"] == "HASH"]
            range_attr = next(
                (k["AttributeName"] for k in i.schema if k["KeyType"] == "RANGE"), None
            )
            self.schemas[i.name] = (hash_attrs, range_attr)
        self.partitions: dict[str | None, dict[tuple[Any, ...], _Partition]] = {
            name: {} for name in self.schemas
        }
        self.places: dict[tuple[Any, Any], list[tuple[str | None, tuple[Any, ...], Entry]]] = {}
        for item in table.all_items():
            self.place(table, item.hash_key, item.range_key)

    def place(self, table: Any, hash_key: Any, range_key: Any) -> None:
        pk = (hash_key, range_key)
        for name, values, entry in self.places.pop(pk, ()):
            partition = self.partitions[name][values]
            partition.remove(entry)
            if not partition.entries:
                del self.partitions[name][values]
        item = table.get_item(hash_key, range_key) if hash_key is not None else None
        if item is None:
            return
        tie = f"{hash_key.value!r}|{range_key.value if range_key is not None else ''!r}"
        places = []
        for name, (hash_attrs, range_attr) in self.schemas.items():
            values = tuple(item.attrs.get(a) for a in hash_attrs)
            if any(v is None for v in values):
                continue
            entry = (_sort_value(item.attrs.get(range_attr) if range_attr else None), tie, pk)
            self.partitions[name].setdefault(values, _Partition()).add(entry)
            places.append((name, values, entry))
        if places:
            self.places[pk] = places

    def items(
        self,
        table: Any,
        name: str | None,
        values: tuple[Any, ...],
        comparison: str | None,
        range_values: list[Any],
    ) -> list[Any]:
        partition = self.partitions[name].get(values)
        if partition is None:
            return []
        keys = partition.keys(comparison, range_values)
        return [i for i in (table.get_item(h, r) for h, r in keys) if i is not None]


def _partition(
    table: Any,
    hash_key: Any,
    index_name: str | None,
    conditions: list[Any] | None,
    comparison: str | None,
    range_values: list[Any],
) -> list[Any] | None:
    """The items of the partition a Query asks for whose sort key may meet its condition (None:
    let moto look at every item)."""
    if index_name is not None and not any(i.name == index_name for i in table.global_indexes or []):
        return None  # a local index: moto's own way
    if index_name is None and (hash_key is None or table.range_key_attr is None):
        return None
    index = getattr(table, "_sorted", None)
    if index is None:
        index = table._sorted = _SortedIndex(table)
    attrs = index.schemas[index_name][0]
    wanted = dict(conditions or []) if index_name is not None else {}
    if not wanted and hash_key is not None and len(attrs) == 1:
        wanted = {attrs[0]: hash_key}
    if set(wanted) != set(attrs):
        return None
    values = tuple(wanted[a] for a in attrs)
    return index.items(table, index_name, values, comparison, range_values)


def _in_range(
    table: Any, index_name: str | None, items: list[Any], comparison: str, values: list[Any]
) -> list[Any]:
    """The items whose sort key meets the key condition (moto checks it again after sizing and
    sorting every item of the partition, which is what made a Query cost the partition)."""
    if index_name is None:
        attr = table.range_key_attr
    else:
        index = next(i for i in table.global_indexes if i.name == index_name)
        attr = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None)
    if attr is None:
        return items
    return [
        i for i in items if (v := i.attrs.get(attr)) is not None and v.compare(comparison, values)
    ]


def _images(touched: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """What the touched items are now: ``{"t": table, "put": item}`` or ``{"t": table, "del":
    key}`` (``{"t": table, "drop": true}`` for a deleted table), in DynamoDB's JSON."""
    ops: list[dict[str, Any]] = []
    for kind, table, h, r in touched:
        if kind == "drop":
            ops.append({"t": table.name, "drop": True})
            continue
        item = table.get_item(h, r)
        if item is None:
            key = {table.hash_key_attr: _wire(h)}
            if r is not None:
                key[table.range_key_attr] = _wire(r)
            ops.append({"t": table.name, "del": key})
        else:
            ops.append({"t": table.name, "put": {k: _wire(v) for k, v in item.attrs.items()}})
    return ops


def _wire(value: Any) -> dict[str, Any]:
    """A moto DynamoType as DynamoDB's JSON (what a client sends; binary as base64)."""
    t, v = value.type, value.value
    if t == "M":
        return {"M": {k: _wire(x) for k, x in v.items()}}
    if t == "L":
        return {"L": [_wire(x) for x in v]}
    if t == "B":
        return {"B": _b64(v)}
    if t == "BS":
        return {"BS": [_b64(x) for x in v]}
    if t in ("SS", "NS"):
        return {t: list(v)}
    return {t: v}


def _b64(value: str | bytes) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes | bytearray) else value


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
        _restore_one(table, h, r, item)
        _reindex(table, h, r)


def _restore_one(table: Any, h: Any, r: Any, item: Any) -> None:
    if r is None:
        if item is None:
            table.items.pop(h, None)
        else:
            table.items[h] = item
    elif item is None:
        table.items.get(h, {}).pop(r, None)
    else:
        table.items[h][r] = item
