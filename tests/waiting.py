"""Waiting for a condition, never for a fixed time: a slow or loaded machine only waits longer.

A test that waits polls what it is waiting for, with a generous bound, and when the bound is
reached says what never happened (instead of failing later on a stale answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], what: str, timeout_s: float = 120, interval_s: float = 0.2
) -> T:
    """Call ``condition`` until it returns something truthy, and return that; after
    ``timeout_s`` fail with an AssertionError that names ``what`` was awaited."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)
