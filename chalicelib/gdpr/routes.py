"""Routes of the GDPR module: a patient's data exports (ADR 1401). Handlers parse, call one
service function and shape the response."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.gdpr import erasure, retention, schemas, service

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


ERASURE = "/patients/{patient_id}/erasure"


@r(
    ERASURE,
    "GET",
    permission="gdpr.erase",
    response=schemas.ErasureView,
    summary="The patient's erasure: a preview (what is erased, what is kept, why and until "
    "when) or, once requested, its state and report (ADR 1405)",
    tags=("gdpr", "patients"),
)
def get_patient_erasure(req: Req, patient_id: str) -> schemas.ErasureView:
    return erasure.view(req.user, patient_id)


@r(
    ERASURE,
    "POST",
    permission="gdpr.erase",
    body=schemas.ErasureIn,
    response=schemas.ErasureView,
    status=202,
    summary="Request the patient's erasure (GDPR art. 17): blocks the patient now, erases in "
    "the background; 409 if already requested",
    tags=("gdpr", "patients"),
)
def request_patient_erasure(req: Req, patient_id: str) -> schemas.ErasureView:
    return erasure.request(req.user, patient_id, req.body)


@r(
    "/settings/retention",
    "GET",
    permission="gdpr.retention",
    response=schemas.RetentionOut,
    summary="The clinic's retention periods (years), their legal minimums and the messages period",
    tags=("gdpr", "settings"),
)
def get_retention(req: Req) -> schemas.RetentionOut:
    return retention.get_settings(req.user)


@r(
    "/settings/retention",
    "PUT",
    permission="gdpr.retention",
    body=schemas.RetentionIn,
    response=schemas.RetentionOut,
    summary="Set the retention periods; 422 below the legal minimum (clinical 5, invoices 6 "
    "years) or a messages period outside 1-20 years (null: no limit)",
    tags=("gdpr", "settings"),
)
def put_retention(req: Req) -> schemas.RetentionOut:
    return retention.put_settings(req.user, req.body)
