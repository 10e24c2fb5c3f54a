"""Time-sortable identifiers (ULID) and clock helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ulid_floor(dt: datetime) -> str:
    """The smallest ULID at ``dt``: lower bound for a sort-key range on ULIDs."""
    return str(ULID.from_timestamp(dt.timestamp()))[:10] + "0" * 16


def ulid_ceiling(dt: datetime) -> str:
    """The largest ULID at ``dt``: upper bound for a sort-key range on ULIDs."""
    return str(ULID.from_timestamp(dt.timestamp()))[:10] + "Z" * 16
