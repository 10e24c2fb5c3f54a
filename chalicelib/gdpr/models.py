"""GDPR export items (one table; keys from the authenticated clinic). ADR 1401.

* Export: ``C#<cid>`` / ``GDPR#EXP#<pid>#<export id>``: a patient's exports are one Query of
  that prefix, newest first (ids are ULIDs). TTL (``expires_at``) 7 days after it was asked
  for, like the ZIP's lifecycle rule.
* ExportRunning: ``C#<cid>`` / ``GDPR#RUN#<pid>``: at most one export of a patient runs at
  a time. Written with the export (``attribute_not_exists`` or past its ``until``), removed
  when the export ends; its TTL and ``until`` free a patient whose worker died.

Erasure and retention (ADR 1405):

* Erasure: ``C#<cid>`` / ``GDPR#ERA#<pid>``: at most one per patient (the request blocks the
  patient for good). Status, the steps done (resumable), the report (kinds erased and kept,
  why and until when) and the retention days. Ids and counts only: no PHI.
* RetentionSettings: ``C#<cid>`` / ``GDPR#RETENTION``: the clinic's periods in years.
* RetentionDue (global): ``JOB#RETDUE#<YYYY-MM-DD>`` / ``C#<cid>#<pid>#<category>``: what a
  patient's kept data of one category (clinical, billing) becomes erasable on that day (the
  day after the period ends). The daily job queries only the days since its last run.
  Under ``JOB#`` like the other jobs' global items (ADR 0012's global keys).
* RetentionCursor (global): ``JOB#RETENTION`` / ``CURSOR``: the last day the job finished.
* MessageRetention (global): ``JOB#RETMSG`` / ``C#<cid>``: a clinic that keeps patient messages
  for a number of years (written and deleted with its settings), so the job finds the clinics
  with a messages period by one Query, never a Scan.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk

EXPORT_DAYS = 7
"""How long an export (the item and its ZIP) is kept."""

RUNNING_S = 2 * 3600
"""After this long a running export no longer blocks a new one (its worker died)."""


def export_key(clinic_id: str, export_id: str) -> str:
    """The ZIP's object key, under the clinic's prefix (its scoped credentials reach it)."""
    return f"clinics/{clinic_id}/gdpr-exports/{export_id}/export.zip"


class Export(Item, discriminator="GdprExport"):
    export_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    # pending | building | ready | failed
    status = UnicodeAttribute(default="pending")
    reason = UnicodeAttribute(null=True)  # why it failed, in English
    reason_es = UnicodeAttribute(null=True)
    reason_code = UnicodeAttribute(null=True)  # too_large | patient_gone | error
    requested_by = UnicodeAttribute()
    requested_by_name = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="es")  # the index's language (the clinic's)
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    valid_until = UTCDateTimeAttribute()
    size = NumberAttribute(null=True)  # bytes of the ZIP
    files = NumberAttribute(null=True)  # entries in the ZIP
    sections = JSONAttribute(null=True)  # {section: count of records}
    # The worker's claim: who builds it (SQS message id) and until when (epoch s).
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str, export_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"GDPR#EXP#{patient_id}#{export_id}"

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"GDPR#EXP#{patient_id}#"


class ExportRunning(Item, discriminator="GdprExportRunning"):
    export_id = UnicodeAttribute()
    until = NumberAttribute()  # epoch s

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"GDPR#RUN#{patient_id}"


class Erasure(Item, discriminator="GdprErasure"):
    erasure_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    # pending | running | done (kept data waiting for its retention) | purged (nothing left)
    status = UnicodeAttribute(default="pending")
    reason_code = UnicodeAttribute()  # patient_request | other (free text is not kept: PHI)
    requested_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    steps_done = ListAttribute(of=UnicodeAttribute, default=list)
    # [{kind, category, action: erased|kept|purged, count, until}] (ids and counts only)
    report = JSONAttribute(default=list)
    # category -> ISO day its kept data becomes erasable (absent: nothing kept)
    until = JSONAttribute(default=dict)
    purged = ListAttribute(of=UnicodeAttribute, default=list)  # categories purged
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"GDPR#ERA#{patient_id}"


class RetentionSettings(Item, discriminator="GdprRetention"):
    periods = JSONAttribute(default=dict)  # {kind: years}
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "GDPR#RETENTION"


class RetentionDue(Item, discriminator="GdprRetentionDue"):
    clinic_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    category = UnicodeAttribute()

    @staticmethod
    def key(day: str, clinic_id: str, patient_id: str, category: str) -> tuple[str, str]:
        return f"JOB#RETDUE#{day}", f"C#{clinic_id}#{patient_id}#{category}"


class RetentionCursor(Item, discriminator="GdprRetentionCursor"):
    last_day = UnicodeAttribute()

    @staticmethod
    def key() -> tuple[str, str]:
        return "JOB#RETENTION", "CURSOR"


class MessageRetention(Item, discriminator="GdprMessageRetention"):
    clinic_id = UnicodeAttribute()
    years = NumberAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return MessageRetention.pk(), f"C#{clinic_id}"

    @staticmethod
    def pk() -> str:
        return "JOB#RETMSG"
