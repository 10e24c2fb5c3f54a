"""One-off: give audit entries written before ADR 0015 their by-type keys (GSI3, GSI4).

Entries written before them carry only the by-user (GSI1) and by-entity (GSI2) keys, so the
``entity_type`` filters (GSI3, and GSI4 with a user) do not list them until this has run; the
unfiltered log, the by-user and the by-entity filters list them as before. It reads the clinic's
whole log once (a migration's job, not a request's) and adds only the index keys, each write
conditional on the key still missing: what an entry says is never touched, and a second run
changes nothing.

    python -m chalicelib.audit.backfill <clinic_id> [<clinic_id> ...]
"""

from __future__ import annotations

import argparse

from pynamodb.exceptions import UpdateError

from chalicelib.core.audit import AuditEntry, index_keys
from chalicelib.core.db import clinic_pk
from chalicelib.core.observability import logger


def backfill(clinic_id: str) -> int:
    """Add the missing by-type keys to the clinic's entries; returns how many were updated."""
    updated = 0
    for e in AuditEntry.query(
        clinic_pk(clinic_id),
        AuditEntry.SK.startswith("AUDIT#"),
        filter_condition=AuditEntry.GSI4PK.does_not_exist(),
    ):
        if not isinstance(e, AuditEntry):
            continue
        keys = index_keys(clinic_id, e.actor_id, e.entity_type, e.entity_id)
        try:
            e.update(
                actions=[
                    AuditEntry.GSI3PK.set(keys["GSI3PK"]),
                    AuditEntry.GSI3SK.set(e.audit_id),
                    AuditEntry.GSI4PK.set(keys["GSI4PK"]),
                    AuditEntry.GSI4SK.set(e.audit_id),
                ],
                condition=AuditEntry.SK.exists() & AuditEntry.GSI4PK.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue  # done meanwhile by another run
            raise
        updated += 1
    return updated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.audit.backfill",
        description="Give audit entries written before ADR 0015 their by-type keys.",
    )
    parser.add_argument("clinic_ids", nargs="+", metavar="clinic_id")
    for cid in parser.parse_args(argv).clinic_ids:
        logger.info("audit entries backfilled", extra={"clinic_id": cid, "updated": backfill(cid)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
