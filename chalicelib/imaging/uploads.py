"""Upload slots: what a presigned POST promises, how the stored object is checked against it,
and when a slot that never received its file expires (docs/adr/0014-upload-integrity-and-expiry.md).

* A slot is an Image (staff upload or Bridge capture) or a Document while ``pending``. It has a
  random ``upload_token``; its form's policy pins the exact key, ``Content-Type`` to the
  declared type, ``content-length-range`` to ``1..declared size`` and
  ``x-amz-meta-slot`` to the token. S3 enforces the policy; moto does not, and a policy is
  only as good as the code that trusts it, so whoever consumes the object (the image worker,
  a document's ``complete``) checks the same promises with :func:`violation` before using a
  byte of it. A form of another slot (another clinic's, or the same clinic's) whose key was
  changed carries another token, so it can never stand in for this slot's file.
* A slot's form lives :data:`~chalicelib.core.storage.URL_TTL_S`; past that plus
  :data:`GRACE_S` (an upload started just before the form expired may still be arriving) the
  ``upload-expiry`` job marks it ``expired``. Its GSI1 entry ``UPLEXP#<UTC hour>`` makes the
  job read only the hours that are due (no scan). Listings hide a pending slot as soon as its
  form has expired (:func:`stale_before`), even before the job runs.

Lean on purpose (imported by the API): no rendering libraries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core import storage
from chalicelib.core.db import clinic_pk
from chalicelib.core.i18n import tr

SLOT_META = "slot"
"""User-metadata name of the slot token (``x-amz-meta-slot`` in the form)."""

GRACE_S = 3600
"""How long after its form expired a slot still waits for its file (a large upload that
started just before the form expired)."""

LIFETIME_S = storage.URL_TTL_S + GRACE_S
MB = 1024 * 1024
EXPIRY_PREFIX = "UPLEXP#"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def expires_at(created_at: datetime) -> datetime:
    return created_at + timedelta(seconds=LIFETIME_S)


def expiry_bucket(at: datetime) -> str:
    """The GSI1 partition of the slots that expire in ``at``'s UTC hour."""
    return EXPIRY_PREFIX + at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def index_slot(item: Any, clinic_id: str, entity: str, item_id: str) -> None:
    """Put a new slot (``entity`` ``IMG`` or ``DOC``) in the expiry index."""
    item.GSI1PK = expiry_bucket(expires_at(item.created_at))
    item.GSI1SK = f"{clinic_pk(clinic_id)}#{entity}#{item_id}"


def stale_before(at: datetime) -> datetime:
    """Pending slots created before this can no longer start an upload: listings hide them."""
    return at - timedelta(seconds=storage.URL_TTL_S)


def form(
    key: str,
    *,
    content_type: str,
    size: int,
    token: str | None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The presigned POST of a slot: this key, this type, at most the declared size, this
    slot's token (none for slots made before tokens existed)."""
    return storage.presigned_post(
        key,
        content_type=content_type,
        max_bytes=size,
        tags=tags,
        metadata={SLOT_META: token} if token else None,
    )


@dataclass(frozen=True)
class Violation:
    """Why a stored object is not the file its slot's form allowed."""

    code: str  # foreign | empty | size | type
    en: str
    es: str

    @property
    def message(self) -> str:
        return tr(self.en, self.es)


def violation(
    head: storage.Head,
    *,
    token: str | None,
    declared_size: int,
    declared_type: str,
) -> Violation | None:
    """What the object breaks of its slot's policy, or None. ``foreign`` first: an object
    that is not this slot's upload says nothing about the slot."""
    if token and not secrets.compare_digest(head.metadata.get(SLOT_META, ""), token):
        return Violation(
            "foreign",
            "The stored file was not uploaded with this upload's form: it was removed.",
            "El archivo guardado no se subió con el formulario de esta subida: se ha eliminado.",
        )
    if head.size <= 0:
        return Violation(
            "empty",
            "The uploaded file is empty: upload it again.",
            "El archivo subido está vacío: súbelo de nuevo.",
        )
    if head.size > declared_size:
        return Violation(
            "size",
            f"File is too large: {head.size / MB:.1f} MB uploaded ({head.size} bytes) but "
            f"{declared_size} bytes were declared; upload the file you declared.",
            f"El archivo es demasiado grande: se subieron {head.size / MB:.1f} MB "
            f"({head.size} bytes) pero se declararon {declared_size} bytes; sube el archivo "
            "que declaraste.",
        )
    stored = (head.content_type or "").split(";")[0].strip().lower()
    if stored != declared_type.lower():
        return Violation(
            "type",
            f"The file was uploaded as {stored or 'no type'} but {declared_type} was declared; "
            "upload it again with the declared type.",
            f"El archivo se subió como {stored or 'sin tipo'} pero se declaró {declared_type}; "
            "súbelo de nuevo con el tipo declarado.",
        )
    return None
