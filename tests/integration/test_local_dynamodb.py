"""The embedded DynamoDB (moto + infra/local/moto_dynamodb): a cancelled transaction leaves
every item it named as it was, like DynamoDB, now that rollback is per item."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.core.config import settings
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
