"""Search across a clinic's notes by words, through the index of ``search.py`` (ADR 0642).

The longest searched word's entries are read with one Query, newest first and paged by the
project's cursor; each other word is checked for exactly those entries with one
BatchGetItem (its key plus the entry id); the notes, amendments and patients of the page are
one BatchGetItem each. So a search makes 1 + (words - 1) + 3 calls, whatever the size of the
clinic. A word must appear in the same entry (the note, or one amendment) as the others.
"""

from __future__ import annotations

import unicodedata

from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor
from chalicelib.core.errors import BadRequest
from chalicelib.core.i18n import tr
from chalicelib.notes import schemas, search
from chalicelib.notes.common import invalid, open_json, texts
from chalicelib.notes.models import ClinicalNote, NoteAmendment, NoteWord
from chalicelib.patients import service as patients

SNIPPET = 160


def _folded(text: str) -> tuple[str, list[int]]:
    """The text folded as the index folds it, and for each folded character the index of the
    original character it came from (so a match maps back to the text as written)."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch):
            if not unicodedata.combining(c):
                out.append(c.lower())
                where.append(i)
    return "".join(out), where


def snippet(text_parts: list[str], terms: list[str]) -> str:
    """A short excerpt around a searched word, as written: the first of ``terms`` (the longest,
    the most telling) that the text has."""
    text = " · ".join(" ".join(p.split()) for p in text_parts)
    folded, where = _folded(text)
    hits = [folded.find(t) for t in terms if folded.find(t) >= 0]
    if not hits or len(text) <= SNIPPET:
        return text[:SNIPPET] + ("…" if len(text) > SNIPPET else "")
    at = where[hits[0]]
    start = max(0, at - SNIPPET // 3)
    end = min(len(text), start + SNIPPET)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def _contains(parts: list[str], terms: list[str]) -> bool:
    """Whether the entry still has every word (an index entry left by an interrupted edit
    points at a text that no longer has it)."""
    have = search.words(*parts)
    return all(any(w.startswith(t) for w in have) for t in terms)


def search_notes(principal: Principal, q: schemas.SearchQuery) -> Page:
    cid = principal.clinic_id
    wanted = search.words(q.q)
    if not wanted:
        raise invalid(
            "query.q",
            tr(
                "type at least one word of two letters or more that is not a stop word",
                "escribe al menos una palabra de dos letras o más que no sea vacía",
            ),
        )
    if len(wanted) > search.MAX_TERMS:
        raise invalid(
            "query.q",
            tr(
                f"at most {search.MAX_TERMS} words",
                f"como máximo {search.MAX_TERMS} palabras",
            ),
        )
    terms = sorted({search.term(w) for w in wanted}, key=len, reverse=True)
    keys = [search.blind(cid, t) for t in terms]
    pk = clinic_pk(cid)
    first = NoteWord.prefix(keys[0])
    start = decode_cursor(q.cursor, partition=("PK", pk))
    if start is not None and not start.get("SK", {}).get("S", "").startswith(first):
        raise BadRequest(
            tr(
                "The cursor belongs to a different search; start again without it.",
                "El cursor es de otra búsqueda; empieza de nuevo sin él.",
            )
        )
    it = NoteWord.query(
        pk,
        NoteWord.SK.startswith(first),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=start,
    )
    entries = [w for w in it if isinstance(w, NoteWord)]
    cursor = encode_cursor(it.last_evaluated_key)
    entry_id = {w.SK: w.SK[len(first) :] for w in entries}
    candidates = {entry_id[w.SK]: w for w in entries}
    for k in keys[1:]:
        if not candidates:
            break
        found = NoteWord.batch_get([NoteWord.key(cid, k, e) for e in candidates])
        present = {w.SK[len(NoteWord.prefix(k)) :] for w in found if isinstance(w, NoteWord)}
        candidates = {e: w for e, w in candidates.items() if e in present}
    if not candidates:
        return Page([], cursor)
    note_ids = list(dict.fromkeys(w.note_id for w in candidates.values()))
    notes = {
        n.note_id: n
        for n in ClinicalNote.batch_get([ClinicalNote.key(cid, i) for i in note_ids])
        if isinstance(n, ClinicalNote)
    }
    amd_keys = [
        NoteAmendment.key(cid, w.note_id, e) for e, w in candidates.items() if e != w.note_id
    ]
    amendments = (
        {
            a.amendment_id: a
            for a in NoteAmendment.batch_get(amd_keys)
            if isinstance(a, NoteAmendment)
        }
        if amd_keys
        else {}
    )
    people = patients.load_many(cid, {n.patient_id for n in notes.values()})
    hits: list[schemas.SearchHit] = []
    seen: set[str] = set()
    for e, w in sorted(candidates.items(), reverse=True):
        n = notes.get(w.note_id)
        if n is None or w.note_id in seen:
            continue
        content = open_json(cid, n.content_sealed)
        if e == w.note_id:
            parts = texts(content)
        elif e in amendments:
            parts = texts(open_json(cid, amendments[e].body_sealed))
        else:
            continue
        if not _contains(parts, terms):
            continue
        seen.add(w.note_id)
        p = people.get(n.patient_id)
        hits.append(
            schemas.SearchHit(
                note_id=n.note_id,
                patient_id=n.patient_id,
                patient_name=patients.full_name(p) if p else "",
                status=n.status,  # type: ignore[arg-type]
                kind=n.kind,  # type: ignore[arg-type]
                title=content.get("title"),
                created_at=n.created_at,
                signed_at=n.signed_at,
                author_name=n.author_name,
                snippet=snippet(parts, terms),
                in_amendment=e != w.note_id,
            )
        )
    return Page(hits, cursor)
