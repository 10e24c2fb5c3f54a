"""Writing a record's contribution and reading the aggregates (ADR 1301).

A :class:`Contribution` is what one source record adds now: number attributes per aggregate
item (day, month, state) and the rows it puts in the lists behind the figures. :func:`apply`
reads the contribution stored last time, asks ``compute()`` for the current one (after that
read, so the record is at least as new as the stored contribution), and writes the difference
in one transaction: ``ADD`` of the deltas to the aggregates, the changed list rows, and the new
contribution conditioned on the old one's version (retried on conflict). Applying the same
state twice writes nothing, so duplicated and reordered events change nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.core import db
from chalicelib.core.db import clinic_pk
from chalicelib.reports import models as m

ATTEMPTS = 8
MAX_TRANSACTION = 100
_ser, _de = TypeSerializer(), TypeDeserializer()


@dataclass
class Contribution:
    aggregates: dict[str, dict[str, int]] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, sk: str, attr: str, value: int) -> None:
        if value:
            bucket = self.aggregates.setdefault(sk, {})
            bucket[attr] = bucket.get(attr, 0) + int(value)

    def dated(self, day: str, figure: str, value: int, dims: Iterable[str] = ()) -> None:
        """``value`` of ``figure`` on ``day`` (and its month), overall and per dimension."""
        for sk in (m.day_sk(day), m.month_sk(day[:7])):
            self.add(sk, figure, value)
            for d in dims:
                self.add(sk, f"{figure}|{d}", value)

    def state(self, day: str, attr: str, value: int) -> None:
        """A state figure of a record dated ``day`` (its age) and in the state totals."""
        self.add(m.state_day_sk(day), attr, value)
        self.add(m.STATE_SK, attr, value)

    def row(self, listing: str, dims: Iterable[str], row: dict[str, Any]) -> None:
        """A row of the list behind ``listing``, and of its per-dimension lists."""
        clean = {k: v for k, v in row.items() if v is not None}
        for name in (listing, *(f"{listing}|{d}" for d in dims)):
            self.entries[m.entry_sk(name, row["date"], row["record_id"])] = clean


def dims(professional_id: str | None = None, cabinet_id: str | None = None) -> list[str]:
    out = []
    if professional_id:
        out.append(f"p:{professional_id}")
    if cabinet_id:
        out.append(f"c:{cabinet_id}")
    return out


def _diff(
    old: dict[str, dict[str, int]], new: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for sk in set(old) | set(new):
        o, n = old.get(sk, {}), new.get(sk, {})
        delta = {a: n.get(a, 0) - o.get(a, 0) for a in set(o) | set(n)}
        delta = {a: v for a, v in delta.items() if v}
        if delta:
            out[sk] = delta
    return out


def _add_update(table: str, pk: str, sk: str, delta: dict[str, int]) -> dict[str, Any]:
    names = {"#e": "entity"}
    values: dict[str, Any] = {":e": {"S": m.AGG}}
    adds = []
    for i, (attr, v) in enumerate(sorted(delta.items())):
        names[f"#a{i}"] = attr
        values[f":v{i}"] = {"N": str(v)}
        adds.append(f"#a{i} :v{i}")
    return {
        "Update": {
            "TableName": table,
            "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
            "UpdateExpression": "SET #e = if_not_exists(#e, :e) ADD " + ", ".join(adds),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _entry_item(pk: str, sk: str, row: dict[str, Any]) -> dict[str, Any]:
    item = {"PK": pk, "SK": sk, "entity": m.ENTRY, **row}
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def _load(cid: str, kind: str, record_id: str) -> dict[str, Any] | None:
    key = {"PK": {"S": clinic_pk(cid)}, "SK": {"S": m.contribution_sk(kind, record_id)}}
    got = db.client().get_item(TableName=db.table_name(), Key=key, ConsistentRead=True)
    raw = got.get("Item")
    return {k: _de.deserialize(v) for k, v in raw.items()} if raw else None


def _conflict(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("TransactionCanceledException", "TransactionConflictException")


def apply(cid: str, kind: str, record_id: str, compute: Callable[[], Contribution]) -> str:
    """Bring the record's contribution up to date: ``written`` or ``unchanged``."""
    table, pk = db.table_name(), clinic_pk(cid)
    csk = m.contribution_sk(kind, record_id)
    for attempt in range(ATTEMPTS):
        stored = _load(cid, kind, record_id)
        old_aggs = json.loads(stored["aggregates"]) if stored else {}
        old_entries = json.loads(stored["entries"]) if stored else {}
        version = int(stored["version"]) if stored else 0
        new = compute()
        deltas = _diff(old_aggs, new.aggregates)
        puts = {sk: r for sk, r in new.entries.items() if old_entries.get(sk) != r}
        gone = [sk for sk in old_entries if sk not in new.entries]
        if not deltas and not puts and not gone:
            return "unchanged"
        items = [_add_update(table, pk, sk, d) for sk, d in sorted(deltas.items())]
        items += [
            {"Put": {"TableName": table, "Item": _entry_item(pk, sk, r)}} for sk, r in puts.items()
        ]
        items += [
            {"Delete": {"TableName": table, "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
            for sk in gone
        ]
        contribution = {
            "PK": {"S": pk},
            "SK": {"S": csk},
            "entity": {"S": m.CONTRIB},
            "kind": {"S": kind},
            "record_id": {"S": record_id},
            "aggregates": {"S": json.dumps(new.aggregates, sort_keys=True)},
            "entries": {"S": json.dumps(new.entries, sort_keys=True)},
            "version": {"N": str(version + 1)},
        }
        put: dict[str, Any] = {"TableName": table, "Item": contribution}
        if stored:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
        else:
            put["ConditionExpression"] = "attribute_not_exists(SK)"
        items.append({"Put": put})
        if len(items) > MAX_TRANSACTION:
            raise ValueError(f"a {kind} contribution needs {len(items)} writes")
        try:
            db.client().transact_write_items(TransactItems=items)
            return "written"
        except ClientError as exc:
            if not _conflict(exc):
                raise
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))  # noqa: S311
    raise RuntimeError(f"the {kind} contribution kept conflicting")  # the queue retries it


