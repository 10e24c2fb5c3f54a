"""The inbox of unassigned captures: assigning moves the capture and the rest of its DICOM
study to the patient in one action (409 while still uploading or processing, 404 for a
patient of another clinic), the patient's studies with their series, discarding, the
``capture.assigned`` event, and isolation between clinics (staff and devices)."""

from __future__ import annotations

import hashlib
from typing import Any

from pydicom.uid import generate_uid

from tests.integration.bridge.conftest import register, upload
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient
from tests.unit.imaging.imaging_samples import gradient16, native_dicom, xray_png16


def dcm(n: int) -> bytes:
    return native_dicom(gradient16(16 + n, 24, 12))


def study_hints(study: str, series: str, n: int, series_number: int = 1) -> dict[str, Any]:
    return {
        "study_instance_uid": study,
        "series_instance_uid": series,
        "sop_instance_uid": generate_uid(),
        "series_number": series_number,
        "instance_number": n,
        "modality": "PX",
    }


def test_assign_moves_the_whole_study_in_one_action(api, clinic, capture, lucia, worker, published):
    t = clinic.admin_token
    study, s1, s2 = generate_uid(), generate_uid(), generate_uid()
    ids = []
    for n, (series, number) in enumerate([(s1, 1), (s1, 1), (s2, 2)]):
        png = dcm(n)
        d = capture(
            png,
            filename=f"f{n}.dcm",
            content_type="application/dicom",
            dicom=study_hints(study, series, 3 - n, number),
        )
        d = d.json()["data"]
        upload(d["upload"], png)
        ids.append(d["image_id"])
    stray = xray_png16(20, 20)
    other = capture(stray, filename="other.png").json()["data"]  # another capture, no study
    upload(other["upload"], stray)
    assert worker.drain_all() >= 4
    inbox = api.get("/bridge/inbox", token=t).json()["data"]["items"]
    assert {i["image_id"] for i in inbox} == {*ids, other["image_id"]}
    assert {i["study_uid"] for i in inbox if i["image_id"] in ids} == {study}

    r = api.post(f"/bridge/inbox/{ids[1]}/assign", {"patient_id": lucia["patient_id"]}, token=t)
    assert r.status == 200, r.body
    out = r.json()["data"]
    assert out["image_id"] == ids[1] and out["patient_id"] == lucia["patient_id"]
    assert out["inbox"] is False and out["study_uid"] == study
    inbox = api.get("/bridge/inbox", token=t).json()["data"]["items"]
    assert [i["image_id"] for i in inbox] == [other["image_id"]]  # the study left together
    imgs = api.get(f"/patients/{lucia['patient_id']}/images", token=t).json()["data"]["items"]
    assert {i["image_id"] for i in imgs} == set(ids)
    for iid in ids:  # every way of reading it agrees
        g = api.get(f"/images/{iid}", token=t).json()["data"]
        assert g["patient_id"] == lucia["patient_id"] and g["status"] == "ready"
        assert api.get(f"/patients/{lucia['patient_id']}/images/{iid}", token=t).status == 200
    [ev] = [p for n, p in published if n == "capture.assigned"]
    assert ev["patient_id"] == lucia["patient_id"] and ev["count"] == 3
    assert ev["study_uid"] == study and ev["image_id"] == ids[1]

    studies = api.get(f"/patients/{lucia['patient_id']}/studies", token=t).json()["data"]
    assert len(studies) == 1
    s = studies[0]
    assert s["study_uid"] == study and s["image_count"] == 3
    assert [x["series_uid"] for x in s["series"]] == [s1, s2]
    assert s["series"][0]["image_ids"] == [ids[1], ids[0]]  # by instance number
    assert s["series"][1]["image_ids"] == [ids[2]]
    # audited per image
    r = api.get(f"/audit?entity_type=image&entity_id={ids[0]}", token=t)
    assert "capture.assigned" in {e["action"] for e in r.json()["data"]["items"]}
    # it is not in the inbox any more
    r = api.post(f"/bridge/inbox/{ids[0]}/assign", {"patient_id": lucia["patient_id"]}, token=t)
    assert r.status == 404


def test_assign_is_409_while_pending_or_processing(api, clinic, capture, lucia, worker):
    t = clinic.admin_token
    study = generate_uid()
    png = dcm(0)
    kw = {"filename": "s.dcm", "content_type": "application/dicom"}
    done = capture(png, dicom=study_hints(study, generate_uid(), 1), **kw).json()["data"]
    upload(done["upload"], png)
    assert worker.drain_all() >= 1
    later = dcm(1)
    waiting = capture(later, dicom=study_hints(study, generate_uid(), 2), **kw).json()["data"]
    for iid in (done["image_id"], waiting["image_id"]):
        r = api.post(f"/bridge/inbox/{iid}/assign", {"patient_id": lucia["patient_id"]}, token=t)
        assert r.status == 409, r.body
        assert r.json()["code"] == "CAPTURE_NOT_READY"
        assert r.json()["data"]["image_ids"] == [waiting["image_id"]]
    # discarding the one that never arrives lets the rest be assigned
    assert api.delete(f"/bridge/inbox/{waiting['image_id']}", token=t).status == 204
    r = api.post(
        f"/bridge/inbox/{done['image_id']}/assign", {"patient_id": lucia["patient_id"]}, token=t
    )
    assert r.status == 200, r.body


