"""Routes of the perio module: a patient's periodontal exams (drafts, completion, amendments),
their indices and the comparison of two exams. Handlers parse, call one service function."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.perio import schemas, service

router = Router("perio")
r = router.route


@r(
    "/patients/{patient_id}/perio-exams",
    "GET",
    permission="clinical.perio.read",
    query=schemas.ExamQuery,
    response=list[schemas.ExamSummary],
    paged=True,
    summary="A patient's periodontal exams, the latest first, with their indices",
)
def list_exams(req: Req, patient_id: str) -> Page:
    return service.list_exams(req.user, patient_id, req.query)


@r(
    "/patients/{patient_id}/perio-exams",
    "POST",
    permission="clinical.perio.write",
    body=schemas.ExamIn,
    response=schemas.ExamOut,
    status=201,
    summary="Start a periodontal exam (a draft), or an amendment of a completed one",
)
def create_exam(req: Req, patient_id: str) -> schemas.ExamOut:
    return service.create(req.user, patient_id, req.body)


@r(
    "/perio/exams/{exam_id}",
    "GET",
    permission="clinical.perio.read",
    response=schemas.ExamOut,
    summary="A periodontal exam: its chart, indices and the previous exam's id",
)
def get_exam(req: Req, exam_id: str) -> schemas.ExamOut:
    return service.get(req.user, exam_id)


@r(
    "/perio/exams/{exam_id}",
    "PUT",
    permission="clinical.perio.write",
    body=schemas.ExamUpdate,
    response=schemas.ExamOut,
    summary="Save a draft exam's chart (optimistic: the version read)",
)
def save_exam(req: Req, exam_id: str) -> schemas.ExamOut:
    return service.update(req.user, exam_id, req.body)


@r(
    "/perio/exams/{exam_id}",
    "DELETE",
    permission="clinical.perio.write",
    status=204,
    summary="Discard a draft exam (a completed one is never deleted)",
)
def discard_exam(req: Req, exam_id: str) -> None:
    service.discard(req.user, exam_id)


@r(
    "/perio/exams/{exam_id}/complete",
    "POST",
    permission="clinical.perio.write",
    body=schemas.CompleteIn,
    response=schemas.ExamOut,
    summary="Complete a draft exam: it is locked from then on",
)
def complete_exam(req: Req, exam_id: str) -> schemas.ExamOut:
    return service.complete(req.user, exam_id, req.body)


@r(
    "/perio/exams/{exam_id}/compare",
    "GET",
    permission="clinical.perio.read",
    query=schemas.CompareQuery,
    response=schemas.ComparisonOut,
    summary="Site-by-site differences and index deltas against another or the previous exam",
)
def compare_exams(req: Req, exam_id: str) -> schemas.ComparisonOut:
    return service.compare(req.user, exam_id, req.query)
