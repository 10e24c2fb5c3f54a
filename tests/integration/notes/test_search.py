"""Search across a clinic's notes: accent- and case-insensitive words, prefixes, several words,
paging, the index following drafts, and a constant number of DynamoDB calls."""

from __future__ import annotations

from typing import Any

from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.notes.conftest import Notes


def _ids(page: dict) -> list[str]:
    return [h["note_id"] for h in page["items"]]


def test_accents_and_case_do_not_matter(notes: Notes) -> None:
    pid = notes.patient(first_name="Lucía", last_name="Fernández")
    n = notes.note(pid, assessment="Necesita Endodóncia en la 46.", plan="Cita en dos semanas")
    for q in ("endodoncia", "ENDODÓNCIA", "Endodoncia", "endo", "endodón"):
        page = notes.search(q)
        assert _ids(page) == [n["note_id"]], q
    hit = notes.search("endodoncia")["items"][0]
    assert hit["patient_id"] == pid and hit["patient_name"].startswith("Lucía Fernández")
    assert "Endodóncia" in hit["snippet"] and hit["status"] == "draft"
    assert notes.search("46")["items"][0]["note_id"] == n["note_id"]
    assert notes.search("endodontico")["items"] == []  # differs within the first 10 letters
    assert notes.search("periodoncia")["items"] == []


def test_several_words_must_all_be_in_the_note(notes: Notes) -> None:
    pid = notes.patient()
    both = notes.note(pid, subjective="Dolor al masticar", assessment="Fractura de cúspide")
    notes.note(pid, subjective="Dolor difuso", assessment="Sensibilidad")
    notes.note(pid, subjective="Revisión", assessment="Fractura de corona")
    assert _ids(notes.search("dolor fractura")) == [both["note_id"]]
    assert _ids(notes.search("FRACTURA   dolor de")) == [both["note_id"]]
    assert len(notes.search("dolor")["items"]) == 2


def test_bad_searches_are_422(notes: Notes) -> None:
    for q in ("de la y", "a", "alfa beta gama delta epsilon zeta"):
        r = notes.api.get(f"/notes/search?q={q}", token=notes.token)
        assert r.status == 422, q
        assert r.json()["errors"][0]["field"] == "query.q"
    assert notes.api.get("/notes/search", token=notes.token).status == 422


def test_amendments_are_found_and_lead_to_their_note(notes: Notes) -> None:
    pid = notes.patient()
    n = notes.note(pid, subjective="Molestias")
    notes.sign(pid, n["note_id"])
    notes.amend(pid, n["note_id"], reason="Olvido", text="Se pautó ibuprofeno.")
    page = notes.search("ibuprofeno")
    assert _ids(page) == [n["note_id"]] and page["items"][0]["in_amendment"] is True
    assert page["items"][0]["status"] == "signed"


def test_the_index_follows_edits_and_deletions_of_drafts(notes: Notes, clinic: Any) -> None:
    pid = notes.patient()
    n = notes.note(pid, subjective="Gingivitis marginal")
    path = f"/patients/{pid}/notes/{n['note_id']}"
    assert _ids(notes.search("gingivitis")) == [n["note_id"]]
    notes.call("put", path, {"kind": "free", "text": "Bruxismo nocturno"})
    assert notes.search("gingivitis")["items"] == []
    assert _ids(notes.search("bruxismo")) == [n["note_id"]]
    notes.call("delete", path, status=204)
    assert notes.search("bruxismo")["items"] == []
    # and no index item is left behind for the deleted draft
    from chalicelib.core import scoping
    from chalicelib.core.db import clinic_pk
    from chalicelib.notes.models import NoteWord

    with scoping.clinic(clinic.clinic_id):
        words = list(NoteWord.query(clinic_pk(clinic.clinic_id), NoteWord.SK.startswith("NWORD#")))
    assert words == [] or all(w.note_id != n["note_id"] for w in words)


def test_paging_and_constant_calls(notes: Notes) -> None:
    pid = notes.patient()
    for i in range(7):
        notes.note(pid, subjective=f"Caries interproximal número {i}", plan="Obturación")
    first = notes.search("caries obturacion", limit=3)
    assert len(first["items"]) == 3 and first["next_cursor"]
    seen = _ids(first)
    cursor = first["next_cursor"]
    while cursor:
        page = notes.search("caries obturacion", limit=3, cursor=cursor)
        seen += _ids(page)
        cursor = page["next_cursor"]
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first
    r = notes.api.get(f"/notes/search?q=dolor&cursor={first['next_cursor']}", token=notes.token)
    assert r.status == 400  # a cursor of another search

    def calls() -> tuple[int, Any]:
        with dynamodb_calls() as c:
            notes.search("caries obturacion", limit=3)
        return c.count, c.by_op()

    before, ops = calls()
    assert "Scan" not in ops
    for i in range(15):
        notes.note(pid, subjective=f"Caries oclusal {i}", plan="Obturación composite")
    after, ops_after = calls()
    assert after == before, (ops, ops_after)
    # one Query for the first word, one BatchGetItem for the second, then the notes and the
    # patients of the page
    assert ops_after["Query"] == 1 and ops_after["BatchGetItem"] <= 4, ops_after


def test_other_clinics_notes_are_never_found(notes: Notes, other_notes: Notes) -> None:
    pid = notes.patient()
    notes.note(pid, subjective="Periimplantitis")
    theirs = other_notes.patient()
    other_notes.note(theirs, subjective="Periimplantitis avanzada")
    mine = notes.search("periimplantitis")["items"]
    assert [h["patient_id"] for h in mine] == [pid]
    assert [h["patient_id"] for h in other_notes.search("periimplantitis")["items"]] == [theirs]