def test_assign_to_a_patient_of_another_clinic_is_404(api, clinic, other_clinic, capture, worker):
    png = xray_png16(30, 31)
    d = capture(png).json()["data"]
    upload(d["upload"], png)
    assert worker.drain_all() >= 1
    theirs = create_patient(api, other_clinic.admin_token)
    r = api.post(
        f"/bridge/inbox/{d['image_id']}/assign",
        {"patient_id": theirs["patient_id"]},
        token=clinic.admin_token,
    )
    assert r.status == 404 and r.json()["code"] == "PATIENT_NOT_FOUND"
    r = api.post(f"/bridge/inbox/{d['image_id']}/assign", {}, token=clinic.admin_token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "patient_id"
    items = api.get("/bridge/inbox", token=clinic.admin_token).json()["data"]["items"]
    assert [i["image_id"] for i in items] == [d["image_id"]]  # still waiting


def test_discard_is_a_soft_delete_audited_and_frees_the_bytes(api, clinic, capture):
    t = clinic.admin_token
    png = b"\x89PNG-discard-me"
    d = capture(png).json()["data"]
    assert api.delete(f"/bridge/inbox/{d['image_id']}", token=t).status == 204
    assert api.get("/bridge/inbox", token=t).json()["data"]["items"] == []
    assert api.delete(f"/bridge/inbox/{d['image_id']}", token=t).status == 404
    r = api.get(f"/audit?entity_type=image&entity_id={d['image_id']}", token=t)
    assert "capture.discarded" in {e["action"] for e in r.json()["data"]["items"]}
    r = capture(png)  # the same file, dropped again on purpose, is a new capture
    assert r.status == 201 and r.json()["data"]["image_id"] != d["image_id"]


def test_inbox_permissions(api, clinic, capture, lucia):
    d = capture(b"\x89PNG-perm").json()["data"]
    receptionist = add_member(api, clinic, "receptionist")  # no imaging.images.read
    assistant = add_member(api, clinic, "assistant")
    r = api.get("/bridge/inbox", token=receptionist["token"])
    assert r.status == 403 and r.json()["data"]["permission"] == "imaging.images.read"
    assert api.get("/bridge/inbox", token=assistant["token"]).status == 200
    r = api.delete(f"/bridge/inbox/{d['image_id']}", token=receptionist["token"])
    assert r.status == 403 and r.json()["data"]["permission"] == "imaging.xrays.write"


def test_clinics_are_isolated(api, clinic, other_clinic, device, capture, lucia, worker):
    """Staff of B on A's devices and inbox, and a valid key of B on A's captures."""
    a, b = clinic.admin_token, other_clinic.admin_token
    png = xray_png16(33, 33)
    d = capture(png).json()["data"]
    upload(d["upload"], png)
    assert worker.drain_all() >= 1
    iid, did = d["image_id"], device["device"]["device_id"]
    theirs = register(api, b, name="B's sensor")
    b_patient = create_patient(api, b)
    for method, path, body in (
        ("GET", f"/bridge/devices/{did}", None),
        ("PATCH", f"/bridge/devices/{did}", {"name": "taken"}),
        ("POST", f"/bridge/devices/{did}/rotate", {"grace_hours": 0}),
        ("POST", f"/bridge/devices/{did}/revoke", None),
        ("POST", f"/bridge/inbox/{iid}/assign", {"patient_id": b_patient["patient_id"]}),
        ("DELETE", f"/bridge/inbox/{iid}", None),
        ("GET", f"/patients/{lucia['patient_id']}/studies", None),
    ):
        r = api.request(method, path, body, token=b)
        assert r.status == 404, (method, path, r.status, r.body[:200])
    assert [x["device_id"] for x in api.get("/bridge/devices", token=b).json()["data"]] == [
        theirs["device"]["device_id"]
    ]
    assert api.get("/bridge/inbox", token=b).json()["data"]["items"] == []
    # B's key on A's capture ids
    key = theirs["api_key"]
    assert api.get(f"/bridge/device/captures/{iid}", token=key).status == 404
    r = api.post(f"/bridge/device/captures/{iid}/uploaded", {"ok": False}, token=key)
    assert r.status == 404
    # B's key with A's patient id: not one of B's patients
    r = api.post(
        "/bridge/device/captures",
        {
            "filename": "x.png",
            "size": 9,
            "sha256": "0" * 64,
            "content_type": "image/png",
            "patient_id": lucia["patient_id"],
        },
        token=key,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "patient_id"
    # B's key sending A's bytes is not a duplicate of A's capture: B never had them
    r = api.post(
        "/bridge/device/captures",
        {
            "filename": "x.png",
            "size": len(png),
            "sha256": hashlib.sha256(png).hexdigest(),
            "content_type": "image/png",
        },
        token=key,
    )
    assert r.status == 201 and r.json()["data"]["image_id"] != iid
    # A is untouched
    dev = api.get(f"/bridge/devices/{did}", token=a).json()["data"]
    assert dev["name"] == "Sensor gabinete 1" and dev["status"] == "active"
    [item] = api.get("/bridge/inbox", token=a).json()["data"]["items"]
    assert item["image_id"] == iid and item["status"] == "ready"
    r = api.get(f"/audit?entity_type=image&entity_id={iid}", token=a)
    assert {e["actor_id"] for e in r.json()["data"]["items"]} <= {did, "image-worker"}
