"""The reference Bridge client (bridge/, ``cuspide-bridge``) against the real local stack: a
device registered through the staff API, the real CLI watching a temporary folder, and every
kind of file a sensor PC produces - a JPEG, a 16-bit PNG, a DICOM, a file still being written,
a corrupt one, a duplicate, a partial name - each ending on the right patient as ``ready``, in
the inbox, or ``failed`` with a reason, exactly once (as the staff API shows it)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.test_local_stack import TIMEOUT, Stack
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("bridge-stack") / "state").start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def _cli() -> list[str]:
    script = Path(sys.executable).parent / (
        "cuspide-bridge.exe" if os.name == "nt" else "cuspide-bridge"
    )
    if script.exists():
        return [str(script)]
    found = shutil.which("cuspide-bridge")
    return [found] if found else [sys.executable, "-m", "cuspide_bridge"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CUSPIDE_"))}
    env.update(CUSPIDE_BRIDGE_HOME=str(home), PYTHONUNBUFFERED="1")
    return env


def _run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_cli(), *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


# --- files a sensor PC produces ------------------------------------------------------------


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (seed * 40 % 255, 120, 90)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png16() -> bytes:
    import numpy as np
    from PIL import Image

    ramp = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, "PNG")
    data = buf.getvalue()
    assert data[24] == 16  # bit depth in IHDR: a 16-bit greyscale PNG, as sensors export
    return data


def _dicom(patient_id: str) -> bytes:
    import numpy as np
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"  # intra-oral X-ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = (
        meta.MediaStorageSOPClassUID,
        meta.MediaStorageSOPInstanceUID,
    )
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientID, ds.PatientName = patient_id, "ANONIMO^SENSOR"
    ds.Modality, ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "IO", "20250310", 1, 1
    pixels = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096).astype(np.uint16)
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# --- the test ------------------------------------------------------------------------------


def test_the_bridge_client_uploads_every_capture_to_the_right_place_exactly_once(stack, tmp_path):
    admin = stack.login("admin@demo.clinic").json()["data"]
    h = {"Authorization": f"Bearer {admin['access_token']}"}
    api = stack.url + "/api/v1"

    def get(path: str):
        r = requests.get(api + path, headers=h, timeout=TIMEOUT)
        assert r.status_code == 200, (path, r.text)
        return r.json()["data"]

    r = requests.post(
        api + "/bridge/devices",
        json={"name": "Sensor e2e", "defaults": {"kind": "xray", "xray_type": "periapical"}},
        headers=h,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    key = r.json()["data"]["api_key"]

    # three demo patients with a DNI (the file-name and DICOM conventions), one by its id
    listed = get("/patients?limit=40")
    items = listed["items"] if isinstance(listed, dict) else listed
    people = []
    for p in items:
        full = get(f"/patients/{p['patient_id']}")
        nid = full.get("national_id") or {}
        if nid.get("type") == "dni":
            people.append((p["patient_id"], nid["number"]))
        if len(people) == 4:
            break
    assert len(people) == 4, "the demo has patients with a DNI"
    (by_name, dni_a), (by_slow, dni_b), (by_dicom, dni_c), (explicit, _) = people

    home, folder = tmp_path / "bridge-home", tmp_path / "sensor"
    folder.mkdir()
    r = _run(
        home,
        "configure",
        "--api-url",
        stack.url,
        "--key",
        "-",
        "--folder",
        str(folder),
        "--stable-seconds",
        "1",
        "--check",
        stdin=key + "\n",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert key.split(".", 1)[1] not in r.stdout + r.stderr
    assert "Sensor e2e at Clínica Demo" in r.stdout

    proc = subprocess.Popen(
        [*_cli(), "run"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def status() -> dict:
            out = _run(home, "status", "--json", "--offline").stdout
            return json.loads(out)

        wait_for(
            lambda: (status().get("device") or {}).get("device_name"), "a heartbeat", timeout_s=60
        )
        time.sleep(1)  # the watcher is scheduled right after the first heartbeat

        files = {
            f"RX_{dni_a}_01.jpg": _jpeg(1),
            "IMG0002.png": _png16(),
            "IM000123.dcm": _dicom(dni_c),
            "IMG0003.jpg": b"\xff\xd8\xff\xe0" + os.urandom(3000),  # corrupt
        }
        for name, data in files.items():
            (folder / name).write_bytes(data)
        (folder / "IMG0004.jpg.tmp").write_bytes(_jpeg(4))  # a partial name: never sent
        slow_name, slow = f"pano {dni_b}.jpg", _jpeg(5) + b"\x00" * 30_000
        with (folder / slow_name).open("wb") as f:  # still being written for ~3 s
            for i in range(0, len(slow), 3000):
                f.write(slow[i : i + 3000])
                f.flush()
                time.sleep(0.3)
        time.sleep(2)
        (folder / "copia RX.jpg").write_bytes(files[f"RX_{dni_a}_01.jpg"])  # a duplicate

        def settled() -> dict | None:
            s = status()
            done = [i for i in s["recent"] if i["state"] in ("done", "failed")]
            return s if len(done) >= 6 and s["queue_depth"] == 0 else None

        wait_for(settled, "six captures to be uploaded and processed", timeout_s=240)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert "stopped" in out, out

    explicit_file = tmp_path / "elegida.jpg"
    explicit_file.write_bytes(_jpeg(7))
    r = _run(home, "upload", str(explicit_file), "--patient-number", explicit, "--wait", "180")
    assert r.returncode == 0 and f"ready on patient {explicit}" in r.stdout, r.stdout + r.stderr

    log = "".join(p.read_text() for p in (home / "log").glob("*.log*"))
    for secret in (dni_a, dni_b, dni_c, "RX_", "pano", "IMG0002", key.split(".", 1)[1]):
        assert secret not in log, secret

    by_result = {}
    for it in status()["recent"]:
        by_result.setdefault(it["result"] or it["state"], []).append(it)
    assert len(by_result["duplicate"]) == 1

    def image(image_id: str) -> dict:
        return get(f"/images/{image_id}")

    def on(pid: str, filename: str) -> list[dict]:
        listed = get(f"/patients/{pid}/images?limit=100")
        rows = listed["items"] if isinstance(listed, dict) else listed
        return [i for i in rows if i["filename"] == filename]

    # the right patient, ready, exactly once
    for pid, name in [
        (by_name, f"RX_{dni_a}_01.jpg"),
        (by_slow, slow_name),
        (by_dicom, "IM000123.dcm"),
        (explicit, "elegida.jpg"),
    ]:
        (img,) = on(pid, name)
        assert img["status"] == "ready", img
    (dicom_img,) = on(by_dicom, "IM000123.dcm")
    assert dicom_img["kind"] == "dicom"
    assert on(by_name, "copia RX.jpg") == []

    inbox_rows = get("/bridge/inbox?limit=100")
    inbox_rows = inbox_rows["items"] if isinstance(inbox_rows, dict) else inbox_rows
    names = [i["filename"] for i in inbox_rows]
    assert names.count("IMG0002.png") == 1 and "copia RX.jpg" not in names
    assert "IMG0004.jpg.tmp" not in names
    png = next(i for i in inbox_rows if i["filename"] == "IMG0002.png")
    assert png["status"] == "ready" and png["patient_id"] is None
    assert png["match"]["reason"] == "no_match"

    failed = [it for it in status()["recent"] if it["result"] == "failed"]
    assert len(failed) == 1 and failed[0]["reason"], failed
    broken = image(failed[0]["image_id"])
    assert broken["status"] == "failed" and broken["reason"] and broken["filename"] == "IMG0003.jpg"
