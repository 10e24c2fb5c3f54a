"""The single DynamoDB table, modelled with PynamoDB.

Every tenant item has ``PK = "C#<clinic_id>"`` and a sort key that names the entity and its id.
Models subclass :class:`Item` with a discriminator, so a Query on a partition returns the right
model class for each item. Keys are always built from the authenticated context (see
``chalicelib.core.tenancy``), never from a request body.

GSIs (overloaded, see docs/data-model.md): GSI1, GSI2, GSI3, GSI4, each ``<name>PK``/``<name>SK``.
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import (
    DiscriminatorAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.connection import base as _pynamodb_connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import jsontext, scoping
from chalicelib.core.errors import BadRequest
from chalicelib.core.i18n import tr

# PynamoDB builds each connection's botocore client from ``get_session()``: give it sessions
# that sign with the clinic-scoped credentials (ADR 0012), so models and transactions run with
# the current clinic's credentials inside ``scoping.clinic(...)`` and with the function's own
# outside, on the same clients.
_pynamodb_connection.get_session = lambda: scoping.session("dynamodb")  # type: ignore[attr-defined]


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-south-2"


def clinic_pk(clinic_id: str) -> str:
    return f"C#{clinic_id}"


class _GSI1(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class _GSI2(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class _GSI3(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class _GSI4(GlobalSecondaryIndex["Item"]):
    # Audit entries by actor within an entity type (ADR 0015); free for other entities.
    class Meta:
        index_name = "GSI4"
        projection = AllProjection()

    GSI4PK = UnicodeAttribute(hash_key=True)
    GSI4SK = UnicodeAttribute(range_key=True)


class Item(Model):
    """Base of every item in the table."""

    class Meta:
        table_name = os.environ.get("TABLE_NAME", "cuspide-local")
        region = _region()

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)
    GSI4SK = UnicodeAttribute(null=True)
    entity = DiscriminatorAttribute()
    expires_at = TTLAttribute(null=True)

    gsi1 = _GSI1()
    gsi2 = _GSI2()
    gsi3 = _GSI3()
    gsi4 = _GSI4()


M = TypeVar("M", bound=Item)


@cache
def _connection() -> Connection:
    # One per process, like the models' own: a new Connection builds a new botocore client,
    # which costs more than the transaction itself.
    return Connection(region=_region())


def client() -> Any:
    """The table's low-level botocore client (clinic-scoped like the models'), for the few
    writes PynamoDB cannot express: ``ADD`` to attributes whose names are data (the report
    aggregates, ADR 1301)."""
    return _connection().client


def table_name() -> str:
    return str(Item.Meta.table_name)


def transaction() -> TransactWrite:
    """A write transaction on the table (use as a context manager)."""
    return TransactWrite(connection=_connection())


# --- opaque cursors ------------------------------------------------------------------------


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    flat = {k: v["S"] for k, v in last_evaluated_key.items() if "S" in v}
    raw = json.dumps(flat, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, partition: tuple[str, str]) -> dict[str, Any] | None:
    """Decode a cursor and check it belongs to the partition being queried.

    A cursor from another query (or another clinic) is refused with 400 rather than handed to
    DynamoDB, which would either fail or, worse, start somewhere it should not.
    """
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        flat = jsontext.loads(raw)
        if not isinstance(flat, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in flat.items()
        ):
            raise ValueError
    except (ValueError, TypeError) as exc:
        raise BadRequest(
            tr(
                "The cursor is not valid; start again without it.",
                "El cursor no es válido; empieza de nuevo sin él.",
            )
        ) from exc
    key_name, key_value = partition
    if flat.get(key_name) != key_value:
        raise BadRequest(
            tr(
                "The cursor belongs to a different listing; start again without it.",
                "El cursor es de otro listado; empieza de nuevo sin él.",
            )
        )
    return {k: {"S": v} for k, v in flat.items()}


def page(result_iterator: Any) -> tuple[list[Any], str | None]:
    """Drain one page of a PynamoDB ResultIterator created with ``limit=`` and return its items
    and the cursor for the next page (None at the end)."""
    items = list(result_iterator)
    return items, encode_cursor(result_iterator.last_evaluated_key)
