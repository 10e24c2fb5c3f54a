"""Routes: patient images and X-rays (upload slots, listing, detail, edits, soft delete,
before/after pairs, a tooth's X-rays over time), documents and the imaging settings.

Uploading: ``POST .../images`` needs ``imaging.images.write``, and ``imaging.xrays.write``
as well for X-rays and DICOM; ``POST .../xrays`` needs only ``imaging.xrays.write`` (for
roles that take X-rays but not photos). Editing or deleting an image needs the write
permission of its kind.
"""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.imaging import documents, schemas, service, studies

router = Router("imaging")
r = router.route
IMAGES = ("images",)
DOCS = ("documents",)


@r(
    "/patients/{patient_id}/images",
    "POST",
    permission="imaging.images.write",
    body=schemas.ImageIn,
    response=schemas.ImageUploadOut,
    status=201,
    summary="Start an image upload: a pending record and a presigned POST for the file",
    tags=IMAGES,
)
def create_image(req: Req, patient_id: str) -> schemas.ImageUploadOut:
    return service.create_upload(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/xrays",
    "POST",
    permission="imaging.xrays.write",
    body=schemas.XrayIn,
    response=schemas.ImageUploadOut,
    status=201,
    summary="Start an X-ray or DICOM upload (kind xray or dicom)",
    tags=IMAGES,
)
def create_xray(req: Req, patient_id: str) -> schemas.ImageUploadOut:
    return service.create_upload(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/images",
    "GET",
    permission="imaging.images.read",
    query=schemas.ImageQuery,
    response=list[schemas.ImageOut],
    paged=True,
    summary="A patient's images, newest acquisition first; filter by kind, category, "
    "X-ray type, tooth, status and date range",
    tags=IMAGES,
)
def list_images(req: Req, patient_id: str) -> Page:
    return service.list_images(req.user, patient_id, req.query)


@r(
    "/patients/{patient_id}/studies",
    "GET",
    permission="imaging.images.read",
    response=list[schemas.StudyOut],
    summary="The patient's DICOM studies, each with its series and their image ids",
    tags=IMAGES,
)
def list_patient_studies(req: Req, patient_id: str) -> list[schemas.StudyOut]:
    return studies.list_studies(req.user, patient_id)


@r(
    "/patients/{patient_id}/images/pairs",
    "GET",
    permission="imaging.images.read",
    response=list[schemas.PairOut],
    summary="The patient's before/after photo pairs",
    tags=IMAGES,
)
def list_image_pairs(req: Req, patient_id: str) -> list[schemas.PairOut]:
    return service.list_pairs(req.user, patient_id)


@r(
    "/patients/{patient_id}/images/pairs",
    "POST",
    permission="imaging.images.write",
    body=schemas.PairIn,
    response=schemas.PairOut,
    status=201,
    summary="Pair two photos as before/after",
    tags=IMAGES,
)
def create_image_pair(req: Req, patient_id: str) -> schemas.PairOut:
    return service.create_pair(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/images/pairs/{pair_id}",
    "DELETE",
    permission="imaging.images.write",
    status=204,
    summary="Unpair a before/after pair (the photos stay)",
    tags=IMAGES,
)
def delete_image_pair(req: Req, patient_id: str, pair_id: str) -> None:
    service.delete_pair(req.user, patient_id, pair_id)


@r(
    "/patients/{patient_id}/images/{image_id}",
    "GET",
    permission="imaging.images.read",
    response=schemas.ImageOut,
    summary="An image with presigned URLs per rendition (and the original, if allowed)",
    tags=IMAGES,
)
def get_image(req: Req, patient_id: str, image_id: str) -> schemas.ImageOut:
    return service.get_image(req.user, patient_id, image_id)


@r(
    "/images/{image_id}",
    "GET",
    permission="imaging.images.read",
    response=schemas.ImageOut,
    summary="An image by id (same as under its patient)",
    tags=IMAGES,
)
def get_image_by_id(req: Req, image_id: str) -> schemas.ImageOut:
    return service.get_image_by_id(req.user, image_id)


@r(
    "/patients/{patient_id}/images/{image_id}",
    "PATCH",
    permission="imaging.images.write",
    body=schemas.ImageUpdate,
    response=schemas.ImageOut,
    summary="Edit an image's category, X-ray type, teeth, date, links or notes",
    tags=IMAGES,
)
def update_image(req: Req, patient_id: str, image_id: str) -> schemas.ImageOut:
    return service.update_image(req.user, patient_id, image_id, req.body)


