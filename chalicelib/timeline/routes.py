"""Routes: a patient's timeline."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.timeline import schemas, service

router = Router("timeline")


@router.route(
    "/patients/{patient_id}/timeline",
    "GET",
    permission="patients.timeline.read",
    query=schemas.TimelineQuery,
    response=list[schemas.TimelineItem],
    paged=True,
    summary="What happened to the patient, newest first (appointments, images, documents, "
    "budgets, invoices, messages)",
    tags=("patients",),
)
def patient_timeline(req: Req, patient_id: str) -> Page:
    return service.list_entries(req.user, patient_id, req.query)
