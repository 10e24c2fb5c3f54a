"""Note templates of a clinic, per treatment type (SOAP or free), which the clinic edits.

A clinic has tens of templates, not thousands: they are items under the clinic's partition
(``NTPL#<id>``), listed with one paged Query. A note keeps the id of the template it started
from; deleting a template leaves its notes as they are.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.notes import schemas
from chalicelib.notes.common import body_dict
from chalicelib.notes.models import NoteTemplate

ENTITY = "note_template"


def template_out(t: NoteTemplate) -> schemas.TemplateOut:
    c = t.content or {}
    return schemas.TemplateOut(
        template_id=t.template_id,
        name=t.name,
        treatment_type=t.treatment_type,
        kind=t.kind,  # type: ignore[arg-type]
        title=c.get("title"),
        subjective=c.get("subjective"),
        objective=c.get("objective"),
        assessment=c.get("assessment"),
        plan=c.get("plan"),
        text=c.get("text"),
        active=bool(t.active),
        updated_at=t.updated_at,
    )


def load(clinic_id: str, template_id: str) -> NoteTemplate:
    try:
        return NoteTemplate.get(*NoteTemplate.key(clinic_id, template_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No note template with that id in this clinic.",
                "No hay ninguna plantilla de nota con ese id en esta clínica.",
            ),
            code="TEMPLATE_NOT_FOUND",
        ) from exc


def _fields(data: schemas.TemplateIn) -> dict:
    return {"name": data.name, "treatment_type": data.treatment_type, "kind": data.kind}


def new_template(clinic_id: str, data: schemas.TemplateIn) -> NoteTemplate:
    tid, at = new_id(), now()
    return NoteTemplate(
        *NoteTemplate.key(clinic_id, tid),
        template_id=tid,
        name=data.name,
        treatment_type=data.treatment_type,
        kind=data.kind,
        content=body_dict(data),
        active=data.active,
        created_at=at,
        updated_at=at,
        version=1,
    )


def create_template(principal: Principal, data: schemas.TemplateIn) -> schemas.TemplateOut:
    cid = principal.clinic_id
    t = new_template(cid, data)
    with transaction() as tx:
        tx.save(t, condition=NoteTemplate.SK.does_not_exist())
        entry = audit.entry(
            cid,
            principal.actor,
            "clinical.template.created",
            ENTITY,
            t.template_id,
            after=_fields(data),
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    return template_out(t)


def get_template(principal: Principal, template_id: str) -> schemas.TemplateOut:
    return template_out(load(principal.clinic_id, template_id))


def update_template(
    principal: Principal, template_id: str, data: schemas.TemplateIn
) -> schemas.TemplateOut:
    cid = principal.clinic_id
    t = load(cid, template_id)
    before = {"name": t.name, "treatment_type": t.treatment_type, "kind": t.kind}
    old_version = int(t.version)
    t.name, t.treatment_type, t.kind = data.name, data.treatment_type, data.kind
    t.content = body_dict(data)
    t.active = data.active
    t.updated_at = now()
    t.version = old_version + 1
    try:
        with transaction() as tx:
            tx.save(t, condition=NoteTemplate.version == old_version)
            entry = audit.entry(
                cid,
                principal.actor,
                "clinical.template.updated",
                ENTITY,
                template_id,
                before=before | {"version": old_version},
                after=_fields(data) | {"version": t.version},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The template changed meanwhile; reload it and try again.",
                "La plantilla ha cambiado mientras tanto; recárgala y vuelve a intentarlo.",
            )
        ) from exc
    return template_out(t)


def delete_template(principal: Principal, template_id: str) -> None:
    cid = principal.clinic_id
    t = load(cid, template_id)
    with transaction() as tx:
        tx.delete(t)
        entry = audit.entry(
            cid,
            principal.actor,
            "clinical.template.deleted",
            ENTITY,
            template_id,
            before={"name": t.name, "treatment_type": t.treatment_type},
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())


def list_templates(principal: Principal, q: schemas.TemplateQuery) -> Page:
    pk = clinic_pk(principal.clinic_id)
    it = NoteTemplate.query(
        pk,
        NoteTemplate.SK.startswith(NoteTemplate.PREFIX),
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )
    items = [
        template_out(t)
        for t in it
        if isinstance(t, NoteTemplate) and (q.active is None or bool(t.active) == q.active)
    ]
    return Page(items, encode_cursor(it.last_evaluated_key))
