"""Clinical notes items (one table; keys from the authenticated clinic). ADR 0641-0643.

| item | PK | SK | GSI1 |
|---|---|---|---|
| ClinicalNote | C#<cid> | NOTE#<note id> | C#<cid>#PAT#<pid>#NOTE / <note id> |
| NoteAmendment | C#<cid> | NOTE#<note id>#AMD#<amendment id> | |
| NoteTemplate | C#<cid> | NTPL#<template id> | |
| NoteWord (search) | C#<cid> | NWORD#<key>#<entry id> | |

A note's amendments are listed on the note (``amendment_ids``), so a page of notes reads its
amendments with one BatchGetItem. Search entries carry only the ids they point at; ``<key>``
is a keyed hash of a normalised word prefix (``chalicelib/notes/search.py``, ADR 0642), and
``<entry id>`` is the note's or the amendment's id (ULIDs: newest first when read backwards).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class ClinicalNote(Item, discriminator="ClinicalNote"):
    note_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # soap | free
    # What was written, sealed (AES-GCM under the clinic's data key, like the medical history):
    # JSON {"title", "subjective", "objective", "assessment", "plan"} or {"title", "text"}.
    content_sealed = UnicodeAttribute()
    attachments = JSONAttribute(default=list)  # [{"kind": "image"|"document", "id": ...}]
    status = UnicodeAttribute(default="draft")  # draft | signed
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    signed_at = UTCDateTimeAttribute(null=True)
    signed_by = UnicodeAttribute(null=True)
    signed_by_name = UnicodeAttribute(null=True)
    content_hash = UnicodeAttribute(null=True)  # sha256 of the signed content (hex)
    amendment_ids = ListAttribute(of=UnicodeAttribute, default=list)
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, note_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"NOTE#{note_id}"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#NOTE"


class NoteAmendment(Item, discriminator="ClinicalNoteAmendment"):
    amendment_id = UnicodeAttribute()
    note_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    body_sealed = UnicodeAttribute()  # sealed JSON {"reason", "text"}
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute(null=True)
    signed_at = UTCDateTimeAttribute()
    content_hash = UnicodeAttribute()  # sha256 over the note's hash, reason and text

    @staticmethod
    def key(clinic_id: str, note_id: str, amendment_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"NOTE#{note_id}#AMD#{amendment_id}"


class NoteTemplate(Item, discriminator="ClinicalNoteTemplate"):
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    treatment_type = UnicodeAttribute()
    kind = UnicodeAttribute()  # soap | free
    content = JSONAttribute()
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, template_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"NTPL#{template_id}"

    PREFIX = "NTPL#"


class NoteWord(Item, discriminator="ClinicalNoteWord"):
    """A search entry: the entry (note or amendment) ``entry_id`` has a word with this prefix.
    Holds ids only, never the word (its key is a keyed hash)."""

    note_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, word_key: str, entry_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"{NoteWord.prefix(word_key)}{entry_id}"

    @staticmethod
    def prefix(word_key: str) -> str:
        return f"NWORD#{word_key}#"
