"""Every notes route, called by another clinic on this clinic's ids (and with this clinic's
ids in its bodies), answers as for a missing id and changes nothing."""

from __future__ import annotations

from typing import Any

from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.imaging.conftest import image_body
from tests.integration.notes.conftest import Notes

TPL = {"name": "T", "treatment_type": "X", "kind": "free", "text": "t"}
FREE = {"kind": "free", "text": "x"}


def test_another_clinic_reaches_nothing(api: Any, clinic: Any, notes: Notes, other_notes: Notes):
    pid = notes.patient()
    draft = notes.note(pid, subjective="Borrador")
    signed = notes.note(pid, subjective="Firmada")
    notes.sign(pid, signed["note_id"])
    t = notes.call(
        "post",
        "/notes/templates",
        TPL,
        201,
    )
    tok = other_notes.token
    d, s = (f"/patients/{pid}/notes/{x['note_id']}" for x in (draft, signed))
    assert api.get(f"/patients/{pid}/notes", token=tok).status == 404
    assert api.post(f"/patients/{pid}/notes", FREE, token=tok).status == 404
    assert api.get(d, token=tok).status == 404
    assert api.put(d, {"kind": "free", "text": "x"}, token=tok).status == 404
    assert api.delete(d, token=tok).status == 404
    assert api.post(d + "/sign", {}, token=tok).status == 404
    assert api.post(s + "/amendments", {"reason": "r", "text": "t"}, token=tok).status == 404
    tp = f"/notes/templates/{t['template_id']}"
    assert api.get(tp, token=tok).status == 404
    assert api.put(tp, {**TPL, "text": "x"}, token=tok).status == 404
    assert api.delete(tp, token=tok).status == 404
    assert t["template_id"] not in {
        x["template_id"] for x in other_notes.call("get", "/notes/templates")["items"]
    }
    # their own patient, with the path of ours: the note is not theirs
    theirs = other_notes.patient()
    assert api.get(f"/patients/{theirs}/notes/{draft['note_id']}", token=tok).status == 404
    # nothing changed
    got = notes.call("get", d)
    assert got["subjective"] == "Borrador" and got["status"] == "draft"
    assert notes.call("get", s)["amendments"] == []
    assert notes.call("get", tp)["text"] == "t"


def test_another_clinics_ids_in_bodies_are_refused(
    api: Any, clinic: Any, notes: Notes, other_notes: Notes
) -> None:
    ag = make_agenda(api, clinic)
    appt = booked(api, ag, at(ag.monday, "11:00"))
    r = api.post(f"/patients/{ag.patient_id}/images", image_body(), token=clinic.admin_token)
    image_id = r.json()["data"]["image"]["image_id"]
    t = notes.call(
        "post",
        "/notes/templates",
        TPL,
        201,
    )
    theirs = other_notes.patient()
    path = f"/patients/{theirs}/notes"
    for extra, field in (
        ({"appointment_id": appt["appointment_id"]}, "appointment_id"),
        ({"attachments": [{"kind": "image", "id": image_id}]}, "attachments[0].id"),
        ({"template_id": t["template_id"]}, "template_id"),
    ):
        r = api.post(path, {"kind": "free", "text": "x", **extra}, token=other_notes.token)
        assert r.status == 422 and r.json()["errors"][0]["field"] == field, r.body
    # a draft of theirs cannot be edited to point at ours either
    n = other_notes.note(theirs)
    r = api.put(
        f"{path}/{n['note_id']}",
        {"kind": "free", "text": "x", "appointment_id": appt["appointment_id"]},
        token=other_notes.token,
    )
    assert r.status == 422
    assert other_notes.call("get", path)["items"][0]["appointment_id"] is None
