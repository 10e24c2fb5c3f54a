"""Fixed-window rate limits on DynamoDB atomic counters (shared by every Lambda instance).

Subjects (email, ip, an email and an ip together) are stored only as a hash. A counter's key
names its window (``RL#<bucket>#<hash>`` / ``W#<window start>``), so a new window starts from
zero without anyone resetting it; counters and marks expire by TTL.

- :func:`hit` counts an event and refuses once the window holds more than the limit.
- :func:`take` is the atomic form for a scarce allowance: it counts only while the window holds
  fewer than the limit, so concurrent callers cannot overshoot it.
- :func:`add` counts without refusing; :func:`peek` reads several counters and marks in one
  round trip; :func:`check` refuses if a window is already full.
- :func:`mark` / a :class:`Mark` in :func:`peek` remember a fact for a while (e.g. "this account
  signed in from this address").

A refusal is 429 with ``Retry-After``: the seconds until the window ends, when it starts again.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.core.db import Item
from chalicelib.core.errors import TooManyRequests


class RateCounter(Item, discriminator="RateCounter"):
    count = NumberAttribute(default=0)


def _pk(bucket: str, subject: str) -> str:
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
    return f"RL#{bucket}#{digest}"


def window_end(window_s: int) -> int:
    """When the current fixed window of ``window_s`` seconds ends (epoch seconds)."""
    return int(time.time() // window_s * window_s) + window_s


def retry_after(window_s: int) -> int:
    """Seconds until the current window ends: a caller refused now may try again then."""
    return max(1, math.ceil(window_end(window_s) - time.time()))


@dataclass(frozen=True)
class Window:
    """One subject's counter in a bucket, in the current fixed window."""

    bucket: str
    subject: str
    window_s: int

    def key(self) -> tuple[str, str]:
        end = window_end(self.window_s)
        return _pk(self.bucket, self.subject), f"W#{end - self.window_s}"

    def refuse(self, message: str) -> TooManyRequests:
        return TooManyRequests(message, retry_after=retry_after(self.window_s))


@dataclass(frozen=True)
class Mark:
    """A remembered fact about a subject (see :func:`mark`)."""

    bucket: str
    subject: str

    def key(self) -> tuple[str, str]:
        return _pk(self.bucket, self.subject), "MARK"


def _expiry(window_s: int) -> datetime:
    return datetime.fromtimestamp(window_end(window_s) + 60, UTC)


def hit(bucket: str, subject: str, *, limit: int, window_s: int, message: str) -> int:
    """Count one event; refuse with 429 once more than ``limit`` happened in the window."""
    w = Window(bucket, subject, window_s)
    count = add(w)
    if count > limit:
        raise w.refuse(message)
    return count


def add(w: Window) -> int:
    """Count one event in the window; returns the new count."""
    counter = RateCounter(*w.key())
    counter.update(
        actions=[RateCounter.count.add(1), RateCounter.expires_at.set(_expiry(w.window_s))]
    )
    return int(counter.count)


def take(w: Window, *, limit: int, message: str) -> int:
    """Count one event only if the window holds fewer than ``limit``; otherwise 429.

    The condition is evaluated by DynamoDB, so however many callers race for the last unit of
    the allowance, only ``limit`` of them get one.
    """
    counter = RateCounter(*w.key())
    try:
        counter.update(
            actions=[RateCounter.count.add(1), RateCounter.expires_at.set(_expiry(w.window_s))],
            condition=RateCounter.count.does_not_exist() | (RateCounter.count < limit),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise w.refuse(message) from exc
        raise
    return int(counter.count)


def peek(entries: Sequence[Window | Mark]) -> list[int]:
    """The count of each window and 1/0 for each mark (present and not expired), in one read."""
    keys = [e.key() for e in entries]
    found: dict[tuple[str, str], RateCounter] = {
        (c.PK, c.SK): c for c in RateCounter.batch_get(list(set(keys)), consistent_read=True)
    }
    out = []
    for e, k in zip(entries, keys, strict=True):
        item = found.get(k)
        if item is None:
            out.append(0)
        elif isinstance(e, Mark):
            alive = item.expires_at is None or item.expires_at.timestamp() > time.time()
            out.append(1 if alive else 0)
        else:
            out.append(int(item.count))
    return out


def mark(m: Mark, *, ttl_s: int) -> None:
    """Remember ``m`` for ``ttl_s`` seconds (from now; marking again extends it)."""
    RateCounter(
        *m.key(), count=1, expires_at=datetime.fromtimestamp(time.time() + ttl_s, UTC)
    ).save()


def check(bucket: str, subject: str, *, limit: int, window_s: int, message: str) -> None:
    """Refuse with 429 if ``limit`` events already happened in the window (does not count)."""
    w = Window(bucket, subject, window_s)
    try:
        counter = RateCounter.get(*w.key(), consistent_read=True)
    except DoesNotExist:
        return
    if counter.count >= limit:
        raise w.refuse(message)


def clear_and_mark(windows: Sequence[Window], m: Mark, *, ttl_s: int) -> None:
    """Forget ``windows`` and remember ``m`` (as :func:`mark`) in one BatchWriteItem."""
    expires = datetime.fromtimestamp(time.time() + ttl_s, UTC)
    with RateCounter.batch_write() as batch:
        for w in windows:
            batch.delete(RateCounter(*w.key()))
        batch.save(RateCounter(*m.key(), count=1, expires_at=expires))


def clear(bucket: str, subject: str, *, window_s: int) -> None:
    RateCounter(*Window(bucket, subject, window_s).key()).delete()
