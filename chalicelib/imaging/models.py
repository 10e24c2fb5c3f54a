"""Imaging items (see docs/adr/0401-imaging-records.md). Keys:

| item | PK | SK | GSI2 |
|---|---|---|---|
| Image | C#<cid> | PAT#<pid>#IMG#<iid> | C#<cid>#PAT#<pid>#IMG / <acquired date>#<iid> |
| ImageRef | C#<cid> | IMG#<iid> | |
| ToothXray | C#<cid> | PAT#<pid>#XRT#<tooth>#<acquired date>#<iid> | |
| ImagePair | C#<cid> | PAT#<pid>#PAIR#<pair id> | |
| Document | C#<cid> | PAT#<pid>#DOC#<did> | |
| ImagingSettings | C#<cid> | SETTINGS#IMAGING | |

* ``ImageRef`` finds an image from its id alone (the image worker only has the S3 key, and
  ``GET /images/{id}``); it is written in the same transaction as the image and read with a
  consistent GetItem, so the worker never races a GSI.
* ``ToothXray`` index items (one per tooth of an X-ray) serve "that tooth's X-rays over time"
  with one Query, oldest first; they are rewritten whenever teeth or the date change.
* GSI2 lists a patient's images by acquisition date (date ranges are key conditions).
* Every key is built from the clinic id of the authenticated principal, or, in the worker,
  from the clinic id in the S3 key, never from a request body.
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

ORIGINAL_TAG = ("cuspide-class", "original")
"""Object tag of every uploaded original (set by the presigned POST): the media bucket's
lifecycle moves only tagged objects to colder storage; renditions stay hot. Must equal
``infra.resources.ORIGINAL_OBJECT_TAG`` (a test checks)."""


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
    status = UnicodeAttribute(default="pending")  # pending | processing | ready | failed
    reason = UnicodeAttribute(null=True)
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


class ImageRef(Item, discriminator="ImageRef"):
    image_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, image_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"IMG#{image_id}"


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
    status = UnicodeAttribute(default="pending")  # pending | available
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
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
