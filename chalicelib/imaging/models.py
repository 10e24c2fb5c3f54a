"""Imaging items (see docs/adr/0401-imaging-records.md). Keys:

| item | PK | SK | GSI2 |
|---|---|---|---|
| Image | C#<cid> | PAT#<pid>#IMG#<iid> | C#<cid>#PAT#<pid>#IMG / <acquired date>#<iid> |
| Image (inbox) | C#<cid> | PAT#INBOX#IMG#<iid> | C#<cid>#INBOX / <iid> |
| ImageRef | C#<cid> | IMG#<iid> | |
| CaptureDigest | C#<cid> | CAPSHA#<sha256> | |
| ToothXray | C#<cid> | PAT#<pid>#XRT#<tooth>#<acquired date>#<iid> | |
| ImagePair | C#<cid> | PAT#<pid>#PAIR#<pair id> | |
| Document | C#<cid> | PAT#<pid>#DOC#<did> | |
| ImagingSettings | C#<cid> | SETTINGS#IMAGING | |

Upload slots (an Image or a Document while ``pending``) also carry GSI1
``UPLEXP#<UTC hour their slot expires> / C#<cid>#IMG|DOC#<id>``: the ``upload-expiry`` job
reads only the hours that are due, never the table (docs/adr/0014-upload-integrity-and-expiry.md).
The entry is removed when the slot leaves ``pending``.

* ``ImageRef`` finds an image from its id alone (the image worker only has the S3 key, and
  ``GET /images/{id}``); it is written in the same transaction as the image and read with a
  consistent GetItem, so the worker never races a GSI.
* ``ToothXray`` index items (one per tooth of an X-ray) serve "that tooth's X-rays over time"
  with one Query, oldest first; they are rewritten whenever teeth or the date change.
* GSI2 lists a patient's images by acquisition date (date ranges are key conditions).
* Bridge captures that match no patient (or more than one) wait in the clinic's inbox: the
  same Image item under the sentinel patient id :data:`INBOX` (never a ULID, so it cannot
  collide with a patient), listed newest first through GSI2 ``C#<cid>#INBOX``. Assigning one
  moves the item under the patient (docs/adr/1001-bridge-devices.md).
* Bridge captures also carry GSI3 ``C#<cid>#DEV#<device id>#IMG / <iid>``: a device's recent
  uploads, newest first, with one Query.
* Every key is built from the clinic id of the authenticated principal, or, in the worker,
  from the clinic id in the S3 key, never from a request body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk

ORIGINAL_TAG = ("cuspide-class", "original")
"""Object tag of every uploaded original (set by the presigned POST): the media bucket's
lifecycle moves only tagged objects to colder storage; renditions stay hot. Must equal
``infra.resources.ORIGINAL_OBJECT_TAG`` (a test checks)."""


INBOX = "INBOX"
"""The patient id of an image in the clinic's inbox of unassigned captures (the API shows
``patient_id: null``)."""


def is_inbox(patient_id: str | None) -> bool:
    return patient_id == INBOX


def upload_prefix(clinic_id: str, image_id: str) -> str:
    return f"clinics/{clinic_id}/uploads/{image_id}/"


def original_key(clinic_id: str, image_id: str) -> str:
    return upload_prefix(clinic_id, image_id) + "original"


def document_key(clinic_id: str, document_id: str) -> str:
    # Deliberately not ending in /original: the image worker's rule never sees documents.
    return f"clinics/{clinic_id}/documents/{document_id}/file"


class Image(Item, discriminator="Image"):
    image_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # photo | xray | dicom
    category = UnicodeAttribute(null=True)
    xray_type = UnicodeAttribute(null=True)
    teeth = ListAttribute(of=NumberAttribute, null=True)
    acquired_on = UnicodeAttribute(null=True)  # ISO date
    appointment_id = UnicodeAttribute(null=True)
    treatment_id = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    filename = UnicodeAttribute()
    declared_type = UnicodeAttribute()
    declared_size = NumberAttribute()
    # pending | processing | ready | failed | expired (a slot that never received its file)
    status = UnicodeAttribute(default="pending")
    reason = UnicodeAttribute(null=True)  # why it failed, in English
    # The same in Spanish, and what kind of problem it is (RENDER_ERROR_CODES in
    # chalicelib/imaging/contracts.py), so a client can word it in its user's language.
    reason_es = UnicodeAttribute(null=True)
    reason_code = UnicodeAttribute(null=True)
    # Random per slot, sent in the presigned POST as x-amz-meta-slot (a policy condition): the
    # worker renders only an object that carries it (docs/adr/0014-upload-integrity-and-expiry.md).
    upload_token = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)  # detected from the bytes
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    original_bytes = NumberAttribute(null=True)
    hot_bytes = NumberAttribute(null=True)
    compression_ratio = NumberAttribute(null=True)
    renditions = JSONAttribute(null=True)  # {name: {file, content_type, width, height, size}}
    metadata = JSONAttribute(null=True)  # render metadata without PHI
    dicom_patient_sealed = UnicodeAttribute(null=True)  # {"name", "id"} sealed (PHI)
    patient_mismatch = BooleanAttribute(null=True)
    patient_mismatch_fields = ListAttribute(of=UnicodeAttribute, null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    processed_at = UTCDateTimeAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    deleted_at = UTCDateTimeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)
    # The worker's claim: who is processing it (SQS message id) and until when (epoch s).
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    interrupted = NumberAttribute(null=True)  # attempts that ended without a verdict
    source_etag = UnicodeAttribute(null=True)
    event_published = BooleanAttribute(default=False)
    # DICOM study and series (from the Bridge's hints, else from the file's header): the
    # files of one study show as one study with its series.
    study_uid = UnicodeAttribute(null=True)
    series_uid = UnicodeAttribute(null=True)
    sop_uid = UnicodeAttribute(null=True)
    series_number = NumberAttribute(null=True)
    instance_number = NumberAttribute(null=True)
    # Bridge captures: which device sent it, the SHA-256 it declared (the worker checks the
    # bytes against it), how it was matched and the sealed hints (file name, DICOM patient).
    source = UnicodeAttribute(null=True)  # "bridge" for captures; None for staff uploads
    device_id = UnicodeAttribute(null=True)
    device_name = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    match = JSONAttribute(null=True)  # {"by", "reason", "candidates"}
    hints_sealed = UnicodeAttribute(null=True)  # {"dicom_patient_name", ...} sealed (PHI)
    assigned_at = UTCDateTimeAttribute(null=True)
    assigned_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str, image_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}#IMG#{image_id}"

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"PAT#{patient_id}#IMG#"

    @staticmethod
    def by_date_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#IMG"

    @staticmethod
    def by_date_sk(acquired_on: str, image_id: str) -> str:
        return f"{acquired_on}#{image_id}"

    @staticmethod
    def inbox_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#INBOX"

    @staticmethod
    def by_device_pk(clinic_id: str, device_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#DEV#{device_id}#IMG"

    @property
    def in_inbox(self) -> bool:
        return is_inbox(self.patient_id)

    @staticmethod
    def deletion(by: str, at: datetime) -> list[Any]:
        """The update actions of a soft delete (staff delete, inbox discard)."""
        return [
            Image.deleted.set(True),
            Image.deleted_at.set(at),
            Image.deleted_by.set(by),
            Image.updated_at.set(at),
        ]


class ImageRef(Item, discriminator="ImageRef"):
    image_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, image_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"IMG#{image_id}"


class CaptureDigest(Item, discriminator="CaptureDigest"):
    """One per SHA-256 of a Bridge capture's bytes in a clinic: the same file is received
    once (written with ``attribute_not_exists`` in the capture's transaction; removed when
    the image is deleted or discarded, so the file may be sent again)."""

    image_id = UnicodeAttribute()
    device_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, sha256: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"CAPSHA#{sha256.lower()}"


class ToothXray(Item, discriminator="ToothXray"):
    image_id = UnicodeAttribute()
    tooth = NumberAttribute()
    acquired_on = UnicodeAttribute()

    @staticmethod
    def key(
        clinic_id: str, patient_id: str, tooth: int, acquired_on: str, image_id: str
    ) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}#XRT#{tooth}#{acquired_on}#{image_id}"

    @staticmethod
    def prefix(patient_id: str, tooth: int) -> str:
        return f"PAT#{patient_id}#XRT#{tooth}#"


class ImagePair(Item, discriminator="ImagePair"):
    pair_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    before_id = UnicodeAttribute()
    after_id = UnicodeAttribute()
    title = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, patient_id: str, pair_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}#PAIR#{pair_id}"

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"PAT#{patient_id}#PAIR#"


class Document(Item, discriminator="Document"):
    document_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    type = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    filename = UnicodeAttribute()
    declared_type = UnicodeAttribute()
    declared_size = NumberAttribute()
    content_type = UnicodeAttribute(null=True)  # detected from the bytes
    size = NumberAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | available | expired
    upload_token = UnicodeAttribute(null=True)  # as Image.upload_token
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    # The uploader's name as it was then: the list shows who, and the readers of documents
    # (a receptionist) may not read the staff list.
    created_by_name = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    uploaded_at = UTCDateTimeAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    deleted_at = UTCDateTimeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, patient_id: str, document_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"PAT#{patient_id}#DOC#{document_id}"

    @staticmethod
    def prefix(patient_id: str) -> str:
        return f"PAT#{patient_id}#DOC#"


class ImagingSettings(Item, discriminator="ImagingSettings"):
    xray_full_format = UnicodeAttribute(default="jpeg")
    max_photo_mb = NumberAttribute(null=True)
    max_dicom_mb = NumberAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "SETTINGS#IMAGING"
