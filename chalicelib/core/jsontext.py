"""JSON that comes from outside (request bodies, cursors, webhooks), with bounded nesting.

Python's parser recurses once per level: a body nested a thousand levels deep raised
``RecursionError`` (not a ``ValueError``), which answered 500, and what parses at a few hundred
levels still recurses again in pydantic, the audit log and ``json.dumps``. No document of this
API nests more than a handful of levels, so anything deeper than :data:`MAX_DEPTH` is refused
as malformed input.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class TooDeep(ValueError):
    """The JSON nests more than MAX_DEPTH arrays or objects."""


def loads(raw: str | bytes | bytearray) -> Any:
    """``json.loads`` that raises ``ValueError`` (:class:`TooDeep`) for deep nesting."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep") from exc
    if depth(value) > MAX_DEPTH:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    return value


def depth(value: Any) -> int:
    """How many arrays/objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
