"""The embedded DynamoDB (moto + infra/local/moto_dynamodb): a cancelled transaction leaves
every item it named as it was, like DynamoDB, now that rollback is per item; and with the local
stack's write-ahead journal attached, every accepted write is journaled before its answer and
replays (in order, deletes and transactions included, a torn last line ignored) to the same
items."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core.config import settings
from infra.local import journal, moto_dynamodb
from infra.local.journal import Journal
from infra.local.provision import ACCOUNT
from tests.conftest import ENDPOINT, RESOURCES


@pytest.fixture
def ddb():
    return boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name=settings().region)


def _item(ddb, sk: str):
    r = ddb.get_item(TableName=RESOURCES.table_name, Key={"PK": {"S": "T#tx"}, "SK": {"S": sk}})
    return r.get("Item")


def _put(sk: str, **attrs):
    item = {"PK": {"S": "T#tx"}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}
    return {"Put": {"TableName": RESOURCES.table_name, "Item": item}}


def test_cancelled_transaction_restores_every_named_item(ddb):
    t = RESOURCES.table_name
    ddb.put_item(TableName=t, Item={"PK": {"S": "T#tx"}, "SK": {"S": "a"}, "v": {"S": "old"}})
    ddb.put_item(TableName=t, Item={"PK": {"S": "T#tx"}, "SK": {"S": "gone"}, "v": {"S": "keep"}})
    failing = {
        "ConditionCheck": {
            "TableName": t,
            "Key": {"PK": {"S": "T#tx"}, "SK": {"S": "missing"}},
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    delete = {"Delete": {"TableName": t, "Key": {"PK": {"S": "T#tx"}, "SK": {"S": "gone"}}}}
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(
            TransactItems=[_put("a", v="new"), _put("b", v="new"), delete, failing]
        )
    assert exc.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _item(ddb, "a")["v"] == {"S": "old"}
    assert _item(ddb, "b") is None
    assert _item(ddb, "gone")["v"] == {"S": "keep"}
    # and the same transaction without the failing check commits every part
    ddb.transact_write_items(TransactItems=[_put("a", v="new"), _put("b", v="new"), delete])
    assert _item(ddb, "a")["v"] == {"S": "new"} and _item(ddb, "b")["v"] == {"S": "new"}
    assert _item(ddb, "gone") is None


# --- Query by partition (correction 3) ------------------------------------------------------


def _gsi1(ddb, pk: str) -> list[str]:
    items = ddb.query(
        TableName=RESOURCES.table_name,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p AND GSI1SK >= :s",
        ExpressionAttributeValues={":p": {"S": pk}, ":s": {"S": "0"}},
    )["Items"]
    return [i["SK"]["S"] for i in items]


def _gsi_put(sk: str, gsi: str, order: str) -> dict:
    item = {"PK": {"S": "T#gsi"}, "SK": {"S": sk}, "GSI1PK": {"S": gsi}, "GSI1SK": {"S": order}}
    return {"Put": {"TableName": RESOURCES.table_name, "Item": item}}


def test_index_queries_follow_every_write_without_reading_the_whole_table(ddb, monkeypatch):
    from moto.dynamodb.models.table import Table

    t = RESOURCES.table_name
    for sk, order in (("b", "2"), ("a", "1"), ("c", "3")):
        ddb.transact_write_items(TransactItems=[_gsi_put(sk, "G#one", order)])
    assert _gsi1(ddb, "G#one") == ["a", "b", "c"]  # the index's order, as DynamoDB answers
    # From here no Query may list the table: every answer comes from the partition's items.
    monkeypatch.setattr(Table, "all_items", lambda self: pytest.fail("read the whole table"))
    key = {"PK": {"S": "T#gsi"}, "SK": {"S": "b"}}
    ddb.update_item(
        TableName=t,
        Key=key,
        UpdateExpression="SET GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": "G#two"}},
    )  # moved to another index partition in place
    assert _gsi1(ddb, "G#one") == ["a", "c"] and _gsi1(ddb, "G#two") == ["b"]
    ddb.update_item(TableName=t, Key=key, UpdateExpression="REMOVE GSI1PK")  # out of the index
    assert _gsi1(ddb, "G#two") == []
    ddb.delete_item(TableName=t, Key={"PK": {"S": "T#gsi"}, "SK": {"S": "c"}})
    assert _gsi1(ddb, "G#one") == ["a"]
    # a cancelled transaction that moved "a" leaves it where it was
    failing = {
        "ConditionCheck": {
            "TableName": t,
            "Key": {"PK": {"S": "T#gsi"}, "SK": {"S": "missing"}},
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[_gsi_put("a", "G#two", "9"), failing])
    assert _gsi1(ddb, "G#one") == ["a"] and _gsi1(ddb, "G#two") == []
    base = ddb.query(
        TableName=t,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "T#gsi"}},
    )["Items"]
    assert [i["SK"]["S"] for i in base] == ["a", "b"]  # the table's own partition, in order
    ddb.transact_write_items(TransactItems=[_gsi_put(sk, "G#one", sk) for sk in ("x1", "x2", "y")])
    prefixed = ddb.query(
        TableName=t,
        KeyConditionExpression="PK = :p AND begins_with(SK, :x)",
        ExpressionAttributeValues={":p": {"S": "T#gsi"}, ":x": {"S": "x"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert [i["SK"]["S"] for i in prefixed["Items"]] == ["x2"]  # newest first, then a page on
    rest = ddb.query(
        TableName=t,
        KeyConditionExpression="PK = :p AND begins_with(SK, :x)",
        ExpressionAttributeValues={":p": {"S": "T#gsi"}, ":x": {"S": "x"}},
        ScanIndexForward=False,
        ExclusiveStartKey=prefixed["LastEvaluatedKey"],
    )
    assert [i["SK"]["S"] for i in rest["Items"]] == ["x1"]
    between = ddb.query(
        TableName=t,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p AND GSI1SK BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "G#one"}, ":lo": {"S": "x"}, ":hi": {"S": "x9"}},
    )["Items"]
    assert [i["SK"]["S"] for i in between] == ["x1", "x2"]


def test_a_query_reads_only_the_keys_its_condition_can_match(ddb, monkeypatch):
    """Every key condition answers what a brute-force filter of the partition answers, in
    order, on the table and on an index; and a narrow range reads about its own items, not the
    partition (the clinic's partition holds every record of the clinic)."""
    from moto.dynamodb.models.table import Table

    t = RESOURCES.table_name
    sks = [f"{kind}#{n:03d}" for kind in ("A", "AB", "B") for n in range(0, 120, 3)]
    part = {"PK": {"S": "T#sorted"}}
    for i in range(0, len(sks), 25):
        ddb.batch_write_item(
            RequestItems={
                t: [
                    {
                        "PutRequest": {
                            "Item": {**_gsi_put(sk, "G#sorted", sk)["Put"]["Item"], **part}
                        }
                    }
                    for sk in sks[i : i + 25]
                ]
            }
        )
    ddb.delete_item(TableName=t, Key={"PK": {"S": "T#sorted"}, "SK": {"S": "A#003"}})
    sks.remove("A#003")
    conditions = {
        "SK = :a": ("A#030", None, lambda k: k == "A#030"),
        "SK < :a": ("A#030", None, lambda k: k < "A#030"),
        "SK <= :a": ("A#030", None, lambda k: k <= "A#030"),
        "SK > :a": ("AB#100", None, lambda k: k > "AB#100"),
        "SK >= :a": ("AB#100", None, lambda k: k >= "AB#100"),
        "SK BETWEEN :a AND :b": ("A#010", "A#040", lambda k: "A#010" <= k <= "A#040"),
        "begins_with(SK, :a)": ("A#", None, lambda k: k.startswith("A#")),
        "begins_with(SK, :a) ": ("AB", None, lambda k: k.startswith("AB")),
    }
    for where, (a, b, keep) in conditions.items():
        values = {":a": {"S": a}, **({":b": {"S": b}} if b else {})}
        expected = sorted(k for k in sks if keep(k))
        for index, pk, key in ((None, "PK", "T#sorted"), ("GSI1", "GSI1PK", "G#sorted")):
            kw = {"IndexName": index} if index else {}
            cond = where.replace("SK", "GSI1SK") if index else where
            items = ddb.query(
                TableName=t,
                KeyConditionExpression=f"{pk} = :p AND {cond}",
                ExpressionAttributeValues={":p": {"S": key}, **values},
                **kw,
            )["Items"]
            assert [i["SK"]["S"] for i in items] == expected, (where, index)
    reads = []
    get_item = Table.get_item
    monkeypatch.setattr(
        Table, "get_item", lambda self, *a, **k: reads.append(1) or get_item(self, *a, **k)
    )
    ddb.query(
        TableName=t,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p AND GSI1SK BETWEEN :a AND :b",
        ExpressionAttributeValues={
            ":p": {"S": "G#sorted"},
            ":a": {"S": "B#000"},
            ":b": {"S": "B#010"},
        },
    )
    assert 0 < len(reads) <= 8  # four items (and moto's own look-ups), not the 119 of the index


# --- the write-ahead journal of the local stack (moto_dynamodb.record_writes / replay) -------

PK = {"S": "T#journal"}


@pytest.fixture
def journaled(ddb, tmp_path):
    """The local stack's journal attached to this process's moto, as the runner attaches it;
    the test's partition starts empty."""
    _forget_partition(ddb)
    j = Journal(tmp_path / "journal")
    moto_dynamodb.record_writes(j.append)
    yield j
    moto_dynamodb.record_writes(None)
    j.close()


def _key(sk: str) -> dict:
    return {"PK": PK, "SK": {"S": sk}}


def _partition(ddb) -> dict[str, dict]:
    items = ddb.query(
        TableName=RESOURCES.table_name,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": PK},
        ConsistentRead=True,
    )["Items"]
    return {i["SK"]["S"]: i for i in items}


def _forget_partition(ddb) -> None:
    """What a new moto knows of the partition: nothing (the journal is detached meanwhile)."""
    for sk in _partition(ddb):
        ddb.delete_item(TableName=RESOURCES.table_name, Key=_key(sk))
    assert _partition(ddb) == {}


def _replay(folder) -> int:
    entries, _ = journal.read(folder)
    return moto_dynamodb.replay(entries, ACCOUNT, settings().region)


def _lines(j: Journal) -> int:
    return len(journal.read(j.folder)[0])


def test_each_accepted_write_is_journaled_before_its_answer_and_replays_to_the_same_items(
    ddb, journaled
):
    t = RESOURCES.table_name
    rich = {
        **_key("rich"),
        "s": {"S": "ñandú"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x00\xffbinary"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "m": {"M": {"inner": {"B": b"\x03"}, "l": {"L": [{"N": "1"}, {"NULL": True}]}}},
        "ok": {"BOOL": False},
    }
    steps = [
        lambda: ddb.put_item(TableName=t, Item=rich),
        lambda: ddb.put_item(TableName=t, Item={**_key("x"), "v": {"S": "1"}}),
        lambda: ddb.put_item(TableName=t, Item={**_key("x"), "v": {"S": "2"}}),
        lambda: ddb.update_item(
            TableName=t,
            Key=_key("x"),
            UpdateExpression="SET v = :v ADD c :one",
            ExpressionAttributeValues={":v": {"S": "3"}, ":one": {"N": "1"}},
        ),
        lambda: ddb.update_item(  # creates its item
            TableName=t,
            Key=_key("counter"),
            UpdateExpression="ADD latest :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        lambda: ddb.put_item(TableName=t, Item={**_key("gone"), "v": {"S": "soon"}}),
        lambda: ddb.delete_item(TableName=t, Key=_key("gone")),
        lambda: ddb.batch_write_item(
            RequestItems={
                t: [
                    {"PutRequest": {"Item": {**_key("batch1"), "v": {"S": "b"}}}},
                    {"PutRequest": {"Item": {**_key("batch2"), "v": {"S": "b"}}}},
                    {"DeleteRequest": {"Key": _key("x")}},
                ]
            }
        ),
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": {**_key("tx"), "v": {"S": "t"}}}},
                {
                    "Update": {
                        "TableName": t,
                        "Key": _key("counter"),
                        "UpdateExpression": "SET latest = :two",
                        "ConditionExpression": "latest = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": t, "Key": _key("batch2")}},
            ]
        ),
    ]
    for n, step in enumerate(steps, start=1):
        step()
        assert _lines(journaled) == n, f"step {n} was answered before it was journaled"

    # Refused writes change nothing: a failed condition, and a cancelled transaction (whose
    # first part moto applied and rolled back) leave the items as they were.
    with pytest.raises(ClientError):
        ddb.put_item(
            TableName=t,
            Item={**_key("tx"), "v": {"S": "nope"}},
            ConditionExpression="attribute_not_exists(PK)",
        )
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": {**_key("tx"), "v": {"S": "nope"}}}},
                {"Delete": {"TableName": t, "Key": _key("batch1")}},
                {
                    "ConditionCheck": {
                        "TableName": t,
                        "Key": _key("counter"),
                        "ConditionExpression": "latest = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert ddb.get_item(TableName=t, Key=_key("rich"))["Item"] == rich
    expected = _partition(ddb)
    assert set(expected) == {"rich", "counter", "batch1", "tx"}
    assert expected["counter"]["latest"] == {"N": "2"}

    moto_dynamodb.record_writes(None)
    _forget_partition(ddb)
    assert _replay(journaled.folder) > 0
    assert _partition(ddb) == expected


def test_replay_applies_the_writes_in_their_order(ddb, journaled):
    t = RESOURCES.table_name
    ddb.put_item(TableName=t, Item={**_key("k"), "v": {"S": "first"}})
    ddb.delete_item(TableName=t, Key=_key("k"))
    ddb.put_item(TableName=t, Item={**_key("k"), "v": {"S": "third"}})
    ddb.put_item(TableName=t, Item={**_key("d"), "v": {"S": "only"}})
    ddb.delete_item(TableName=t, Key=_key("d"))
    moto_dynamodb.record_writes(None)
    _forget_partition(ddb)
    _replay(journaled.folder)
    assert _partition(ddb) == {"k": {**_key("k"), "v": {"S": "third"}}}
    # a second replay of the same journal (a snapshot covered it, the stack died before it was
    # truncated) leaves the same items: lines are whole images, not increments
    _replay(journaled.folder)
    assert _partition(ddb) == {"k": {**_key("k"), "v": {"S": "third"}}}


def test_a_write_torn_by_a_crash_mid_append_is_not_replayed(ddb, journaled):
    t = RESOURCES.table_name
    ddb.put_item(TableName=t, Item={**_key("a"), "v": {"S": "1"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": t, "Item": {**_key("b"), "v": {"S": "1"}}}},
            {"Put": {"TableName": t, "Item": {**_key("c"), "v": {"S": "1"}}}},
        ]
    )
    before_last = _partition(ddb)
    ddb.transact_write_items(  # the write the crash interrupts: its line is cut short
        TransactItems=[
            {"Put": {"TableName": t, "Item": {**_key("a"), "v": {"S": "2"}}}},
            {"Delete": {"TableName": t, "Key": _key("b")}},
        ]
    )
    moto_dynamodb.record_writes(None)
    journaled.close()
    segment = journaled.segment(journal.segment_numbers(journaled.folder)[-1])
    data = segment.read_bytes()
    segment.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1 + 30])
    _forget_partition(ddb)
    _replay(journaled.folder)
    # nothing of the torn transaction, everything before it
    assert _partition(ddb) == before_last
