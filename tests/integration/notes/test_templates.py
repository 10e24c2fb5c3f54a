"""The clinic's note templates: CRUD with clinical.templates.write, read with notes access,
and a note written from one."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import add_member
from tests.integration.imaging.helpers import audit_actions
from tests.integration.notes.conftest import Notes

ENDO = {
    "name": "Endodoncia",
    "treatment_type": "Endodoncia",
    "kind": "soap",
    "title": "Endodoncia",
    "subjective": "Dolor espontáneo",
    "objective": "Pieza: ",
    "assessment": "Pulpitis irreversible",
    "plan": "Conductometría",
}


def test_templates_crud(api: Any, clinic: Any, admin_notes: Notes, notes: Notes) -> None:
    t = admin_notes.call("post", "/notes/templates", ENDO, 201)
    assert t["kind"] == "soap" and t["assessment"] == "Pulpitis irreversible" and t["active"]
    tid = t["template_id"]
    # the dentist holds clinical.* (templates.write too)
    free = notes.call(
        "post",
        "/notes/templates",
        {"name": "Higiene", "treatment_type": "Higiene", "kind": "free", "text": "Tartrectomía"},
        201,
    )
    listed = notes.call("get", "/notes/templates")["items"]
    assert {x["template_id"] for x in listed} == {tid, free["template_id"]}
    changed = admin_notes.call("put", f"/notes/templates/{tid}", {**ENDO, "name": "Endo 2"})
    assert changed["name"] == "Endo 2"
    assert notes.call("get", f"/notes/templates/{tid}")["name"] == "Endo 2"
    off = admin_notes.call("put", f"/notes/templates/{tid}", {**ENDO, "active": False})
    assert off["active"] is False
    active = notes.call("get", "/notes/templates?active=true")["items"]
    assert [x["template_id"] for x in active] == [free["template_id"]]
    admin_notes.call("delete", f"/notes/templates/{tid}", status=204)
    assert api.get(f"/notes/templates/{tid}", token=notes.token).status == 404
    assert api.delete(f"/notes/templates/{tid}", token=clinic.admin_token).status == 404
    actions = {e["action"] for e in audit_actions(api, clinic.admin_token, "note_template", tid)}
    assert {
        "clinical.template.created",
        "clinical.template.updated",
        "clinical.template.deleted",
    } <= actions


def test_bad_templates_are_422(admin_notes: Notes) -> None:
    for body, field in (
        ({**ENDO, "name": ""}, "name"),
        ({**ENDO, "kind": "free"}, ""),
        ({k: v for k, v in ENDO.items() if k != "treatment_type"}, "treatment_type"),
        ({**ENDO, "plan": "x" * 20_001}, "plan"),
    ):
        r = admin_notes.api.post("/notes/templates", body, token=admin_notes.token)
        assert r.status == 422, (body, r.body)
        assert any(field in e["field"] for e in r.json()["errors"])


def test_hygienist_reads_but_does_not_write(api: Any, clinic: Any, admin_notes: Notes) -> None:
    t = admin_notes.call("post", "/notes/templates", ENDO, 201)
    hyg = add_member(api, clinic, "hygienist", "Hugo")["token"]
    assert api.get(f"/notes/templates/{t['template_id']}", token=hyg).status == 200
    assert api.put(f"/notes/templates/{t['template_id']}", ENDO, token=hyg).status == 403
    assert api.delete(f"/notes/templates/{t['template_id']}", token=hyg).status == 403


def test_a_note_from_a_template_keeps_its_id(admin_notes: Notes, notes: Notes) -> None:
    t = admin_notes.call("post", "/notes/templates", ENDO, 201)
    pid = notes.patient()
    body = {k: ENDO[k] for k in ("kind", "title", "subjective", "objective", "assessment", "plan")}
    n = notes.note(pid, **body, template_id=t["template_id"])
    assert n["template_id"] == t["template_id"] and n["plan"] == "Conductometría"
    # deleting the template leaves the note as it was
    admin_notes.call("delete", f"/notes/templates/{t['template_id']}", status=204)
    got = notes.call("get", f"/patients/{pid}/notes/{n['note_id']}")
    assert got["assessment"] == "Pulpitis irreversible"
