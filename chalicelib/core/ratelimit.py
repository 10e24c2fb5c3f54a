"""Fixed-window rate limits on DynamoDB atomic counters (shared by every Lambda instance).

Subjects (email, ip) are stored only as a hash. Counters expire by TTL.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.db import Item
from chalicelib.core.errors import TooManyRequests


class RateCounter(Item, discriminator="RateCounter"):
    count = NumberAttribute(default=0)


def _keys(bucket: str, subject: str, window_s: int) -> tuple[str, str, int]:
    start = int(time.time() // window_s * window_s)
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
    return f"RL#{bucket}#{digest}", f"W#{start}", start + window_s


def hit(bucket: str, subject: str, *, limit: int, window_s: int, message: str) -> int:
    """Count one event; refuse with 429 once more than ``limit`` happened in the window."""
    pk, sk, window_end = _keys(bucket, subject, window_s)
    counter = RateCounter(PK=pk, SK=sk)
    counter.update(
        actions=[
            RateCounter.count.add(1),
            RateCounter.expires_at.set(datetime.fromtimestamp(window_end + 60, UTC)),
        ]
    )
    if counter.count > limit:
        raise TooManyRequests(message, retry_after=math.ceil(window_end - time.time()))
    return int(counter.count)


def check(bucket: str, subject: str, *, limit: int, window_s: int, message: str) -> None:
    """Refuse with 429 if ``limit`` events already happened in the window (does not count)."""
    pk, sk, window_end = _keys(bucket, subject, window_s)
    try:
        counter = RateCounter.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return
    if counter.count >= limit:
        raise TooManyRequests(message, retry_after=math.ceil(window_end - time.time()))


def clear(bucket: str, subject: str, *, window_s: int) -> None:
    pk, sk, _ = _keys(bucket, subject, window_s)
    RateCounter(PK=pk, SK=sk).delete()
