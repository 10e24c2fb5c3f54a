"""Upload slots that never receive their file expire (issue 20): the hourly ``upload-expiry``
job finds them through their expiry-hour index entry (no scan) and marks them ``expired``;
listings (the patient's images and documents, the Bridge inbox, the studies) never show them,
and hide a pending slot as soon as its form has expired, even before the job runs
(docs/adr/0014-upload-integrity-and-expiry.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.db import Item
from chalicelib.core.ids import now
from chalicelib.imaging import expiry, uploads
from chalicelib.imaging import worker as image_worker
from chalicelib.imaging.models import Document, Image, original_key
from functions import upload_expiry
from infra.local.workers import FakeLambdaContext
from tests.integration.bridge.conftest import capture_body, register
from tests.integration.imaging.conftest import image_body, upload
from tests.integration.imaging.helpers import audit_actions
from tests.integration.patients.helpers import create_patient
from tests.unit.imaging.imaging_samples import PDF, photo_jpeg

HOUR = timedelta(hours=1)


def _age(model: Any, pk: str, sk: str, by: timedelta) -> None:
    """Make a slot as old as ``by`` (its creation time and its index entry)."""
    item = model.get(pk, sk)
    item.created_at = item.created_at - by
    uploads.index_slot(item, pk[2:], "IMG" if model is Image else "DOC", item.SK.rsplit("#", 1)[1])
    item.save()


def _age_image(clinic_id: str, patient_id: str, image_id: str, by: timedelta) -> None:
    _age(Image, *Image.key(clinic_id, patient_id, image_id), by)


def _ids(api: Any, token: str, path: str) -> list[str]:
    r = api.get(path, token=token)
    assert r.status == 200, r.body
    return [i.get("image_id") or i.get("document_id") for i in r.json()["data"]["items"]]


def _doc(api: Any, token: str, pid: str) -> dict[str, Any]:
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


@pytest.fixture
def slots(api, clinic, other_clinic, patient, start_upload) -> dict[str, Any]:
    """Clinic A: an old photo slot, an old inbox capture, an old document, a fresh photo slot,
    and an old slot whose file did arrive; clinic B: a fresh slot and an old one."""
    a, b = clinic.admin_token, other_clinic.admin_token
    pid = patient["patient_id"]
    out: dict[str, Any] = {"pid": pid}
    old = timedelta(seconds=uploads.LIFETIME_S) + HOUR
    out["old"] = start_upload("photo", b"x" * 10)["image"]["image_id"]
    _age_image(clinic.clinic_id, pid, out["old"], old)
    out["fresh"] = start_upload("photo", b"x" * 10)["image"]["image_id"]
    key = register(api, a)["api_key"]
    out["capture_body"] = capture_body(b"never sent", filename="nadie.png")
    r = api.post("/bridge/device/captures", out["capture_body"], token=key)
    assert r.status == 201, r.body
    out["capture"], out["key"] = r.json()["data"]["image_id"], key
    _age_image(clinic.clinic_id, "INBOX", out["capture"], old)
    d = _doc(api, a, pid)
    out["doc"] = d["document"]["document_id"]
    _age(Document, *Document.key(clinic.clinic_id, pid, out["doc"]), old)
    arrived = start_upload("photo", b"y" * 10)
    upload(arrived["upload"], b"y" * 10)
    out["arrived"] = arrived["image"]["image_id"]
    _age_image(clinic.clinic_id, pid, out["arrived"], old)
    out["b_pid"] = create_patient(api, b)["patient_id"]
    for name in ("b_fresh", "b_old"):
        r = api.post(f"/patients/{out['b_pid']}/images", image_body("photo", b"z"), token=b)
        assert r.status == 201, r.body
        out[name] = r.json()["data"]["image"]["image_id"]
    _age_image(other_clinic.clinic_id, out["b_pid"], out["b_old"], old)
    return out


def _status(clinic_id: str, patient_id: str, image_id: str) -> str:
    return Image.get(*Image.key(clinic_id, patient_id, image_id), consistent_read=True).status


def test_listings_hide_slots_whose_form_expired_before_the_job_runs(api, clinic, slots):
    a, pid = clinic.admin_token, slots["pid"]
    images = _ids(api, a, f"/patients/{pid}/images")
    assert slots["fresh"] in images and slots["old"] not in images
    assert slots["doc"] not in _ids(api, a, f"/patients/{pid}/documents")
    assert slots["capture"] not in _ids(api, a, "/bridge/inbox")
    # still pending until the job runs
    assert _status(clinic.clinic_id, pid, slots["old"]) == "pending"


def test_the_job_expires_due_slots_only_and_twice_is_harmless(
    api, clinic, other_clinic, worker, slots
):
    # (``worker`` before ``slots``: the arrived upload's event stays unprocessed here)
    a, b, pid = clinic.admin_token, other_clinic.admin_token, slots["pid"]
    result = upload_expiry.handler({"schedule": "upload-expiry"}, FakeLambdaContext("x"))
    assert result["expired"] >= 4  # A's photo, capture and document; B's old slot
    cid = clinic.clinic_id
    assert _status(cid, pid, slots["old"]) == "expired"
    assert _status(cid, "INBOX", slots["capture"]) == "expired"
    assert _status(cid, pid, slots["fresh"]) == "pending"
    assert _status(cid, pid, slots["arrived"]) == "pending"  # its file came: the worker's
    doc = Document.get(*Document.key(cid, pid, slots["doc"]), consistent_read=True)
    assert doc.status == "expired" and doc.GSI1PK is None
    # the other clinic: its due slot expired in its own log, its fresh one untouched
    assert _status(other_clinic.clinic_id, slots["b_pid"], slots["b_old"]) == "expired"
    assert _status(other_clinic.clinic_id, slots["b_pid"], slots["b_fresh"]) == "pending"
    assert "image.expired" in [
        a_["action"] for a_ in audit_actions(api, b, "image", slots["b_old"])
    ]
    assert audit_actions(api, a, "image", slots["b_old"]) == []

    img = api.get(f"/images/{slots['old']}", token=a).json()["data"]
    assert img["status"] == "expired" and "never arrived" in img["reason"]
    assert slots["old"] not in _ids(api, a, f"/patients/{pid}/images")
    assert _ids(api, a, f"/patients/{pid}/images?status=pending") == [slots["fresh"]]
    assert slots["doc"] not in _ids(api, a, f"/patients/{pid}/documents")
    assert slots["capture"] not in _ids(api, a, "/bridge/inbox")
    r = api.post(f"/patients/{pid}/documents/{slots['doc']}/complete", token=a)
    assert r.status == 409 and r.json()["code"] == "UPLOAD_EXPIRED"

    # twice: nothing more, no second audit entry
    assert expiry.expire_due()["expired"] == 0
    acts = [x["action"] for x in audit_actions(api, a, "image", slots["old"])]
    assert acts.count("image.expired") == 1
    # no index entry is left for what expired
    left = {
        i.SK for h in range(-1, 4) for i in Item.gsi1.query(uploads.expiry_bucket(now() + h * HOUR))
    }
    assert not any(slots["old"] in sk for sk in left)


def test_an_expired_captures_bytes_can_be_sent_again(api, clinic, slots):
    expiry.expire_due()
    r = api.post("/bridge/device/captures", slots["capture_body"], token=slots["key"])
    assert r.status == 201, r.body
    d = r.json()["data"]
    assert d["duplicate"] is False and d["image_id"] != slots["capture"]


def test_a_file_for_an_expired_slot_is_removed_by_the_worker(api, clinic, start_upload, worker):
    data = photo_jpeg(200, 100)
    d = start_upload("photo", data)
    iid, pid = d["image"]["image_id"], d["image"]["patient_id"]
    _age_image(clinic.clinic_id, pid, iid, timedelta(seconds=uploads.LIFETIME_S) + HOUR)
    assert expiry.expire_due()["expired"] >= 1
    upload(d["upload"], data)
    msgs = worker.receive()
    assert [image_worker.process(image_worker.parse(m["Body"]), m["MessageId"]) for m in msgs] == [
        "expired"
    ]
    key = original_key(clinic.clinic_id, iid)
    listed = aws.client("s3").list_objects_v2(Bucket=settings().media_bucket, Prefix=key)
    assert "Contents" not in listed
    assert _status(clinic.clinic_id, pid, iid) == "expired"


def test_a_slot_that_left_pending_leaves_the_index(api, clinic, start_upload, uploaded):
    img = uploaded("photo", photo_jpeg(300, 200, orientation=1))
    item = Image.get(*Image.key(clinic.clinic_id, img["patient_id"], img["image_id"]))
    assert img["status"] == "ready" and item.GSI1PK is None and item.GSI1SK is None
    fresh = start_upload("photo", b"x")["image"]
    item = Image.get(*Image.key(clinic.clinic_id, fresh["patient_id"], fresh["image_id"]))
    assert uploads.expiry_bucket(uploads.expires_at(item.created_at)) == item.GSI1PK


def test_each_slot_expires_with_its_own_clinics_credentials(
    clinic, other_clinic, worker, slots, monkeypatch, scoped_as, own_credentials
):
    """ADR 0012: the job reads its hour buckets on the global path and handles each slot in
    the scope of the clinic whose partition holds it."""
    from chalicelib.core import scoping  # noqa: PLC0415

    handled: list[tuple[str | None, str]] = []
    real = expiry._expire

    def spy(ref: Any, at: Any) -> bool:
        handled.append((scoping.current_clinic(), ref.PK[2:]))
        return real(ref, at)

    monkeypatch.setattr(expiry, "_expire", spy)
    scoped_as.clear()
    own_credentials.clear()
    assert expiry.expire_due()["expired"] >= 4
    assert set(own_credentials) <= {"global"}, own_credentials  # its role: the global path
    assert handled and all(scope == owner for scope, owner in handled)
    assert {clinic.clinic_id, other_clinic.clinic_id} <= {owner for _, owner in handled}
    assert set(scoped_as) <= {owner for _, owner in handled}


def test_a_tooth_keeps_only_the_xrays_whose_file_came(api, clinic, patient, start_upload, uploaded):
    """The tooth index (the chart's X-ray badge) drops an X-ray whose upload expired and one
    whose file failed to render; a good one stays."""
    from chalicelib.charting.service import xray_teeth
    from tests.unit.imaging.imaging_samples import xray_png16

    cid, pid = clinic.clinic_id, patient["patient_id"]
    never = start_upload("xray", b"x" * 10, teeth=[36])["image"]["image_id"]
    assert xray_teeth(cid, pid) == [36]  # coming: the badge may show it
    # the job runs after the form expired (the slot is not aged: its index date must not move)
    later = now() + timedelta(seconds=uploads.LIFETIME_S) + HOUR
    assert expiry.expire_due(at=later)["expired"] >= 1  # with other tests' slots in the table
    assert _status(cid, pid, never) == "expired"
    assert xray_teeth(cid, pid) == []
    broken = uploaded("xray", b"not a png at all", teeth=[46])
    assert broken["status"] == "failed"
    assert xray_teeth(cid, pid) == []
    good = uploaded("xray", xray_png16(400, 300), teeth=[11])
    assert good["status"] == "ready"
    assert xray_teeth(cid, pid) == [11]
