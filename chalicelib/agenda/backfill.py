"""One-off: give appointments booked before ADR 0305 their clinic-time key (GSI4).

Appointments booked before it carry the cabinet, patient and professional keys only, so the
every-cabinet day and week views and the end-of-day summary (which read GSI4) do not show them
until this has run; the views of one cabinet or one professional show them as before. It reads
the clinic's appointments once (a migration's job, not a request's) and adds only the index
keys, copied from the cabinet key's start, each write conditional on the key still missing: an
appointment is never otherwise touched, and a second run changes nothing.

    python -m chalicelib.agenda.backfill <clinic_id> [<clinic_id> ...]
"""

from __future__ import annotations

import argparse

from pynamodb.exceptions import UpdateError

from chalicelib.agenda.models import Appointment, clinic_index
from chalicelib.core.db import clinic_pk
from chalicelib.core.observability import logger


def backfill(clinic_id: str) -> int:
    """Add the missing clinic-time keys to the clinic's appointments; how many were updated."""
    updated = 0
    for a in Appointment.query(
        clinic_pk(clinic_id),
        Appointment.SK.startswith("APPT#"),
        filter_condition=Appointment.GSI4PK.does_not_exist(),
    ):
        if not isinstance(a, Appointment) or not a.GSI1SK:
            continue
        try:
            a.update(
                actions=[
                    Appointment.GSI4PK.set(clinic_index(clinic_id)),
                    Appointment.GSI4SK.set(a.GSI1SK),  # <start utc>#<id>, as every index
                ],
                condition=Appointment.SK.exists() & Appointment.GSI4PK.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue  # done meanwhile by another run
            raise
        updated += 1
    return updated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.agenda.backfill",
        description="Give appointments booked before ADR 0305 their clinic-time index key.",
    )
    parser.add_argument("clinic_ids", nargs="+", metavar="clinic_id")
    for cid in parser.parse_args(argv).clinic_ids:
        logger.info("appointments backfilled", extra={"clinic_id": cid, "updated": backfill(cid)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
