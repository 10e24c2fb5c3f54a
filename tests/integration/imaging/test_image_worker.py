"""The image worker end to end: presigned upload to S3, S3 -> EventBridge -> SQS delivery,
renditions beside the original, the record, the event, the audit entry, failures and
duplicate deliveries."""

from __future__ import annotations

import io
import json
import time

import pytest
from botocore.exceptions import ClientError
from PIL import Image
from pydicom.uid import JPEG2000Lossless, RLELossless

from chalicelib.core import aws, storage
from chalicelib.core.config import settings
from chalicelib.imaging import worker as image_worker
from chalicelib.imaging.contracts import RENDER_ERROR_CODES
from chalicelib.imaging.models import Image as ImageItem
from functions import image_worker as handler_module
from infra.local.workers import FakeLambdaContext, sqs_event
from tests.integration.imaging.conftest import upload
from tests.integration.imaging.helpers import (
    audit_actions,
    bus_events,
    fetch,
    pixels,
    run_timeline_consumer,
)
from tests.integration.patients.helpers import create_patient
from tests.unit.imaging.conftest import assert_no_metadata
from tests.unit.imaging.imaging_samples import (
    HEIC_PHOTO,
    PATIENT_ID,
    PDF,
    bomb_png,
    compressed_dicom,
    gradient16,
    native_dicom,
    photo_jpeg,
    xray_png16,
)

MB = 1024 * 1024


def _pid(patient):
    return patient["patient_id"]


def test_photo_is_rendered_without_metadata_and_ready(uploaded, api, clinic, patient):
    data = photo_jpeg(1600, 1000, orientation=6)
    img = uploaded("photo", data, category="intraoral_frontal", teeth=[11, 21])
    assert img["status"] == "ready", img
    assert img["reason"] is None
    # EXIF orientation 6: the 1600x1000 sensor image is portrait once rotated.
    assert (img["width"], img["height"]) == (1000, 1600)
    assert img["acquired_at"] == "2023-05-17"  # EXIF DateTimeOriginal
    assert img["content_type"] == "image/jpeg"
    assert img["original_bytes"] == len(data)
    assert img["hot_bytes"] > 0 and img["compression_ratio"] > 0
    assert set(img["urls"]) == {"thumb", "preview", "full", "original"}

    thumb = fetch(img["urls"]["thumb"]["url"])
    assert thumb.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in thumb.headers["Cache-Control"]
    assert len(thumb.content) <= 50 * 1024
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 200
    preview = fetch(img["urls"]["preview"]["url"]).content
    assert len(preview) <= 200 * 1024
    assert max(Image.open(io.BytesIO(preview)).size) <= 800
    full = fetch(img["urls"]["full"]["url"])
    assert img["urls"]["full"]["width"] == 1000
    for rendition in (thumb.content, preview, full.content):
        assert_no_metadata(rendition, b"Lucia Perez", b"Dr Secret", b"Cuspide Camera")
    original = fetch(img["urls"]["original"]["url"])
    assert original.content == data  # untouched
    assert "attachment" in original.headers["Content-Disposition"]

    events = [e for e in bus_events("image.processed") if e["image_id"] == img["image_id"]]
    assert len(events) == 1
    ev = events[0]
    assert ev["patient_id"] == _pid(patient) and ev["kind"] == "photo"
    assert ev["clinic_id"] == clinic.clinic_id and ev["actor"]["type"] == "system"

    actions = [
        a["action"] for a in audit_actions(api, clinic.admin_token, "image", img["image_id"])
    ]
    assert "image.upload_requested" in actions and "image.processed" in actions


