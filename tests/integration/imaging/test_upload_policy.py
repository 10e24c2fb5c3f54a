"""What a presigned POST promises is checked by whoever consumes the upload, on AWS and locally
alike (moto enforces no POST policy): the object carries its slot's token (a form of another
slot, another clinic's included, with its key changed is removed and changes nothing), its
size is at most the declared size, its type the declared type. A violating object is removed
and the image fails with a reason; it is never rendered. The validated original is tagged for
the bucket's lifecycle (docs/adr/0014-upload-integrity-and-expiry.md)."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from chalicelib.core import aws, storage
from chalicelib.core.config import settings
from chalicelib.imaging.models import original_key
from infra.resources import ORIGINAL_OBJECT_TAG
from tests.integration.imaging.conftest import image_body, upload
from tests.integration.imaging.helpers import audit_actions, fetch
from tests.integration.patients.helpers import create_patient
from tests.unit.imaging.imaging_samples import PDF, photo_jpeg


def _s3() -> Any:
    return aws.client("s3")


def _bucket() -> str:
    return settings().media_bucket


def _post(form: dict[str, Any], data: bytes, **fields: str) -> None:
    """POST with the form's fields changed (moto accepts it; S3 would refuse it)."""
    r = requests.post(
        form["url"], data={**form["fields"], **fields}, files={"file": ("f", data)}, timeout=30
    )
    assert r.status_code in (200, 201, 204), r.text


def _policy(form: dict[str, Any]) -> list[Any]:
    return json.loads(base64.b64decode(form["fields"]["policy"]))["conditions"]


def _tags(key: str) -> dict[str, str]:
    got = _s3().get_object_tagging(Bucket=_bucket(), Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in got}


def _image(api: Any, token: str, image_id: str) -> dict[str, Any]:
    r = api.get(f"/images/{image_id}", token=token)
    assert r.status == 200, r.body
    return r.json()["data"]


