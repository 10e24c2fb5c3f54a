"""Captures through the device API: patient matching in the contract's order (explicit,
appointment in progress in the device's cabinet, DICOM hints, file name, else the inbox with
the reason), dedupe by SHA-256 with resume of a pending upload, the outcome report, the
status a device may read, the ``capture.received`` event, and bad input as clear 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bridge import captures
from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.bridge.conftest import capture_body, register, sha
from tests.integration.patients.helpers import create_patient
from tests.unit.imaging.imaging_samples import gradient16, native_dicom, xray_png16

PNG = b"\x89PNG\r\n\x1a\n-not-really-a-png-"


def data(n: int) -> bytes:
    return PNG + str(n).encode() * 8


def test_explicit_patient_id(capture, lucia, published):
    r = capture(data(1), patient_id=lucia["patient_id"])
    assert r.status == 201, r.body
    d = r.json()["data"]
    assert d["status"] == "pending" and d["duplicate"] is False
    assert d["match"] == {"patient_id": lucia["patient_id"], "by": "explicit", "reason": None}
    up = d["upload"]
    assert up["url"] and up["fields"]["Content-Type"] == "image/png" and up["expires_at"]
    received = [p for n, p in published if n == "capture.received"]
    assert len(received) == 1
    ev = received[0]
    assert ev["image_id"] == d["image_id"] and ev["patient_id"] == lucia["patient_id"]
    assert ev["inbox"] is False and ev["kind"] == "xray" and ev["actor"]["type"] == "device"
    assert "Lucía" not in str(ev) and "captura" not in str(ev)  # no PHI, no file name


def test_explicit_patient_of_another_clinic_is_422(api, capture, other_clinic):
    theirs = create_patient(api, other_clinic.admin_token)
    r = capture(data(2), patient_id=theirs["patient_id"])
    assert r.status == 422 and r.json()["errors"][0]["field"] == "patient_id"
    r = capture(data(2), patient_id="01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert r.status == 422 and r.json()["errors"][0]["field"] == "patient_id"


@pytest.mark.parametrize("number", ["12345678Z", "12.345.678-z"])
def test_patient_number_is_a_national_id(capture, lucia, number):
    d = capture(data(3), patient_number=number).json()["data"]
    assert d["match"] == {"patient_id": lucia["patient_id"], "by": "explicit", "reason": None}


def test_patient_number_is_a_patient_id(capture, lucia):
    d = capture(data(4), patient_number=lucia["patient_id"].lower()).json()["data"]
    assert d["match"]["patient_id"] == lucia["patient_id"]


def test_the_appointment_in_progress_in_the_device_cabinet(api, clinic, lucia, monkeypatch):
    ag = make_agenda(api, clinic)
    appt = booked(api, ag, at(ag.monday, "10:00"), 30)
    t = clinic.admin_token
    for status in ("checked_in", "in_progress"):
        r = api.post(f"/appointments/{appt['appointment_id']}/status", {"status": status}, token=t)
        assert r.status == 200, r.body
    dev = register(api, t, cabinet_id=ag.cab1)
    other_cab = register(api, t, name="Gabinete 2", cabinet_id=ag.cab2)
    start = datetime.fromisoformat(appt["start"]).astimezone(UTC)
    monkeypatch.setattr(captures, "now", lambda: start + timedelta(minutes=10))
    # the file name says Lucía; the appointment in progress comes first
    body = capture_body(data(5), filename="PEREZ_LUCIA_19850312.png")
    d = api.post("/bridge/device/captures", body, token=dev["api_key"]).json()["data"]
    assert d["match"] == {"patient_id": ag.patient_id, "by": "appointment", "reason": None}
    # another cabinet has no appointment in progress: the file name decides
    d = api.post(
        "/bridge/device/captures",
        capture_body(data(6), filename="PEREZ_LUCIA_19850312.png"),
        token=other_cab["api_key"],
    ).json()["data"]
    assert d["match"] == {"patient_id": lucia["patient_id"], "by": "filename", "reason": None}
    # hours later the appointment is no longer "now"
    monkeypatch.setattr(captures, "now", lambda: start + timedelta(hours=8))
    d = api.post("/bridge/device/captures", capture_body(data(7)), token=dev["api_key"]).json()[
        "data"
    ]
    assert d["match"]["reason"] == "no_match"


def test_a_cabinet_of_another_clinic_is_refused(api, clinic, other_clinic):
    ag = make_agenda(api, other_clinic)
    r = api.post(
        "/bridge/devices",
        {"name": "x", "cabinet_id": ag.cab1, "defaults": {"kind": "xray"}},
        token=clinic.admin_token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "cabinet_id"


def test_dicom_patient_id_and_name_with_birth_date(capture, lucia):
    hints = {"patient_id": "12345678Z", "study_instance_uid": "1.2.3"}
    d = capture(data(8), filename="a.dcm", content_type="application/dicom", dicom=hints)
    assert d.status == 201, d.body
    m = d.json()["data"]["match"]
    assert m == {"patient_id": lucia["patient_id"], "by": "dicom", "reason": None}
    hints = {"patient_id": "HC-1", "patient_name": "PEREZ GOMEZ^LUCIA", "birth_date": "19850312"}
    d = capture(data(9), filename="b.dcm", content_type="application/dicom", dicom=hints)
    assert d.json()["data"]["match"]["by"] == "dicom"
    # the right name with another birth date is nobody
    hints = {"patient_name": "PEREZ^LUCIA", "birth_date": "19850313"}
    d = capture(data(10), filename="c.dcm", content_type="application/dicom", dicom=hints)
    assert d.json()["data"]["match"] == {"patient_id": None, "by": None, "reason": "no_match"}


@pytest.mark.parametrize(
    ("n", "filename"),
    [
        (20, "PEREZ_LUCIA_19850312_001.png"),
        (21, "Lucia Perez 12-03-1985.png"),
        (22, "rx_12345678Z_pano.png"),
        (23, "{pid}_bitewing.png"),
    ],
)
def test_file_name_conventions(capture, lucia, n, filename):
    name = filename.format(pid=lucia["patient_id"])
    d = capture(data(n), filename=name).json()["data"]
    assert d["match"] == {"patient_id": lucia["patient_id"], "by": "filename", "reason": None}


def test_ambiguous_goes_to_the_inbox_with_candidates(api, clinic, capture, lucia):
    twin = create_patient(
        api,
        clinic.admin_token,
        first_name="Lucía",
        last_name="Pérez",
        second_last_name="Sanz",
        date_of_birth="1985-03-12",
    )
    r = capture(data(30), filename="PEREZ_LUCIA_19850312.png")
    d = r.json()["data"]
    assert d["match"] == {"patient_id": None, "by": None, "reason": "ambiguous"}
    items = api.get("/bridge/inbox", token=clinic.admin_token).json()["data"]["items"]
    [item] = [i for i in items if i["image_id"] == d["image_id"]]
    assert item["patient_id"] is None and item["inbox"] is True and item["source"] == "bridge"
    assert set(item["match"]["candidates"]) == {lucia["patient_id"], twin["patient_id"]}
    assert item["match"]["reason"] == "ambiguous"
    assert item["hints"]["filename"] == "PEREZ_LUCIA_19850312.png"
    assert item["device_name"] == "Sensor gabinete 1"


def test_no_match_goes_to_the_inbox(api, clinic, capture, lucia, published):
    d = capture(data(31), filename="IMG_0001.png").json()["data"]
    assert d["match"] == {"patient_id": None, "by": None, "reason": "no_match"}
    [ev] = [p for n, p in published if n == "capture.received"]
    assert ev["inbox"] is True and ev["patient_id"] is None
    items = api.get("/bridge/inbox", token=clinic.admin_token).json()["data"]["items"]
    assert [i["image_id"] for i in items] == [d["image_id"]]
    assert items[0]["match"]["candidates"] == []
    # not on any patient's images
    imgs = api.get(f"/patients/{lucia['patient_id']}/images", token=clinic.admin_token)
    assert imgs.json()["data"]["items"] == []


def test_same_bytes_twice_are_a_duplicate_and_a_pending_one_resumes(
    api, clinic, capture, lucia, worker
):
    from tests.integration.bridge.conftest import upload

    png = xray_png16(64, 32)
    first = capture(png, patient_id=lucia["patient_id"]).json()["data"]
    # the Bridge died before uploading: the same request resumes the same capture
    r = capture(png, patient_id=lucia["patient_id"], filename="renamed.png")
    assert r.status == 200, r.body
    again = r.json()["data"]
    assert again["image_id"] == first["image_id"] and again["duplicate"] is False
    assert again["upload"] and again["status"] == "pending"
    upload(again["upload"], png)
    assert worker.drain_all() >= 1
    r = capture(png)
    assert r.status == 200
    dup = r.json()["data"]
    assert dup == {
        "image_id": first["image_id"],
        "status": "ready",
        "duplicate": True,
        "upload": None,
        "match": {"patient_id": lucia["patient_id"], "by": "explicit", "reason": None},
    }
    imgs = api.get(f"/patients/{lucia['patient_id']}/images", token=clinic.admin_token)
    assert [i["image_id"] for i in imgs.json()["data"]["items"]] == [first["image_id"]]
    # another device of the clinic sending the same bytes: a duplicate as well
    other = register(api, clinic.admin_token, name="Otro")
    r = api.post("/bridge/device/captures", capture_body(png), token=other["api_key"])
    assert r.status == 200 and r.json()["data"]["duplicate"] is True


def test_the_worker_processes_a_capture_to_ready_and_a_sha_mismatch_to_failed(
    api, clinic, device, capture, lucia, worker, published
):
    from tests.integration.bridge.conftest import upload

    key = device["api_key"]
    png = xray_png16(80, 40)
    d = capture(png).json()["data"]  # to the inbox
    upload(d["upload"], png)
    r = api.post(f"/bridge/device/captures/{d['image_id']}/uploaded", {"ok": True}, token=key)
    assert r.status == 200 and r.json()["data"]["image_id"] == d["image_id"]
    assert worker.drain_all() >= 1
    r = api.get(f"/bridge/device/captures/{d['image_id']}", token=key)
    assert r.json()["data"] == {
        "image_id": d["image_id"],
        "status": "ready",
        "reason": None,
        "inbox": True,
        "patient_id": None,
    }
    item = api.get("/bridge/inbox", token=clinic.admin_token).json()["data"]["items"][0]
    assert item["status"] == "ready" and set(item["urls"]) >= {"thumb", "preview", "full"}
    [ev] = [p for n, p in published if n == "image.processed"]
    assert ev["patient_id"] is None and ev["inbox"] is True

    other = xray_png16(80, 41)
    d = capture(other, patient_id=lucia["patient_id"]).json()["data"]
    upload(d["upload"], png)  # not the bytes it declared
    assert worker.drain_all() >= 1
    s = api.get(f"/bridge/device/captures/{d['image_id']}", token=key).json()["data"]
    assert s["status"] == "failed" and "SHA-256" in s["reason"]
    assert s["patient_id"] == lucia["patient_id"] and s["inbox"] is False


def test_a_failed_upload_report_marks_it_failed(api, device, capture):
    key = device["api_key"]
    d = capture(data(40)).json()["data"]
    r = api.post(
        f"/bridge/device/captures/{d['image_id']}/uploaded",
        {"ok": False, "error": "connection reset"},
        token=key,
    )
    assert r.json()["data"] == {"image_id": d["image_id"], "status": "failed"}
    s = api.get(f"/bridge/device/captures/{d['image_id']}", token=key).json()["data"]
    assert s["status"] == "failed" and "connection reset" in s["reason"]


def test_a_device_reads_only_its_own_captures(api, clinic, other_clinic, device, capture):
    d = capture(data(41)).json()["data"]
    sibling = register(api, clinic.admin_token, name="Otro")
    foreign = register(api, other_clinic.admin_token)
    for key in (sibling["api_key"], foreign["api_key"]):
        assert api.get(f"/bridge/device/captures/{d['image_id']}", token=key).status == 404
        r = api.post(f"/bridge/device/captures/{d['image_id']}/uploaded", {"ok": False}, token=key)
        assert r.status == 404
    s = api.get(f"/bridge/device/captures/{d['image_id']}", token=device["api_key"])
    assert s.json()["data"]["status"] == "pending"  # nobody else marked it failed


def test_the_device_shows_its_recent_uploads(api, clinic, device, capture):
    ids = [capture(data(50 + i)).json()["data"]["image_id"] for i in range(3)]
    out = api.get(f"/bridge/devices/{device['device']['device_id']}", token=clinic.admin_token)
    d = out.json()["data"]
    assert [u["image_id"] for u in d["recent_uploads"]] == ids[::-1]
    assert d["last_upload_at"]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"size": 0}, "size"),
        ({"size": 10**12}, "size"),
        ({"content_type": "application/pdf"}, "content_type"),
        ({"kind": "photo", "xray_type": "panoramic"}, "kind"),
        ({"filename": ""}, "filename"),
        ({"acquired_at": "1800-01-01"}, "acquired_at"),
        ({"dicom": {"birth_date": "19851399"}}, "dicom.birth_date"),
        ({"dicom": {"study_instance_uid": "not a uid"}}, "dicom.study_instance_uid"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_capture_requests_are_422_with_the_field(capture, over, field):
    r = capture(data(60), **over)
    assert r.status == 422, r.body
    fields = [e["field"] for e in r.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields


def test_bad_bodies_are_4xx_in_spanish_too(api, device):
    key = device["api_key"]
    r = api.post(
        "/bridge/device/captures", raw=b"{nope", token=key, headers={"Accept-Language": "es"}
    )
    assert r.status == 400 and "JSON" in r.json()["message"]
    r = api.post("/bridge/device/heartbeat", {}, token=key, headers={"Accept-Language": "es"})
    assert r.status == 422 and r.json()["message"] == "Algunos campos no son válidos."


def test_a_real_dicom_study_capture_is_ready_in_the_inbox_with_its_study(
    api, clinic, device, capture, worker
):
    from tests.integration.bridge.conftest import upload

    dcm = native_dicom(gradient16(32, 48, 12))
    d = capture(dcm, filename="x.dcm", content_type="application/dicom").json()["data"]
    assert d["match"]["reason"] == "no_match"  # its header's patient is nobody here
    upload(d["upload"], dcm)
    assert worker.drain_all() >= 1
    [item] = api.get("/bridge/inbox", token=clinic.admin_token).json()["data"]["items"]
    assert item["status"] == "ready" and item["kind"] == "dicom"
    assert item["study_uid"] and item["series_uid"]  # from the header
    assert item["patient_mismatch"] is False  # nobody to contradict in the inbox
    assert sha(dcm) not in str(item)
