"""Routes: patients, search, archive and the medical history."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.patients import schemas, service

router = Router("patients")
r = router.route


@r(
    "/patients",
    "GET",
    permission="patients.read",
    query=schemas.PatientSearch,
    response=list[schemas.PatientSummary],
    paged=True,
    summary="List patients by surname, or search by name prefix, phone, email or national id",
)
def search_patients(req: Req) -> Page:
    return service.search_patients(req.user, req.query)


@r(
    "/patients",
    "POST",
    permission="patients.write",
    body=schemas.PatientIn,
    response=schemas.PatientOut,
    status=201,
    summary="Create a patient (409 with data.existing_patient_id on a likely duplicate)",
)
def create_patient(req: Req) -> schemas.PatientOut:
    return service.create(req.user, req.body)


@r(
    "/patients/{patient_id}",
    "GET",
    permission="patients.read",
    response=schemas.PatientOut,
    summary="A patient, with the safety alerts of the medical history",
)
def get_patient(req: Req, patient_id: str) -> schemas.PatientOut:
    return service.get(req.user, patient_id)


@r(
    "/patients/{patient_id}",
    "PATCH",
    permission="patients.write",
    body=schemas.PatientUpdate,
    response=schemas.PatientOut,
    summary="Edit a patient's details (only the fields sent)",
)
def update_patient(req: Req, patient_id: str) -> schemas.PatientOut:
    return service.update(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/archive",
    "POST",
    permission="patients.archive",
    response=schemas.PatientOut,
    summary="Archive a patient (hidden from searches unless include_archived)",
)
def archive_patient(req: Req, patient_id: str) -> schemas.PatientOut:
    return service.set_archived(req.user, patient_id, True)


@r(
    "/patients/{patient_id}/unarchive",
    "POST",
    permission="patients.archive",
    response=schemas.PatientOut,
    summary="Bring an archived patient back",
)
def unarchive_patient(req: Req, patient_id: str) -> schemas.PatientOut:
    return service.set_archived(req.user, patient_id, False)


@r(
    "/patients/{patient_id}/medical",
    "GET",
    permission="patients.medical.read",
    response=schemas.MedicalOut,
    summary="The patient's medical history and its alerts",
)
def get_medical(req: Req, patient_id: str) -> schemas.MedicalOut:
    return service.get_medical(req.user, patient_id)


@r(
    "/patients/{patient_id}/medical",
    "PUT",
    permission="patients.medical.write",
    body=schemas.MedicalHistory,
    response=schemas.MedicalOut,
    summary="Replace the patient's medical history",
)
def put_medical(req: Req, patient_id: str) -> schemas.MedicalOut:
    return service.put_medical(req.user, patient_id, req.body)
