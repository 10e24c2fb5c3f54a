"""Routes of the ortho module: a patient's orthodontic cases (plan, visits, aligner trays,
progress photos, finishing), the clinic's active cases, alerts with reminders, and figures.
Handlers parse, call one service function and shape the response (ADR 0661, 0662)."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.ortho import alerts, schemas, service

router = Router("ortho")
r = router.route
READ, WRITE = "clinical.ortho.read", "clinical.ortho.write"
CASES = "/patients/{patient_id}/ortho/cases"
CASE = CASES + "/{case_id}"


@r(
    CASES,
    "GET",
    permission=READ,
    query=schemas.ListQuery,
    response=list[schemas.CaseOut],
    paged=True,
    summary="A patient's orthodontic cases, newest first (finished ones kept)",
)
def list_ortho_cases(req: Req, patient_id: str) -> Page:
    return service.list_cases(req.user, patient_id, req.query)


@r(
    CASES,
    "POST",
    permission=WRITE,
    body=schemas.CaseIn,
    response=schemas.CaseOut,
    status=201,
    summary="Start an orthodontic case (one active per patient)",
)
def start_ortho_case(req: Req, patient_id: str) -> schemas.CaseOut:
    return service.start_case(req.user, patient_id, req.body)


@r(
    CASE,
    "GET",
    permission=READ,
    response=schemas.CaseOut,
    summary="An orthodontic case",
)
def get_ortho_case(req: Req, patient_id: str, case_id: str) -> schemas.CaseOut:
    return service.get_case(req.user, patient_id, case_id)


@r(
    CASE,
    "PUT",
    permission=WRITE,
    body=schemas.CaseIn,
    response=schemas.CaseOut,
    summary="Rewrite an active case's plan: phases, milestones, interval, trays",
)
def update_ortho_case(req: Req, patient_id: str, case_id: str) -> schemas.CaseOut:
    return service.update_case(req.user, patient_id, case_id, req.body)


@r(
    CASE + "/finish",
    "POST",
    permission=WRITE,
    body=schemas.FinishIn,
    response=schemas.CaseOut,
    summary="Finish an active case (it is kept; its alerts end)",
)
def finish_ortho_case(req: Req, patient_id: str, case_id: str) -> schemas.CaseOut:
    return service.finish_case(req.user, patient_id, case_id, req.body)


@r(
    CASE + "/visits",
    "GET",
    permission=READ,
    query=schemas.ListQuery,
    response=list[schemas.VisitOut],
    paged=True,
    summary="A case's visits, newest first",
)
def list_visits(req: Req, patient_id: str, case_id: str) -> Page:
    return service.list_visits(req.user, patient_id, case_id, req.query)


@r(
    CASE + "/visits",
    "POST",
    permission=WRITE,
    body=schemas.VisitIn,
    response=schemas.VisitOut,
    status=201,
    summary="Record a visit of an active case (optionally its appointment and tray)",
)
def add_visit(req: Req, patient_id: str, case_id: str) -> schemas.VisitOut:
    return service.add_visit(req.user, patient_id, case_id, req.body)


@r(
    CASE + "/tray-changes",
    "POST",
    permission=WRITE,
    body=schemas.TrayChangeIn,
    response=schemas.CaseOut,
    summary="Record an aligner tray change; the next switch date follows",
)
def change_tray(req: Req, patient_id: str, case_id: str) -> schemas.CaseOut:
    return service.change_tray(req.user, patient_id, case_id, req.body)


@r(
    CASE + "/photos",
    "POST",
    permission=WRITE,
    body=schemas.PhotosIn,
    response=schemas.CaseOut,
    summary="Link the patient's photos to the case's progress series",
)
def link_photos(req: Req, patient_id: str, case_id: str) -> schemas.CaseOut:
    return service.link_photos(req.user, patient_id, case_id, req.body)


@r(
    CASE + "/photos/{image_id}",
    "DELETE",
    permission=WRITE,
    status=204,
    summary="Unlink a photo from the case (the photo stays in imaging)",
)
def unlink_photo(req: Req, patient_id: str, case_id: str, image_id: str) -> None:
    service.unlink_photo(req.user, patient_id, case_id, image_id)


@r(
    CASE + "/reminders",
    "POST",
    permission=WRITE,
    body=schemas.ReminderIn,
    response=schemas.ReminderOut,
    status=201,
    summary="Remind the patient of a due alert (once a day per alert, with consent)",
)
def send_reminder(req: Req, patient_id: str, case_id: str) -> schemas.ReminderOut:
    return alerts.send_reminder(req.user, patient_id, case_id, req.body)


@r(
    "/ortho/cases",
    "GET",
    permission=READ,
    query=schemas.ListQuery,
    response=list[schemas.CaseSummary],
    paged=True,
    summary="The clinic's active orthodontic cases, oldest start first",
)
def list_active_ortho_cases(req: Req) -> Page:
    return service.list_active(req.user, req.query)


@r(
    "/ortho/alerts",
    "GET",
    permission=READ,
    query=schemas.ListQuery,
    response=list[schemas.AlertOut],
    paged=True,
    summary="Due orthodontic alerts (visit, aligner change, retention), most overdue first",
)
def list_ortho_alerts(req: Req) -> Page:
    return alerts.list_alerts(req.user, req.query)


@r(
    "/ortho/figures",
    "GET",
    permission=READ,
    response=schemas.FiguresOut,
    summary="Case figures: active, started and finished this month, average length",
)
def ortho_figures(req: Req) -> schemas.FiguresOut:
    return alerts.figures(req.user)
