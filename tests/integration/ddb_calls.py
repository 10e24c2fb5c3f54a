"""Counting the DynamoDB calls a piece of code makes (issue 23: a route's calls must not grow
with the clinic's data).

botocore event hooks would have to go on each client's own emitter, and PynamoDB makes one
client per connection from the sessions of ``core.scoping``: wrapping
``BaseClient._make_api_call``, which every botocore client goes through, counts them all. It
records each call's operation and the items it read (``ScannedCount`` of a Query, the items of
a GetItem or BatchGetItem).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client


@dataclass
class Calls:
    ops: list[str] = field(default_factory=list)
    read_items: int = 0

    @property
    def count(self) -> int:
        return len(self.ops)

    def by_op(self) -> Counter[str]:
        return Counter(self.ops)

    def of(self, *names: str) -> int:
        return sum(1 for o in self.ops if o in names)


def _read(op: str, response: dict[str, Any]) -> int:
    if op in ("Query", "Scan"):
        return int(response.get("ScannedCount", 0))
    if op == "GetItem":
        return 1 if response.get("Item") else 0
    if op == "BatchGetItem":
        return sum(len(v) for v in (response.get("Responses") or {}).values())
    return 0


@contextmanager
def dynamodb_calls() -> Iterator[Calls]:
    """Count, while the block runs, every DynamoDB call of this process."""
    calls = Calls()
    real = botocore.client.BaseClient._make_api_call  # noqa: SLF001

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        response = real(self, operation_name, api_params)
        if self.meta.service_model.service_name == "dynamodb":
            calls.ops.append(operation_name)
            calls.read_items += _read(operation_name, response)
        return response

    botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = real  # type: ignore[method-assign]  # noqa: SLF001