def test_renditions_are_written_beside_the_original(start_upload, worker, clinic):
    data = photo_jpeg(900, 600, orientation=1)
    d = start_upload("photo", data)
    upload(d["upload"], data)
    worker.drain_all()
    prefix = f"clinics/{clinic.clinic_id}/uploads/{d['image']['image_id']}/"
    listed = aws.client("s3").list_objects_v2(Bucket=settings().media_bucket, Prefix=prefix)
    names = sorted(o["Key"].removeprefix(prefix) for o in listed["Contents"])
    assert names == ["full.jpg", "original", "preview.jpg", "thumb.jpg"]
    head = aws.client("s3").head_object(Bucket=settings().media_bucket, Key=prefix + "thumb.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == storage.IMMUTABLE


def test_16_bit_xray_is_windowed_not_clipped(uploaded):
    img = uploaded("xray", xray_png16(1200, 600, bits=12), xray_type="panoramic", teeth=[36])
    assert img["status"] == "ready", img
    assert img["urls"]["full"]["content_type"] == "image/jpeg"  # the default X-ray full format
    full = pixels(fetch(img["urls"]["full"]["url"]).content)
    assert (full == 255).mean() < 0.1  # a plain mode conversion would be nearly all white
    assert full.std() > 40  # the gradient survives


def test_clinic_setting_makes_xray_full_lossless_png(uploaded, api, clinic):
    r = api.put("/imaging/settings", {"xray_full_format": "png"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    data = xray_png16(800, 400)
    img = uploaded("xray", data)
    full = fetch(img["urls"]["full"]["url"])
    assert full.headers["Content-Type"] == "image/png"
    assert img["urls"]["full"]["content_type"] == "image/png"
    # lossless: exactly the windowed pixels the CLI/render pipeline produces
    from chalicelib.imaging.render import RenderOptions, render

    expected = render(data, "xray", RenderOptions(xray_full_format="png")).renditions["full"]
    assert pixels(full.content).tolist() == pixels(expected.data).tolist()


def test_heic_photo_from_a_phone(uploaded):
    img = uploaded("photo", HEIC_PHOTO, content_type="image/heic", filename="IMG_0042.HEIC")
    assert img["status"] == "ready", img
    assert img["content_type"] == "image/heic"
    assert (img["width"], img["height"]) == (64, 96)  # turned once, by the container's irot
    assert img["acquired_at"] == "2023-05-17"
    for name in ("thumb", "preview", "full"):
        data = fetch(img["urls"][name]["url"]).content
        assert_no_metadata(data, b"Cuspide Camera", b"Dr Secret")


@pytest.mark.parametrize("syntax", [None, RLELossless, JPEG2000Lossless], ids=str)
def test_dicom_in_several_transfer_syntaxes(uploaded, syntax):
    arr = gradient16(400, 600, 12)
    data = native_dicom(arr) if syntax is None else compressed_dicom(arr, syntax)
    img = uploaded("dicom", data)
    assert img["status"] == "ready", img
    assert img["acquired_at"] == "2024-01-31"  # StudyDate
    dicom = img["dicom"]
    assert dicom["rows"] == 400 and dicom["columns"] == 600 and dicom["bits_stored"] == 12
    assert dicom["modality"] == "PX" and dicom["study_date"] == "2024-01-31"
    assert dicom["patient_name"] == "Pérez^Lucía" and dicom["patient_id"] == PATIENT_ID
    assert img["xray_type"] == "panoramic"  # PX -> panoramic hint
    assert img["patient_mismatch"] is False  # the fixture patient is Lucía Pérez Gómez
    full = pixels(fetch(img["urls"]["full"]["url"]).content)
    assert (full == 255).mean() < 0.1
    # hot bytes of an X-ray study: at most a tenth of the DICOM (for this smooth gradient)
    if syntax is None:
        assert img["hot_bytes"] * 10 <= img["original_bytes"]


def test_dicom_of_another_patient_is_flagged(api, clinic, worker):
    other = create_patient(api, clinic.admin_token, first_name="Juan", last_name="Martín")
    data = native_dicom(gradient16(200, 300, 12))
    r = api.post(
        f"/patients/{other['patient_id']}/images",
        {
            "kind": "dicom",
            "filename": "x.dcm",
            "content_type": "application/dicom",
            "size": len(data),
        },
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    d = r.json()["data"]
    upload(d["upload"], data)
    worker.drain_all()
    r = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token)
    img = r.json()["data"]
    assert img["status"] == "ready"
    assert img["patient_mismatch"] is True
    assert img["patient_mismatch_fields"] == ["name"]


@pytest.mark.parametrize(
    ("kind", "make", "reason"),
    [
        ("photo", lambda: photo_jpeg(800, 600)[:3000], "truncated|corrupt"),
        ("photo", lambda: b"\xff\xd8\xff\xe0" + b"\0" * 500, "corrupt|truncated|could not"),
        ("photo", lambda: PDF, "PDF"),
        ("photo", lambda: bomb_png(), "too large|bomb"),
        ("dicom", lambda: photo_jpeg(400, 300), "DICOM"),
        ("photo", lambda: native_dicom(gradient16(64, 64, 12)), "DICOM"),
    ],
    ids=[
        "truncated-jpeg",
        "corrupt-jpeg",
        "pdf-as-photo",
        "bomb",
        "jpeg-as-dicom",
        "dicom-as-photo",
    ],
)
def test_bad_files_fail_with_a_reason_and_are_not_retried(
    start_upload, worker, api, clinic, patient, kind, make, reason
):
    import re

    data = make()
    d = start_upload(kind, data)
    upload(d["upload"], data)
    assert worker.drain_all() == 1
    r = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token)
    img = r.json()["data"]
    assert img["status"] == "failed"
    assert re.search(reason, img["reason"], re.I), img["reason"]
    # Stored with its kind of problem and its Spanish wording, for a client to show it in
    # its user's language (RenderError.code / reason_es).
    item = ImageItem.get(*ImageItem.key(clinic.clinic_id, _pid(patient), img["image_id"]))
    assert item.reason_code in RENDER_ERROR_CODES and item.reason_es, item.reason
    assert item.reason_es != item.reason
    # ... and the API returns both, so the app shows the reason in its user's language.
    assert (img["reason_code"], img["reason_es"]) == (item.reason_code, item.reason_es)
    assert "thumb" not in img["urls"]
    assert "original" in img["urls"]  # staff can download what was uploaded
    # ... as opaque bytes: the client's declared type was never verified
    assert fetch(img["urls"]["original"]["url"]).headers["Content-Type"] == (
        "application/octet-stream"
    )
    assert worker.backlog() == 0  # consumed: no retry loop
    prefix = f"clinics/{clinic.clinic_id}/uploads/{img['image_id']}/"
    listed = aws.client("s3").list_objects_v2(Bucket=settings().media_bucket, Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == [prefix + "original"]  # nothing half-made
    assert "image.failed" in [
        a["action"] for a in audit_actions(api, clinic.admin_token, "image", img["image_id"])
    ]


def test_oversized_upload_fails_without_download(start_upload, worker, api, clinic, monkeypatch):
    # moto ignores the presigned POST's content-length-range; the worker checks the size.
    r = api.put(
        "/imaging/settings",
        {"xray_full_format": "png", "max_photo_mb": 1},
        token=clinic.admin_token,
    )
    assert r.status == 200
    data = photo_jpeg(400, 300)
    big = data + b"\0" * (MB + 10)
    d = start_upload("photo", data)
    upload(d["upload"], big)

    def no_read(*_a, **_k):
        raise AssertionError("an oversized original must not be downloaded")

    monkeypatch.setattr(storage, "read", no_read)
    worker.drain_all()
    img = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "failed" and "too large" in img["reason"]


def _message(worker, data, start_upload):
    d = start_upload("photo", data)
    upload(d["upload"], data)
    msgs = worker.receive()
    assert len(msgs) == 1
    return d, msgs[0]


def _run(messages):
    event = sqs_event(messages, "arn:aws:sqs:local:000000000000:q", settings().region)
    return handler_module.handler(event, FakeLambdaContext("image-worker"))


def test_duplicate_delivery_is_processed_once(start_upload, worker, api, clinic, monkeypatch):
    data = photo_jpeg(800, 600, orientation=1)
    d, msg = _message(worker, data, start_upload)
    image_id = d["image"]["image_id"]
    renders = []
    real = image_worker.render
    monkeypatch.setattr(image_worker, "render", lambda *a, **k: renders.append(1) or real(*a, **k))
    twin = dict(msg, MessageId="another-delivery-of-the-same-upload")
    assert _run([msg, twin]) == {"batchItemFailures": []}
    assert _run([dict(msg, MessageId="a-third-one")]) == {"batchItemFailures": []}
    assert len(renders) == 1
    img = api.get(f"/images/{image_id}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "ready"
    acts = [a["action"] for a in audit_actions(api, clinic.admin_token, "image", image_id)]
    assert acts.count("image.processed") == 1
    assert len([e for e in bus_events("image.processed") if e["image_id"] == image_id]) == 1
    aws.client("sqs").delete_message(QueueUrl=worker.pump.url, ReceiptHandle=msg["ReceiptHandle"])


def test_a_live_claim_drops_other_deliveries_but_not_its_own_retry(start_upload, worker, clinic):
    data = photo_jpeg(600, 400, orientation=1)
    d, msg = _message(worker, data, start_upload)
    item = ImageItem.get(
        *ImageItem.key(clinic.clinic_id, d["image"]["patient_id"], d["image"]["image_id"])
    )
    item.update(
        actions=[
            ImageItem.status.set("processing"),
            ImageItem.lease_owner.set("worker-a"),
            ImageItem.lease_until.set(int(time.time()) + 100),
        ]
    )
    upload_ = image_worker.parse(msg["Body"])
    assert image_worker.process(upload_, "worker-b") == "duplicate"  # A is still on it
    assert image_worker.process(upload_, "worker-a") == "ready"  # A's own retry resumes
    # an expired claim (a worker that died) is taken over
    d2, msg2 = _message(worker, data, start_upload)
    item2 = ImageItem.get(
        *ImageItem.key(clinic.clinic_id, d2["image"]["patient_id"], d2["image"]["image_id"])
    )
    item2.update(
        actions=[
            ImageItem.status.set("processing"),
            ImageItem.lease_owner.set("dead-worker"),
            ImageItem.lease_until.set(int(time.time()) - 1),
        ]
    )
    assert image_worker.process(image_worker.parse(msg2["Body"]), "worker-c") == "ready"


def test_transient_errors_are_retried_then_succeed(start_upload, worker, api, clinic, monkeypatch):
    data = photo_jpeg(600, 400, orientation=1)
    d, msg = _message(worker, data, start_upload)
    real_read = storage.read

    def throttled(*_a, **_k):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "GetObject")

    monkeypatch.setattr(storage, "read", throttled)
    assert _run([msg]) == {"batchItemFailures": [{"itemIdentifier": msg["MessageId"]}]}
    img = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "pending"  # the claim was handed back for the retry
    monkeypatch.setattr(storage, "read", real_read)
    assert _run([msg]) == {"batchItemFailures": []}  # the same message, redelivered
    img = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "ready"


def _abandoned(key, owner: str, interrupted: int | None = None) -> None:
    """The record as an attempt leaves it when it dies (out of memory, Lambda timeout)."""
    actions = [
        ImageItem.status.set("processing"),
        ImageItem.lease_owner.set(owner),
        ImageItem.lease_until.set(int(time.time()) - 1),
    ]
    if interrupted is not None:
        actions.append(ImageItem.interrupted.set(interrupted))
    ImageItem.get(*key).update(actions=actions)


def test_a_file_that_keeps_killing_the_worker_ends_failed(
    start_upload, worker, api, clinic, monkeypatch
):
    renders = []
    real = image_worker.render
    monkeypatch.setattr(image_worker, "render", lambda *a, **k: renders.append(1) or real(*a, **k))
    data = photo_jpeg(600, 400, orientation=1)

    # One interrupted attempt: the next one takes over and finishes.
    d, msg = _message(worker, data, start_upload)
    key = ImageItem.key(clinic.clinic_id, d["image"]["patient_id"], d["image"]["image_id"])
    _abandoned(key, "died-once")
    assert image_worker.process(image_worker.parse(msg["Body"]), "second") == "ready"
    assert ImageItem.get(*key).interrupted == 1 and renders == [1]

    # Three interrupted attempts: the fourth fails the image without rendering again.
    d, msg2 = _message(worker, data, start_upload)
    key = ImageItem.key(clinic.clinic_id, d["image"]["patient_id"], d["image"]["image_id"])
    _abandoned(key, "died-thrice", interrupted=image_worker.MAX_INTERRUPTED)
    assert image_worker.process(image_worker.parse(msg2["Body"]), "fourth") == "failed"
    assert renders == [1]
    img = api.get(f"/images/{d['image']['image_id']}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "failed"
    assert "interrupted 3 times" in img["reason"] and "upload it again" in img["reason"]
    acts = [a["action"] for a in audit_actions(api, clinic.admin_token, "image", img["image_id"])]
    assert "image.failed" in acts
    for m in (msg, msg2):
        aws.client("sqs").delete_message(QueueUrl=worker.pump.url, ReceiptHandle=m["ReceiptHandle"])


def test_the_key_names_the_only_tenant_the_worker_touches(
    start_upload, worker, api, clinic, other_clinic
):
    data = photo_jpeg(400, 300, orientation=1)
    d = start_upload("photo", data)
    image_id = d["image"]["image_id"]
    s3 = aws.client("s3")
    bucket = settings().media_bucket
    # Clinic B's prefix with clinic A's image id: looked up under B only -> ignored.
    s3.put_object(
        Bucket=bucket,
        Key=f"clinics/{other_clinic.clinic_id}/uploads/{image_id}/original",
        Body=data,
    )
    # Keys of the wrong shape that still end in /original.
    s3.put_object(Bucket=bucket, Key=f"clinics/{clinic.clinic_id}/x/{image_id}/original", Body=data)
    s3.put_object(Bucket=bucket, Key=f"clinics/{clinic.clinic_id}/uploads/../original", Body=data)
    assert worker.drain_all() >= 3
    assert worker.backlog() == 0
    img = api.get(f"/images/{image_id}", token=clinic.admin_token).json()["data"]
    assert img["status"] == "pending"
    prefix = f"clinics/{other_clinic.clinic_id}/uploads/{image_id}/"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert [o["Key"] for o in listed] == [prefix + "original"]  # no renditions written


def test_deleted_before_processing_is_skipped(start_upload, worker, api, clinic, patient):
    data = photo_jpeg(400, 300, orientation=1)
    d = start_upload("photo", data)
    r = api.delete(
        f"/patients/{_pid(patient)}/images/{d['image']['image_id']}", token=clinic.admin_token
    )
    assert r.status == 204
    upload(d["upload"], data)
    worker.drain_all()
    item = ImageItem.get(*ImageItem.key(clinic.clinic_id, _pid(patient), d["image"]["image_id"]))
    assert item.status == "pending" and item.deleted


def test_handler_ignores_foreign_messages(worker):
    body = json.dumps(
        {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {
                "bucket": {"name": "someone-elses"},
                "object": {"key": "clinics/A/uploads/B/original"},
            },
        }
    )
    msg = {"MessageId": "m1", "ReceiptHandle": "r", "Body": body}
    assert _run([msg]) == {"batchItemFailures": []}


def test_processed_image_and_uploaded_document_reach_the_patient_timeline(
    uploaded, api, clinic, patient
):
    run_timeline_consumer()  # whatever earlier tests left
    img = uploaded("xray", xray_png16(400, 200), xray_type="periapical", teeth=[11])
    t, pid = clinic.admin_token, patient["patient_id"]
    r = api.post(
        f"/patients/{pid}/documents",
        {
            "type": "referral",
            "title": "Derivación",
            "filename": "derivacion.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        },
        token=t,
    )
    doc = r.json()["data"]
    upload(doc["upload"], PDF)
    did = doc["document"]["document_id"]
    assert api.post(f"/patients/{pid}/documents/{did}/complete", token=t).status == 200
    assert run_timeline_consumer() >= 2
    r = api.get(f"/patients/{pid}/timeline", token=t)
    assert r.status == 200, r.body
    entries = {e["type"]: e for e in r.json()["data"]["items"]}
    processed = entries["image.processed"]
    assert processed["data"]["image_id"] == img["image_id"]
    assert processed["data"]["kind"] == "xray" and processed["data"]["teeth"] == [11]
    assert processed["actor"]["type"] == "system"
    uploaded_doc = entries["document.uploaded"]
    assert uploaded_doc["data"]["document_id"] == did
    assert uploaded_doc["data"]["type"] == "referral"


def test_the_worker_runs_with_the_credentials_of_the_keys_clinic(
    start_upload, worker, clinic, scoped_as, own_credentials
):
    """ADR 0012: every DynamoDB and S3 call of the worker is signed by the clinic named in the
    object key (the credentials asked for are that clinic's, and no other's)."""
    data = photo_jpeg(600, 400, orientation=1)
    d, msg = _message(worker, data, start_upload)
    scoped_as.clear()
    own_credentials.clear()
    assert _run([msg]) == {"batchItemFailures": []}
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
    # nothing on the function's own role but the global path (its role is narrowed to it)
    assert set(own_credentials) <= {"global"}, own_credentials
    item = ImageItem.get(
        *ImageItem.key(clinic.clinic_id, d["image"]["patient_id"], d["image"]["image_id"])
    )
    assert item.status == "ready"
    aws.client("sqs").delete_message(QueueUrl=worker.pump.url, ReceiptHandle=msg["ReceiptHandle"])