@r(
    "/patients/{patient_id}/images/{image_id}",
    "DELETE",
    permission="imaging.images.write",
    status=204,
    summary="Delete an image (soft delete, recorded in the audit log)",
    tags=IMAGES,
)
def delete_image(req: Req, patient_id: str, image_id: str) -> None:
    service.delete_image(req.user, patient_id, image_id)


@r(
    "/patients/{patient_id}/xrays/compare",
    "GET",
    permission="imaging.images.read",
    query=schemas.CompareQuery,
    response=list[schemas.ImageOut],
    summary="One tooth's X-rays over time, oldest first",
    tags=IMAGES,
)
def compare_xrays(req: Req, patient_id: str) -> list[schemas.ImageOut]:
    return service.compare(req.user, patient_id, req.query.tooth)


@r(
    "/imaging/settings",
    "GET",
    permission="imaging.images.read",
    response=schemas.ImagingSettingsOut,
    summary="The clinic's imaging settings (X-ray full format, upload limits)",
    tags=IMAGES,
)
def get_imaging_settings(req: Req) -> schemas.ImagingSettingsOut:
    return service.get_settings(req.user)


@r(
    "/imaging/settings",
    "PUT",
    permission="settings.clinic.write",
    body=schemas.ImagingSettingsIn,
    response=schemas.ImagingSettingsOut,
    summary="Change the imaging settings (applies to images processed from now on)",
    tags=IMAGES,
)
def put_imaging_settings(req: Req) -> schemas.ImagingSettingsOut:
    return service.put_settings(req.user, req.body)


# --- documents -----------------------------------------------------------------------------


@r(
    "/patients/{patient_id}/documents",
    "POST",
    permission="imaging.documents.write",
    body=schemas.DocumentIn,
    response=schemas.DocumentUploadOut,
    status=201,
    summary="Start a document upload (PDF, JPEG or PNG): a presigned POST; then complete it",
    tags=DOCS,
)
def create_patient_document(req: Req, patient_id: str) -> schemas.DocumentUploadOut:
    return documents.create_upload(req.user, patient_id, req.body)


@r(
    "/patients/{patient_id}/documents/{document_id}/complete",
    "POST",
    permission="imaging.documents.write",
    response=schemas.DocumentOut,
    summary="Check the uploaded file and make the document available",
    tags=DOCS,
)
def complete_patient_document(req: Req, patient_id: str, document_id: str) -> schemas.DocumentOut:
    return documents.complete(req.user, patient_id, document_id)


@r(
    "/patients/{patient_id}/documents",
    "GET",
    permission="imaging.documents.read",
    query=schemas.DocumentQuery,
    response=list[schemas.DocumentOut],
    paged=True,
    summary="A patient's documents, newest first, with view and download URLs",
    tags=DOCS,
)
def list_patient_documents(req: Req, patient_id: str) -> Page:
    return documents.list_documents(req.user, patient_id, req.query)


@r(
    "/patients/{patient_id}/documents/{document_id}",
    "GET",
    permission="imaging.documents.read",
    response=schemas.DocumentOut,
    summary="A document with view and download URLs",
    tags=DOCS,
)
def get_patient_document(req: Req, patient_id: str, document_id: str) -> schemas.DocumentOut:
    return documents.get(req.user, patient_id, document_id)


@r(
    "/patients/{patient_id}/documents/{document_id}",
    "PATCH",
    permission="imaging.documents.write",
    body=schemas.DocumentUpdate,
    response=schemas.DocumentOut,
    summary="Edit a document's type, title or description",
    tags=DOCS,
)
def update_patient_document(req: Req, patient_id: str, document_id: str) -> schemas.DocumentOut:
    return documents.update(req.user, patient_id, document_id, req.body)


@r(
    "/patients/{patient_id}/documents/{document_id}",
    "DELETE",
    permission="imaging.documents.write",
    status=204,
    summary="Delete a document (soft delete, recorded in the audit log)",
    tags=DOCS,
)
def delete_patient_document(req: Req, patient_id: str, document_id: str) -> None:
    documents.delete(req.user, patient_id, document_id)