def _no_render(monkeypatch: Any) -> None:
    def boom(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a file that breaks its form's policy must not be read")

    monkeypatch.setattr(storage, "read", boom)


def test_the_form_allows_the_declared_size_type_and_token_only(start_upload):
    data = photo_jpeg(300, 200)
    d = start_upload("photo", data)
    conds = _policy(d["upload"])
    assert ["content-length-range", 1, len(data)] in conds
    assert {"Content-Type": "image/jpeg"} in conds
    token = d["upload"]["fields"]["x-amz-meta-slot"]
    assert len(token) >= 32 and {"x-amz-meta-slot": token} in conds
    assert d["upload"]["max_bytes"] == len(data)
    tag_key, tag_value = ORIGINAL_OBJECT_TAG
    assert any("tagging" in c and tag_key in c["tagging"] for c in conds if isinstance(c, dict))
    # every slot its own token
    assert start_upload("photo", data)["upload"]["fields"]["x-amz-meta-slot"] != token


def test_another_clinics_form_with_its_key_changed_replaces_nothing(
    api, clinic, other_clinic, start_upload, worker
):
    b = other_clinic.admin_token
    b_pid = create_patient(api, b)["patient_id"]
    good = photo_jpeg(640, 480, orientation=1)

    def b_slot() -> dict[str, Any]:
        r = api.post(f"/patients/{b_pid}/images", image_body("photo", good), token=b)
        assert r.status == 201, r.body
        return r.json()["data"]

    pending, ready = b_slot(), b_slot()
    upload(ready["upload"], good)
    assert worker.drain_all() >= 1
    assert _image(api, b, ready["image"]["image_id"])["status"] == "ready"
    rendered_etag = _s3().head_object(
        Bucket=_bucket(), Key=original_key(other_clinic.clinic_id, ready["image"]["image_id"])
    )["ETag"]

    # Clinic A's own form, its key changed to B's pending slot and to B's ready image. S3
    # refuses such a POST (the policy pins the key), and so do the clinic-scoped credentials
    # that sign A's form (ADR 0012); where neither holds (moto alone), the object lands as
    # below, and the worker is what stops it.
    evil = photo_jpeg(320, 240, orientation=1)
    a_form = start_upload("photo", evil)["upload"]
    for target in (pending, ready):
        key = original_key(other_clinic.clinic_id, target["image"]["image_id"])
        _s3().put_object(
            Bucket=_bucket(),
            Key=key,
            Body=evil,
            ContentType="image/jpeg",
            Metadata={"slot": a_form["fields"]["x-amz-meta-slot"]},
        )
    assert worker.drain_all() >= 2

    # B's pending slot is still pending, with nothing at its key: B's real upload still works.
    iid = pending["image"]["image_id"]
    img = _image(api, b, iid)
    assert img["status"] == "pending" and img["urls"] == {}
    key = original_key(other_clinic.clinic_id, iid)
    assert "Contents" not in _s3().list_objects_v2(Bucket=_bucket(), Prefix=key)
    assert "image.upload_rejected" in [a["action"] for a in audit_actions(api, b, "image", iid)]
    # B's ready image keeps the original its renditions were made from.
    key = original_key(other_clinic.clinic_id, ready["image"]["image_id"])
    assert _s3().head_object(Bucket=_bucket(), Key=key)["ETag"] == rendered_etag
    assert _image(api, b, ready["image"]["image_id"])["width"] == 640
    # Now B's own upload arrives and is rendered.
    upload(pending["upload"], good)
    assert worker.drain_all() >= 1
    img = _image(api, b, iid)
    assert img["status"] == "ready" and img["width"] == 640


def test_a_form_with_its_key_changed_to_another_slot_of_the_clinic_changes_nothing(
    api, clinic, start_upload, worker
):
    """Within one clinic the credentials allow the key: only the slot token tells the forms
    apart."""
    good, evil = photo_jpeg(640, 480, orientation=1), photo_jpeg(320, 240, orientation=1)
    target, other = start_upload("photo", good), start_upload("photo", evil)
    iid = target["image"]["image_id"]
    _post(other["upload"], evil, key=original_key(clinic.clinic_id, iid))
    worker.drain_all()
    img = _image(api, clinic.admin_token, iid)
    assert img["status"] == "pending"
    assert "image.upload_rejected" in [
        a["action"] for a in audit_actions(api, clinic.admin_token, "image", iid)
    ]
    upload(target["upload"], good)
    worker.drain_all()
    img = _image(api, clinic.admin_token, iid)
    assert img["status"] == "ready" and img["width"] == 640


def test_a_form_reused_on_the_same_slot_after_rendering_leaves_the_original(
    api, clinic, start_upload, worker
):
    good = photo_jpeg(500, 400, orientation=1)
    d = start_upload("photo", good)
    upload(d["upload"], good)
    worker.drain_all()
    key = original_key(clinic.clinic_id, d["image"]["image_id"])
    before = _s3().head_object(Bucket=_bucket(), Key=key)["ETag"]
    upload(d["upload"], photo_jpeg(100, 100, orientation=1))
    worker.drain_all()
    assert _s3().head_object(Bucket=_bucket(), Key=key)["ETag"] == before


def test_a_file_larger_than_declared_fails_is_removed_and_is_never_read(
    api, clinic, start_upload, worker, monkeypatch
):
    data = photo_jpeg(400, 300)
    d = start_upload("photo", data)
    upload(d["upload"], data + b"\0" * (50 * len(data)))  # far under the 25 MB photo limit
    _no_render(monkeypatch)
    worker.drain_all()
    img = _image(api, clinic.admin_token, d["image"]["image_id"])
    assert img["status"] == "failed"
    assert "too large" in img["reason"] and f"{len(data)} bytes were declared" in img["reason"]
    key = original_key(clinic.clinic_id, d["image"]["image_id"])
    assert "Contents" not in _s3().list_objects_v2(Bucket=_bucket(), Prefix=key)


def test_a_file_of_another_type_than_declared_fails_and_is_removed(
    api, clinic, start_upload, worker, monkeypatch
):
    data = photo_jpeg(400, 300)
    d = start_upload("photo", data)
    _post(d["upload"], data, **{"Content-Type": "text/html"})
    _no_render(monkeypatch)
    worker.drain_all()
    img = _image(api, clinic.admin_token, d["image"]["image_id"])
    assert img["status"] == "failed"
    assert "text/html" in img["reason"] and "image/jpeg was declared" in img["reason"]
    prefix = f"clinics/{clinic.clinic_id}/uploads/{img['image_id']}/"
    assert "Contents" not in _s3().list_objects_v2(Bucket=_bucket(), Prefix=prefix)


def test_the_validated_original_is_tagged_for_the_lifecycle(api, clinic, uploaded):
    img = uploaded("photo", photo_jpeg(400, 300, orientation=1))
    assert img["status"] == "ready"
    prefix = f"clinics/{clinic.clinic_id}/uploads/{img['image_id']}/"
    tag_key, tag_value = ORIGINAL_OBJECT_TAG
    assert _tags(prefix + "original") == {tag_key: tag_value}
    for r in img["urls"].values():
        assert fetch(r["url"]).status_code == 200
    keys = [o["Key"] for o in _s3().list_objects_v2(Bucket=_bucket(), Prefix=prefix)["Contents"]]
    renditions = [k for k in keys if not k.endswith("/original")]
    assert renditions and all(_tags(k) == {} for k in renditions)  # renditions stay hot


def test_a_slot_without_a_token_is_still_processed(api, clinic, start_upload, worker):
    """Slots made before tokens existed (their forms carry none) are not refused."""
    from chalicelib.imaging.models import Image

    data = photo_jpeg(300, 200, orientation=1)
    d = start_upload("photo", data)
    item = Image.get(*Image.key(clinic.clinic_id, d["image"]["patient_id"], d["image"]["image_id"]))
    item.update(actions=[Image.upload_token.remove()])
    fields = {k: v for k, v in d["upload"]["fields"].items() if k != "x-amz-meta-slot"}
    upload({**d["upload"], "fields": fields}, data)
    worker.drain_all()
    assert _image(api, clinic.admin_token, d["image"]["image_id"])["status"] == "ready"


def test_documents_check_the_same_promises_at_complete(api, clinic, other_clinic, patient):
    a, b = clinic.admin_token, other_clinic.admin_token
    b_pid = create_patient(api, b)["patient_id"]

    def slot(token: str, pid: str) -> dict[str, Any]:
        body = {
            "type": "consent",
            "title": "Consentimiento",
            "filename": "c.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        }
        r = api.post(f"/patients/{pid}/documents", body, token=token)
        assert r.status == 201, r.body
        return r.json()["data"]

    theirs = slot(b, b_pid)
    conds = _policy(theirs["upload"])
    assert ["content-length-range", 1, len(PDF)] in conds
    did = theirs["document"]["document_id"]
    key = f"clinics/{other_clinic.clinic_id}/documents/{did}/file"
    # Another document's form (what moto alone would accept), stored at B's document's key
    other_form = slot(a, patient["patient_id"])["upload"]
    _s3().put_object(
        Bucket=_bucket(),
        Key=key,
        Body=PDF,
        ContentType="application/pdf",
        Metadata={"slot": other_form["fields"]["x-amz-meta-slot"]},
    )
    r = api.post(f"/patients/{b_pid}/documents/{did}/complete", token=b)
    assert r.status == 422 and r.json()["code"] == "UPLOAD_INVALID"
    assert "form" in r.json()["message"]
    assert "Contents" not in _s3().list_objects_v2(Bucket=_bucket(), Prefix=key)
    d = api.get(f"/patients/{b_pid}/documents/{did}", token=b).json()["data"]
    assert d["status"] == "pending"
    # larger than declared
    _post(theirs["upload"], PDF + b"%" * 100)
    r = api.post(
        f"/patients/{b_pid}/documents/{did}/complete",
        token=b,
        headers={"Accept-Language": "es"},
    )
    assert r.status == 422 and "demasiado grande" in r.json()["message"]
    # the right file still completes the same slot
    upload(theirs["upload"], PDF)
    r = api.post(f"/patients/{b_pid}/documents/{did}/complete", token=b)
    assert r.status == 200 and r.json()["data"]["status"] == "available"


def test_local_s3_notifies_a_post_upload_only_once_its_metadata_is_stored(
    start_upload, monkeypatch
):
    """The local stack's moto hook: the worker must never see an uploaded original without
    the form's metadata (moto stores it after notifying)."""
    from moto.s3 import notifications

    from infra.local import moto_s3

    moto_s3.apply()  # what the local stack's runner does (a no-op without a sink otherwise)
    seen: list[dict[str, str]] = []
    real = notifications.send_event

    def spy(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        seen.append(dict(key.metadata))
        real(account_id, event_name, bucket, key)

    monkeypatch.setattr(notifications, "send_event", spy)
    data = photo_jpeg(100, 100)
    d = start_upload("photo", data)
    upload(d["upload"], data)
    assert seen and seen[-1].get("x-amz-meta-slot") == d["upload"]["fields"]["x-amz-meta-slot"]
    assert {k.lower(): v for k, v in seen[-1].items()}.get("content-type") == "image/jpeg"
