"""Queries on the audit log: by clinic (date range), by user (GSI1), by entity (GSI2)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from chalicelib.audit.schemas import AuditEntryOut, AuditQuery
from chalicelib.core.api import Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.csvcells import text_cell
from chalicelib.core.db import Item, clinic_pk, decode_cursor, page
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
    pk = clinic_pk(principal.clinic_id)
    lo, hi = _range(q)
    if q.entity_type:
        # By entity (optionally by type only is not indexed: entity_id is required for GSI2).
        if q.entity_id:
            gpk = f"{pk}#AUDIT#E#{q.entity_type}#{q.entity_id}"
            it = Item.gsi2.query(
                gpk,
                Item.GSI2SK.between(lo, hi),
                scan_index_forward=False,
                limit=q.limit,
                filter_condition=(AuditEntry.actor_id == q.user_id) if q.user_id else None,
                last_evaluated_key=decode_cursor(q.cursor, partition=("GSI2PK", gpk)),
            )
        else:
            it = _by_clinic(pk, lo, hi, q, AuditEntry.entity_type == q.entity_type)
    elif q.user_id:
        gpk = f"{pk}#AUDIT#U#{q.user_id}"
        it = Item.gsi1.query(
            gpk,
            Item.GSI1SK.between(lo, hi),
            scan_index_forward=False,
            limit=q.limit,
            last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", gpk)),
        )
    else:
        it = _by_clinic(pk, lo, hi, q, None)
    items, cursor = page(it)
    return [_out(e) for e in items if isinstance(e, AuditEntry)], cursor


def _by_clinic(pk: str, lo: str, hi: str, q: AuditQuery, condition):  # type: ignore[no-untyped-def]
    if q.user_id:
        extra = AuditEntry.actor_id == q.user_id
        condition = extra if condition is None else condition & extra
    return AuditEntry.query(
        pk,
        AuditEntry.SK.between(f"AUDIT#{lo}", f"AUDIT#{hi}"),
        scan_index_forward=False,
        limit=q.limit,
        filter_condition=condition,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )


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
