"""What a timeline entry may hold: the known event types and, per type, the payload fields a
timeline line shows (the event catalog, docs/events.md).

An event of a type not listed here, or a payload key not listed for its type, is neither
stored nor shown: a producer's new field (or a free-text one such as a diagnosis) reaches a
patient's timeline only after it is reviewed and added here.
"""

from __future__ import annotations

from typing import Any

_APPOINTMENT = frozenset(
    {
        "appointment_id",
        "patient_id",
        "start",
        "duration_min",
        "cabinet_id",
        "professional_id",
        "status",
    }
)
_MESSAGE = frozenset({"message_id", "patient_id", "appointment_id", "channel", "kind", "status"})
_LAB = frozenset(
    {"case_id", "patient_id", "lab_id", "appointment_id", "status", "previous_status", "kind"}
)
_ORTHO = frozenset({"case_id", "patient_id", "status"})

FIELDS: dict[str, frozenset[str]] = {
    "patient.created": frozenset({"patient_id"}),
    "patient.updated": frozenset({"patient_id", "changes"}),  # field names, never values
    "patient.archived": frozenset({"patient_id"}),
    "patient.unarchived": frozenset({"patient_id"}),
    "patient.medical_updated": frozenset({"patient_id", "user_id"}),
    "appointment.scheduled": _APPOINTMENT,
    "appointment.updated": _APPOINTMENT | {"changes", "rescheduled"},
    **{
        f"appointment.{s}": _APPOINTMENT | {"previous_status"}
        for s in (
            "confirmed",
            "checked_in",
            "started",
            "completed",
            "cancelled",
            "no_show",
            "reinstated",
        )
    },
    "image.processed": frozenset(
        {
            "image_id",
            "patient_id",
            "inbox",
            "source",
            "kind",
            "category",
            "xray_type",
            "teeth",
            "acquired_at",
            "patient_mismatch",
        }
    ),
    "document.uploaded": frozenset({"document_id", "patient_id", "type", "content_type", "size"}),
    "budget.created": frozenset(
        {"budget_id", "patient_id", "number", "total", "revision", "supersedes"}
    ),
    "budget.sent": frozenset({"budget_id", "patient_id", "number", "total", "link_expires_at"}),
    "budget.accepted": frozenset(
        {"budget_id", "patient_id", "number", "total", "partial", "accepted_line_ids", "channel"}
    ),
    "budget.rejected": frozenset({"budget_id", "patient_id", "number"}),
    # issue 18: the budget's other ends, for the pending budgets of the reports
    "budget.cancelled": frozenset({"budget_id", "patient_id", "number", "previous_status"}),
    "budget.expired": frozenset({"budget_id", "patient_id", "number", "valid_until"}),
    "budget.superseded": frozenset(
        {"budget_id", "patient_id", "number", "previous_status", "superseded_by"}
    ),
    "invoice.created": frozenset({"invoice_id", "patient_id", "total", "budget_id", "rectifies"}),
    "invoice.issued": frozenset(
        {
            "invoice_id",
            "patient_id",
            "num_serie",
            "tipo_factura",
            "issue_date",
            "total",
            "rectifies",
        }
    ),
    "invoice.paid": frozenset({"invoice_id", "patient_id", "num_serie", "total"}),
    "invoice.annulled": frozenset(
        {"invoice_id", "patient_id", "num_serie", "issue_date", "restored"}
    ),
    "payment.recorded": frozenset(
        {"payment_id", "invoice_id", "patient_id", "kind", "method", "amount", "outstanding"}
    ),
    # charting (issue 16): a planned treatment completed on the chart
    "treatment.completed": frozenset(
        {
            "plan_item_id",
            "patient_id",
            "treatment_id",
            "code",
            "tooth",
            "budget_id",
            "finding_id",
            "invoiced",
        }
    ),
    # perio (issue 16)
    "perio.exam_completed": frozenset({"exam_id", "patient_id", "appointment_id", "amends"}),
    "message.sent": _MESSAGE,
    "message.failed": _MESSAGE,
    "message.received": _MESSAGE,
    # clinical notes (ids only: the text of a note never reaches the timeline)
    "note.signed": frozenset({"note_id", "patient_id"}),
    "note.amended": frozenset({"note_id", "amendment_id", "patient_id"}),
    # lab cases (issue 17): ids and statuses only, never the case's words
    "lab.case_created": _LAB,
    "lab.case_updated": _LAB,
    "lab.case_sent": _LAB,
    "lab.case_status_changed": _LAB,
    "lab.delivery_date_set": _LAB,
    "lab.file_added": _LAB | {"file_id"},
    "lab.link_revoked": _LAB,
    # orthodontic cases (issue 18; ids, statuses and tray numbers only, ADR 0661)
    "ortho.case_started": _ORTHO | {"appliance"},
    "ortho.case_updated": _ORTHO,
    "ortho.case_finished": _ORTHO,
    "ortho.visit_recorded": _ORTHO | {"visit_id", "appointment_id", "tray"},
    "ortho.tray_changed": _ORTHO | {"tray", "previous_tray", "total_trays"},
    "ortho.photos_linked": _ORTHO | {"image_ids"},
    "ortho.reminder_sent": _ORTHO | {"kind", "channel", "message_id"},
}

_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """A scalar or a flat list of scalars: ids, statuses, amounts, teeth, field names. A nested
    object could carry anything, so even under a known key it is left out."""
    if isinstance(value, list):
        return all(isinstance(v, _SCALARS) for v in value)
    return isinstance(value, _SCALARS)


def known(event_type: str) -> bool:
    return event_type in FIELDS


def shown(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The part of ``payload`` a timeline line of ``event_type`` may hold (nothing for an
    unknown type)."""
    allowed = FIELDS.get(event_type, frozenset())
    return {k: v for k, v in payload.items() if k in allowed and _plain(v)}
