"""A patient's clinical notes: drafts, signing locks, amendments, audit and events."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import image_body
from tests.integration.imaging.helpers import audit_actions
from tests.integration.notes.conftest import Notes


def test_soap_draft_is_written_read_and_listed_newest_first(notes: Notes) -> None:
    pid = notes.patient()
    first = notes.note(pid, title="Revisión", plan="Control en 6 meses")
    second = notes.note(pid, kind="free", subjective=None, text="Llamada: sin dolor.")
    assert first["status"] == "draft" and first["kind"] == "soap"
    assert first["subjective"] == "Dolor en 36" and first["plan"] == "Control en 6 meses"
    assert first["objective"] == "" and first["text"] is None
    assert second["text"] == "Llamada: sin dolor." and second["subjective"] is None
    page = notes.call("get", f"/patients/{pid}/notes")
    assert [n["note_id"] for n in page["items"]] == [second["note_id"], first["note_id"]]
    got = notes.call("get", f"/patients/{pid}/notes/{first['note_id']}")
    assert got["title"] == "Revisión" and got["amendments"] == []


def test_bad_bodies_are_422_with_the_field(notes: Notes) -> None:
    pid = notes.patient()
    for body, field in (
        ({"kind": "soap"}, "subjective"),
        ({"kind": "free", "text": ""}, "text"),
        ({"kind": "poem", "text": "x"}, "kind"),
        ({"kind": "free", "text": "x", "extra": 1}, "extra"),
        ({"kind": "free", "text": "x", "attachments": [{"kind": "video", "id": "x"}]}, "kind"),
    ):
        r = notes.api.post(f"/patients/{pid}/notes", body, token=notes.token)
        assert r.status == 422, (body, r.body)
        assert any(field in e["field"] for e in r.json()["errors"]), (field, r.body)
    r = notes.api.post(
        f"/patients/{pid}/notes", {"kind": "free", "text": "a", "plan": "b"}, token=notes.token
    )
    assert r.status == 422
    assert notes.call("get", f"/patients/{pid}/notes")["items"] == []


def test_draft_is_edited_and_deleted_by_its_author_only(api: Any, clinic: Any, notes: Notes):
    pid = notes.patient()
    n = notes.note(pid)
    path = f"/patients/{pid}/notes/{n['note_id']}"
    edited = notes.call("put", path, {"kind": "free", "text": "Reescrita"})
    assert edited["kind"] == "free" and edited["text"] == "Reescrita"
    other = Notes(api, add_member(api, clinic, "hygienist", "Hugo")["token"])
    r = api.put(path, {"kind": "free", "text": "x"}, token=other.token)
    assert r.status == 403 and r.json()["code"] == "NOTE_NOT_AUTHOR"
    assert api.delete(path, token=other.token).status == 403
    assert api.post(path + "/sign", {}, token=other.token).status == 403
    # the admin cannot sign or delete someone else's draft either (ADR 0641)
    assert api.post(path + "/sign", {}, token=clinic.admin_token).status == 403
    notes.call("delete", path, status=204)
    assert api.get(path, token=notes.token).status == 404


def test_signing_locks_the_note_with_who_when_and_a_hash(notes: Notes, published) -> None:
    pid = notes.patient()
    n = notes.note(pid, objective="Caries oclusal")
    path = f"/patients/{pid}/notes/{n['note_id']}"
    s = notes.sign(pid, n["note_id"])
    assert s["status"] == "signed" and s["signed_by"] == n["author_id"]
    assert s["signed_at"] and len(s["content_hash"]) == 64
    int(s["content_hash"], 16)
    r = notes.api.put(path, {"kind": "free", "text": "cambio"}, token=notes.token)
    assert r.status == 409 and r.json()["code"] == "NOTE_SIGNED"
    assert "amend" in r.json()["message"]
    r = notes.api.delete(path, token=notes.token)
    assert r.status == 409 and r.json()["code"] == "NOTE_SIGNED"
    r = notes.api.post(path + "/sign", {}, token=notes.token)
    assert r.status == 409
    got = notes.call("get", path)
    assert got["objective"] == "Caries oclusal" and got["content_hash"] == s["content_hash"]
    signed = [p for name, p in published if name == "note.signed"]
    assert signed and signed[-1]["note_id"] == n["note_id"] and signed[-1]["patient_id"] == pid
    assert set(signed[-1]) - {"event_id", "clinic_id", "occurred_at", "actor"} == {
        "note_id",
        "patient_id",
    }


def test_a_signed_note_is_amended_in_a_chain_and_both_show(
    api: Any, clinic: Any, notes: Notes, published
) -> None:
    pid = notes.patient()
    n = notes.note(pid)
    nid = n["note_id"]
    path = f"/patients/{pid}/notes/{nid}"
    r = api.post(path + "/amendments", {"reason": "r", "text": "t"}, token=notes.token)
    assert r.status == 409 and r.json()["code"] == "NOTE_NOT_SIGNED"
    s = notes.sign(pid, nid)
    a1 = notes.amend(pid, nid)
    # anyone who writes notes may amend (the amendment is signed by its own author)
    hyg = Notes(api, add_member(api, clinic, "hygienist", "Hugo")["token"])
    a2 = hyg.amend(pid, nid, reason="Añadido", text="Sangrado al sondaje.")
    assert [a["text"] for a in a2["amendments"]] == ["Era la 37, no la 36.", "Sangrado al sondaje."]
    first, second = a2["amendments"]
    assert first["author_id"] == n["author_id"] and second["author_name"] == "Hugo"
    assert first["content_hash"] != second["content_hash"]
    assert a2["subjective"] == "Dolor en 36" and a2["content_hash"] == s["content_hash"]
    assert a1["amendments"][0]["amendment_id"] == first["amendment_id"]
    page = notes.call("get", f"/patients/{pid}/notes")
    assert [a["reason"] for a in page["items"][0]["amendments"]] == ["Error de pieza", "Añadido"]
    # still locked after amending
    assert api.delete(path, token=notes.token).status == 409
    for bad in ({"reason": "", "text": "x"}, {"reason": "x"}, {"reason": "x", "text": "y", "z": 1}):
        assert api.post(path + "/amendments", bad, token=notes.token).status == 422
    amended = [p for name, p in published if name == "note.amended"]
    assert [p["amendment_id"] for p in amended[-2:]] == [
        first["amendment_id"],
        second["amendment_id"],
    ]
    actions = [e["action"] for e in audit_actions(api, clinic.admin_token, "clinical_note", nid)]
    assert actions.count("clinical.note.amended") == 2
    assert "clinical.note.signed" in actions and "clinical.note.created" in actions


def test_the_audit_log_never_holds_the_text(api: Any, clinic: Any, notes: Notes) -> None:
    pid = notes.patient()
    n = notes.note(pid, subjective="Secreto clínico XYZZY")
    notes.sign(pid, n["note_id"])
    notes.amend(pid, n["note_id"], text="Otro secreto PLUGH")
    entries = audit_actions(api, clinic.admin_token, "clinical_note", n["note_id"])
    dump = repr(entries)
    assert "XYZZY" not in dump and "PLUGH" not in dump
    sign = next(e for e in entries if e["action"] == "clinical.note.signed")
    assert "content_hash" in repr(sign)


def test_content_hash_is_sha256_of_the_canonical_content(notes: Notes) -> None:
    from chalicelib.notes.common import digest

    value = {"b": "é", "a": [1, 2]}
    raw = '{"a":[1,2],"b":"é"}'.encode()
    assert digest(value) == hashlib.sha256(raw).hexdigest()


def test_appointment_and_attachments_must_be_this_patients(
    api: Any, clinic: Any, notes: Notes
) -> None:
    ag = make_agenda(api, clinic)
    appt = booked(api, ag, at(ag.monday, "10:00"))
    pid = ag.patient_id
    other_pid = notes.patient(first_name="Otro")
    r = api.post(f"/patients/{pid}/images", image_body(), token=clinic.admin_token)
    assert r.status == 201, r.body
    image_id = r.json()["data"]["image"]["image_id"]
    good = notes.note(
        pid,
        appointment_id=appt["appointment_id"],
        attachments=[{"kind": "image", "id": image_id}],
    )
    assert good["appointment_id"] == appt["appointment_id"]
    assert good["attachments"] == [{"kind": "image", "id": image_id}]
    # another patient's appointment and image
    r = api.post(
        f"/patients/{other_pid}/notes",
        {"kind": "free", "text": "x", "appointment_id": appt["appointment_id"]},
        token=notes.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "appointment_id"
    r = api.post(
        f"/patients/{other_pid}/notes",
        {"kind": "free", "text": "x", "attachments": [{"kind": "image", "id": image_id}]},
        token=notes.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "attachments[0].id"
    r = api.post(
        f"/patients/{pid}/notes",
        {"kind": "free", "text": "x", "attachments": [{"kind": "document", "id": image_id}]},
        token=notes.token,
    )
    assert r.status == 422
    r = api.post(
        f"/patients/{pid}/notes",
        {"kind": "free", "text": "x", "template_id": "01NOPE"},
        token=notes.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "template_id"
    assert len(notes.call("get", f"/patients/{other_pid}/notes")["items"]) == 0


def test_permissions_receptionist_and_assistant(api: Any, clinic: Any, notes: Notes) -> None:
    pid = notes.patient()
    n = notes.note(pid)
    path = f"/patients/{pid}/notes"
    rec = add_member(api, clinic, "receptionist", "Rosa")["token"]
    asst = add_member(api, clinic, "assistant", "Alba")["token"]
    for token in (rec, asst):
        assert api.get(path, token=token).status == 403
        assert api.get(f"{path}/{n['note_id']}", token=token).status == 403
        assert api.post(path, {"kind": "free", "text": "x"}, token=token).status == 403
        assert api.get("/notes/search?q=dolor", token=token).status == 403
        assert api.post(f"{path}/{n['note_id']}/sign", {}, token=token).status == 403
    assert api.get("/notes/templates", token=rec).status == 403
    hyg = add_member(api, clinic, "hygienist", "Hugo")["token"]
    assert api.get(path, token=hyg).status == 200
    assert api.get("/notes/templates", token=hyg).status == 200
    r = api.post(
        "/notes/templates", {"name": "x", "treatment_type": "y", "kind": "free"}, token=hyg
    )
    assert r.status == 403


def test_list_pages_with_the_cursor(notes: Notes) -> None:
    pid = notes.patient()
    ids = [notes.note(pid, subjective=f"nota {i}")["note_id"] for i in range(5)]
    seen, cursor, cursors = [], None, []
    while True:
        q = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = notes.call("get", f"/patients/{pid}/notes{q}")
        seen += [n["note_id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        cursors.append(cursor)
    assert seen == list(reversed(ids))
    other = notes.patient(first_name="Otra")
    r = notes.api.get(f"/patients/{other}/notes?cursor={cursors[0]}", token=notes.token)
    assert r.status == 400


def test_documents_attach_when_available_and_the_patients_own(clinic: Any, notes: Notes) -> None:
    from chalicelib.core import scoping
    from chalicelib.core.ids import new_id, now
    from chalicelib.imaging.models import Document

    pid, other = notes.patient(), notes.patient(first_name="Otro")

    def doc(patient_id: str, status: str) -> str:
        did = new_id()
        with scoping.clinic(clinic.clinic_id):
            Document(
                *Document.key(clinic.clinic_id, patient_id, did),
                document_id=did,
                patient_id=patient_id,
                type="consent",
                title="Consentimiento",
                filename="c.pdf",
                declared_type="application/pdf",
                declared_size=10,
                status=status,
                created_at=now(),
                created_by="u",
                updated_at=now(),
            ).save()
        return did

    ok, pending, theirs = doc(pid, "available"), doc(pid, "pending"), doc(other, "available")
    n = notes.note(pid, attachments=[{"kind": "document", "id": ok}])
    assert n["attachments"] == [{"kind": "document", "id": ok}]
    for bad in (pending, theirs):
        r = notes.api.post(
            f"/patients/{pid}/notes",
            {"kind": "free", "text": "x", "attachments": [{"kind": "document", "id": bad}]},
            token=notes.token,
        )
        assert r.status == 422 and r.json()["errors"][0]["field"] == "attachments[0].id"
