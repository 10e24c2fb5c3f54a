"""Queries on the audit log, each filter served by its own partition (ADR 0015): the clinic's
(no filter), by user (GSI1), by entity (GSI2), by entity type (GSI3), by user within an entity
type (GSI4); the date range is a sort-key range on any of them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.audit.schemas import AuditEntryOut, AuditQuery
from chalicelib.core.api import Principal
from chalicelib.core.audit import AuditEntry, index_keys
from chalicelib.core.csvcells import text_cell
from chalicelib.core.db import Item, clinic_pk, decode_cursor, encode_cursor, page
from chalicelib.core.ids import ulid_ceiling, ulid_floor

EXPORT_MAX_ROWS = 50_000


def _out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        audit_id=e.audit_id,
        at=e.at,
        actor_type=e.actor_type,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        action=e.action,
        entity_type=e.entity_type,
        entity_id=e.entity_id,
        ip=e.ip,
        user_agent=e.user_agent,
        changes=e.changes,
    )


def _range(q: AuditQuery) -> tuple[str, str]:
    lo = ulid_floor(q.date_from) if q.date_from else "0" * 26
    hi = ulid_ceiling(q.date_to) if q.date_to else ulid_ceiling(datetime.now(UTC))
    return lo, hi


def search(principal: Principal, q: AuditQuery) -> tuple[list[AuditEntryOut], str | None]:
    """One page of the log, newest first: ONE Query on the partition that holds exactly the
    entries the filters ask for (ADR 0015), so a page costs the same on any size of log."""
    cid = principal.clinic_id
    lo, hi = _range(q)
    keys = index_keys(cid, q.user_id or "", q.entity_type or "", q.entity_id or "")
    if q.entity_type and q.entity_id:
        # One entity's history (GSI2). With a user too - the one combination without its own
        # partition - the page is that history filtered by actor: one Query reading at most
        # ``limit`` entries, so a page may come back short (even empty) with a cursor.
        name, gpk = "GSI2", keys["GSI2PK"]
        if q.user_id:
            return _one_query(
                Item.gsi2.query(
                    gpk,
                    Item.GSI2SK.between(lo, hi),
                    scan_index_forward=False,
                    page_size=q.limit,
                    filter_condition=AuditEntry.actor_id == q.user_id,
                    last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", gpk)),
                )
            )
    elif q.entity_type and q.user_id:
        name, gpk = "GSI4", keys["GSI4PK"]
    elif q.entity_type:
        name, gpk = "GSI3", keys["GSI3PK"]
    elif q.user_id:
        name, gpk = "GSI1", keys["GSI1PK"]
    else:
        pk = clinic_pk(cid)
        it = AuditEntry.query(
            pk,
            AuditEntry.SK.between(f"AUDIT#{lo}", f"AUDIT#{hi}"),
            scan_index_forward=False,
            limit=q.limit,
            page_size=q.limit,
            last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
        )
        return _page(it)
    index = getattr(Item, name.lower())
    it = index.query(
        gpk,
        getattr(Item, f"{name}SK").between(lo, hi),
        scan_index_forward=False,
        limit=q.limit,
        page_size=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=(f"{name}PK", gpk)),
    )
    return _page(it)


def _page(it: Any) -> tuple[list[AuditEntryOut], str | None]:
    # Unfiltered: one Query of ``limit`` entries, PynamoDB stops there. (A last page that is
    # exactly full still gets a cursor from DynamoDB; the page after it is empty.)
    items, cursor = page(it)
    return [_out(e) for e in items if isinstance(e, AuditEntry)], cursor


def _one_query(it: Any) -> tuple[list[AuditEntryOut], str | None]:
    """Exactly one Query of the iterator (PynamoDB would go on until ``limit`` matched)."""
    raw = next(it.page_iter)
    found = (Item.from_raw_data(r) for r in raw.get("Items", []))
    items = [_out(e) for e in found if isinstance(e, AuditEntry)]
    return items, encode_cursor(it.page_iter.last_evaluated_key)


CSV_COLUMNS = [
    "at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "entity_type",
    "entity_id",
    "ip",
    "user_agent",
    "changes",
]


def export_csv(principal: Principal, q: AuditQuery) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    q = q.model_copy(update={"limit": 200, "cursor": None})
    rows = 0
    while True:
        entries, cursor = search(principal, q)
        for e in entries:
            d = e.model_dump(mode="json")
            d["changes"] = json.dumps(d["changes"], ensure_ascii=False) if d["changes"] else ""
            w.writerow([text_cell(d[c]) for c in CSV_COLUMNS])
            rows += 1
        if not cursor or rows >= EXPORT_MAX_ROWS:
            break
        q = q.model_copy(update={"cursor": cursor})
    return buf.getvalue()
