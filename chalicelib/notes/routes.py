"""Routes of the notes module: a patient's clinical notes (draft, sign, amend), the clinic-wide
search over them, and the clinic's note templates. Handlers parse, call one service function
and shape the response."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.notes import finder, schemas, service, templates

router = Router("notes")
r = router.route
NOTE = "/patients/{patient_id}/notes/{note_id}"


@r(
    "/patients/{patient_id}/notes",
    "GET",
    permission="clinical.notes.read",
    query=schemas.NoteQuery,
    response=list[schemas.NoteOut],
    paged=True,
    summary="A patient's clinical notes, newest first, with their amendments",
)
def list_notes(req: Req, patient_id: str) -> Page:
    return service.list_notes(req.user, patient_id, req.query)


@r(
    "/patients/{patient_id}/notes",
    "POST",
    permission="clinical.notes.write",
    body=schemas.NoteIn,
    response=schemas.NoteOut,
    status=201,
    summary="Write a draft clinical note (SOAP or free)",
)
def create_note(req: Req, patient_id: str) -> schemas.NoteOut:
    return service.create_note(req.user, patient_id, req.body)


@r(
    NOTE,
    "GET",
    permission="clinical.notes.read",
    response=schemas.NoteOut,
    summary="A clinical note with its amendments",
)
def get_note(req: Req, patient_id: str, note_id: str) -> schemas.NoteOut:
    return service.get_note(req.user, patient_id, note_id)


@r(
    NOTE,
    "PUT",
    permission="clinical.notes.write",
    body=schemas.NoteIn,
    response=schemas.NoteOut,
    summary="Rewrite a draft note (its author only; a signed note answers 409)",
)
def update_note(req: Req, patient_id: str, note_id: str) -> schemas.NoteOut:
    return service.update_note(req.user, patient_id, note_id, req.body)


@r(
    NOTE,
    "DELETE",
    permission="clinical.notes.write",
    status=204,
    summary="Delete a draft note (its author only; a signed note answers 409)",
)
def delete_note(req: Req, patient_id: str, note_id: str) -> None:
    service.delete_note(req.user, patient_id, note_id)


@r(
    NOTE + "/sign",
    "POST",
    permission="clinical.notes.write",
    response=schemas.NoteOut,
    summary="Sign a draft note: it is locked from then on (its author only)",
)
def sign_note(req: Req, patient_id: str, note_id: str) -> schemas.NoteOut:
    return service.sign_note(req.user, patient_id, note_id)


@r(
    NOTE + "/amendments",
    "POST",
    permission="clinical.notes.write",
    body=schemas.AmendmentIn,
    response=schemas.NoteOut,
    status=201,
    summary="Amend a signed note (a new signed entry linked to it)",
)
def amend_note(req: Req, patient_id: str, note_id: str) -> schemas.NoteOut:
    return service.amend_note(req.user, patient_id, note_id, req.body)


@r(
    "/notes/search",
    "GET",
    permission="clinical.notes.read",
    query=schemas.SearchQuery,
    response=list[schemas.SearchHit],
    paged=True,
    summary="Search the clinic's notes by words (accent- and case-insensitive)",
)
def search_notes(req: Req) -> Page:
    return finder.search_notes(req.user, req.query)


@r(
    "/notes/templates",
    "GET",
    permission="clinical.notes.read",
    query=schemas.TemplateQuery,
    response=list[schemas.TemplateOut],
    paged=True,
    summary="The clinic's note templates",
)
def list_templates(req: Req) -> Page:
    return templates.list_templates(req.user, req.query)


@r(
    "/notes/templates",
    "POST",
    permission="clinical.templates.write",
    body=schemas.TemplateIn,
    response=schemas.TemplateOut,
    status=201,
    summary="Add a note template",
)
def create_template(req: Req) -> schemas.TemplateOut:
    return templates.create_template(req.user, req.body)


@r(
    "/notes/templates/{template_id}",
    "GET",
    permission="clinical.notes.read",
    response=schemas.TemplateOut,
    summary="A note template",
)
def get_template(req: Req, template_id: str) -> schemas.TemplateOut:
    return templates.get_template(req.user, template_id)


@r(
    "/notes/templates/{template_id}",
    "PUT",
    permission="clinical.templates.write",
    body=schemas.TemplateIn,
    response=schemas.TemplateOut,
    summary="Rewrite a note template",
)
def update_template(req: Req, template_id: str) -> schemas.TemplateOut:
    return templates.update_template(req.user, template_id, req.body)


@r(
    "/notes/templates/{template_id}",
    "DELETE",
    permission="clinical.templates.write",
    status=204,
    summary="Delete a note template (notes written from it keep their text)",
)
def delete_template(req: Req, template_id: str) -> None:
    templates.delete_template(req.user, template_id)
