"""Routes of the labs module: the labs directory, lab cases (status, link, files, alerts) and
the lab's public page behind its signed link. Handlers parse, call one service function and
shape the response."""

from __future__ import annotations

from chalice import Response

from chalicelib.core.api import PUBLIC, Page, Req, Router
from chalicelib.labs import files, link, public, schemas, service

router = Router("labs")
r = router.route
CASE = "/labs/cases/{case_id}"
FORM = ("application/x-www-form-urlencoded", "application/json")


@r(
    "/labs",
    "GET",
    permission="labs.read",
    query=schemas.LabQuery,
    response=list[schemas.LabOut],
    paged=True,
    summary="The clinic's labs (archived on request)",
)
def list_labs(req: Req) -> Page:
    return service.list_labs(req.user, req.query)


@r(
    "/labs",
    "POST",
    permission="labs.write",
    body=schemas.LabIn,
    response=schemas.LabOut,
    status=201,
    summary="Add a lab to the directory",
)
def create_lab(req: Req) -> schemas.LabOut:
    return service.create_lab(req.user, req.body)


@r(
    "/labs/{lab_id}",
    "PUT",
    permission="labs.write",
    body=schemas.LabPatch,
    response=schemas.LabOut,
    summary="Edit, archive or restore a lab",
)
def update_lab(req: Req, lab_id: str) -> schemas.LabOut:
    return service.update_lab(req.user, lab_id, req.body)


@r(
    "/labs/cases",
    "GET",
    permission="labs.read",
    query=schemas.CaseQuery,
    response=list[schemas.CaseOut],
    paged=True,
    summary="Lab cases: by status (earliest due first), by lab, or newest first",
)
def list_cases(req: Req) -> Page:
    return service.list_cases(req.user, req.query)


@r(
    "/labs/cases",
    "POST",
    permission="labs.write",
    body=schemas.CaseIn,
    response=schemas.CaseOut,
    status=201,
    summary="Create a lab case (draft)",
)
def create_case(req: Req) -> schemas.CaseOut:
    return service.create_case(req.user, req.body)


@r(
    "/labs/alerts",
    "GET",
    permission="labs.read",
    query=schemas.PageQuery,
    response=list[schemas.CaseOut],
    paged=True,
    summary="Cases overdue or not back 48 h before their fitting appointment",
)
def list_alerts(req: Req) -> Page:
    return service.alerts(req.user, req.query)


@r(
    CASE,
    "GET",
    permission="labs.read",
    response=schemas.CaseOut,
    summary="A lab case with its history and files",
)
def get_case(req: Req, case_id: str) -> schemas.CaseOut:
    return service.get_case(req.user, case_id)


@r(
    CASE,
    "PUT",
    permission="labs.write",
    body=schemas.CaseFields,
    response=schemas.CaseOut,
    summary="Edit a lab case (until it is back)",
)
def update_case(req: Req, case_id: str) -> schemas.CaseOut:
    return service.update_case(req.user, case_id, req.body)


@r(
    CASE + "/status",
    "POST",
    permission="labs.write",
    body=schemas.StatusIn,
    response=schemas.CaseOut,
    summary="Move a lab case to its next status (409 if not allowed)",
)
def move_case(req: Req, case_id: str) -> schemas.CaseOut:
    return service.move(req.user, case_id, req.body)


@r(
    CASE + "/send",
    "POST",
    permission="labs.write",
    body=schemas.SendIn,
    response=schemas.SendOut,
    summary="Email the lab a new signed link (revokes the previous)",
)
def send_case(req: Req, case_id: str) -> schemas.SendOut:
    return link.send(req.user, case_id, req.body)


@r(
    CASE + "/link",
    "DELETE",
    permission="labs.write",
    response=schemas.CaseOut,
    summary="Revoke the lab's link",
)
def revoke_link(req: Req, case_id: str) -> schemas.CaseOut:
    return link.revoke(req.user, case_id)


@r(
    CASE + "/files",
    "POST",
    permission="labs.write",
    body=schemas.FileIn,
    response=schemas.FileUploadOut,
    status=201,
    summary="Start uploading a file to a lab case",
)
def upload_file(req: Req, case_id: str) -> schemas.FileUploadOut:
    c = service.load_case(req.user.clinic_id, case_id, consistent=True)
    return files.request_upload(req.user.clinic_id, c, req.body, req.user.actor, "staff")


@r(
    CASE + "/files/{file_id}/complete",
    "POST",
    permission="labs.write",
    response=schemas.FileOut,
    summary="Check an uploaded file and make it available",
)
def complete_file(req: Req, case_id: str, file_id: str) -> schemas.FileOut:
    c = service.load_case(req.user.clinic_id, case_id, consistent=True)
    return files.complete(req.user.clinic_id, c, file_id, req.user.actor, "staff")


@r(
    "/patients/{patient_id}/lab-cases",
    "GET",
    permission="labs.read",
    query=schemas.PageQuery,
    response=list[schemas.CaseOut],
    paged=True,
    summary="A patient's lab cases, newest first",
)
def patient_cases(req: Req, patient_id: str) -> Page:
    return service.patient_cases(req.user, patient_id, req.query)


@r(
    "/appointments/{appointment_id}/lab-cases",
    "GET",
    permission="labs.read",
    response=list[schemas.CaseOut],
    summary="The lab cases to fit at an appointment",
)
def appointment_cases(req: Req, appointment_id: str) -> list[schemas.CaseOut]:
    return service.appointment_cases(req.user, appointment_id)


# --- public: the lab's page -----------------------------------------------------------------


@r(
    "/public/lab-cases/{token}",
    "GET",
    permission=PUBLIC,
    produces="text/html",
    summary="The lab's page of one case (signed link; changes nothing)",
    tags=("public",),
)
def public_lab_case(req: Req, token: str) -> Response:
    return public.view(token, req.ip)


@r(
    "/public/lab-cases/{token}/status",
    "POST",
    permission=PUBLIC,
    produces="text/html",
    content_types=FORM,
    summary="The lab starts or ships the case",
    tags=("public",),
)
def public_lab_status(req: Req, token: str) -> Response:
    return public.post(token, "status", req.raw_body, req.headers.get("content-type", ""), req.ip)


@r(
    "/public/lab-cases/{token}/delivery",
    "POST",
    permission=PUBLIC,
    produces="text/html",
    content_types=FORM,
    summary="The lab sets the expected delivery date",
    tags=("public",),
)
def public_lab_delivery(req: Req, token: str) -> Response:
    ctype = req.headers.get("content-type", "")
    return public.post(token, "delivery", req.raw_body, ctype, req.ip)


@r(
    "/public/lab-cases/{token}/files",
    "POST",
    permission=PUBLIC,
    body=schemas.FileIn,
    response=schemas.FileUploadOut,
    status=201,
    summary="The lab starts uploading a file",
    tags=("public",),
)
def public_lab_upload(req: Req, token: str) -> schemas.FileUploadOut:
    return public.upload(token, req.body, req.ip)


@r(
    "/public/lab-cases/{token}/files/{file_id}/complete",
    "POST",
    permission=PUBLIC,
    response=schemas.FileOut,
    summary="The lab's uploaded file is checked and made available",
    tags=("public",),
)
def public_lab_complete(req: Req, token: str, file_id: str) -> schemas.FileOut:
    return public.complete(token, file_id, req.ip)
