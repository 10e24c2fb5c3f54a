"""Routes of the GDPR module: a patient's data exports (ADR 1401). Handlers parse, call one
service function and shape the response."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.gdpr import schemas, service

router = Router("gdpr")
r = router.route
EXPORTS = "/patients/{patient_id}/exports"


@r(
    EXPORTS,
    "POST",
    permission="gdpr.export",
    response=schemas.ExportOut,
    status=202,
    summary="Start an export of the patient's data (GDPR access and portability); 409 while "
    "one is running",
    tags=("gdpr", "patients"),
)
def start_patient_export(req: Req, patient_id: str) -> schemas.ExportOut:
    return service.start(req.user, patient_id)


@r(
    EXPORTS,
    "GET",
    permission="gdpr.export",
    query=schemas.ExportQuery,
    response=list[schemas.ExportOut],
    paged=True,
    summary="The patient's data exports, newest first",
    tags=("gdpr", "patients"),
)
def list_patient_exports(req: Req, patient_id: str) -> Page:
    return service.list_exports(req.user, patient_id, req.query)


@r(
    EXPORTS + "/{export_id}",
    "GET",
    permission="gdpr.export",
    response=schemas.ExportOut,
    summary="One export: its status and, when ready, a short-lived download link (audited)",
    tags=("gdpr", "patients"),
)
def get_patient_export(req: Req, patient_id: str, export_id: str) -> schemas.ExportOut:
    return service.get(req.user, patient_id, export_id)