# --- reading the aggregates ------------------------------------------------------------------


def _plain(raw: dict[str, Any]) -> dict[str, int]:
    return {
        k: int(v["N"]) for k, v in raw.items() if "N" in v and k not in ("version", "expires_at")
    }


def query_range(cid: str, lo_sk: str, hi_sk: str) -> dict[str, dict[str, int]]:
    """The aggregate items whose SK is between ``lo_sk`` and ``hi_sk``, by SK (paged through
    DynamoDB's 1 MB pages: a year of days is well under one)."""
    out: dict[str, dict[str, int]] = {}
    kwargs: dict[str, Any] = {
        "TableName": db.table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {
            ":pk": {"S": clinic_pk(cid)},
            ":lo": {"S": lo_sk},
            ":hi": {"S": hi_sk},
        },
    }
    while True:
        got = db.client().query(**kwargs)
        for raw in got.get("Items", []):
            out[raw["SK"]["S"]] = _plain(raw)
        if not got.get("LastEvaluatedKey"):
            return out
        kwargs["ExclusiveStartKey"] = got["LastEvaluatedKey"]


def get_one(cid: str, sk: str) -> dict[str, int]:
    got = db.client().get_item(
        TableName=db.table_name(), Key={"PK": {"S": clinic_pk(cid)}, "SK": {"S": sk}}
    )
    return _plain(got.get("Item") or {})


def overwrite(cid: str, sk: str, figures: dict[str, int]) -> None:
    """Replace an aggregate item whole (the rebuild)."""
    item = {
        "PK": clinic_pk(cid),
        "SK": sk,
        "entity": m.AGG,
        **{k: v for k, v in figures.items() if v},
    }
    db.client().put_item(
        TableName=db.table_name(), Item={k: _ser.serialize(v) for k, v in item.items()}
    )


def delete(cid: str, sk: str) -> None:
    db.client().delete_item(
        TableName=db.table_name(), Key={"PK": {"S": clinic_pk(cid)}, "SK": {"S": sk}}
    )


def put_contribution(cid: str, kind: str, record_id: str, c: Contribution) -> None:
    """Store a contribution without touching the aggregates (the rebuild, which writes the
    aggregates whole); its version moves on so a consumer racing it retries."""
    stored = _load(cid, kind, record_id)
    version = int(stored["version"]) if stored else 0
    pk = clinic_pk(cid)
    db.client().put_item(
        TableName=db.table_name(),
        Item={
            "PK": {"S": pk},
            "SK": {"S": m.contribution_sk(kind, record_id)},
            "entity": {"S": m.CONTRIB},
            "kind": {"S": kind},
            "record_id": {"S": record_id},
            "aggregates": {"S": json.dumps(c.aggregates, sort_keys=True)},
            "entries": {"S": json.dumps(c.entries, sort_keys=True)},
            "version": {"N": str(version + 1)},
        },
    )
