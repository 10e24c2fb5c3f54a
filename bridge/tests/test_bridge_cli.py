"""The real command line, as a subprocess, against the fake API: configure (the key kept
private), scan, the watching service, a kill in the middle of an upload, status, and a log
without PHI or key."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from bridge_fakes import KEY, dicom_bytes, jpeg_bytes, png_bytes, write

SECRET = KEY.split(".", 1)[1]
PHI = ["GARCIA", "Garcia", "LOPEZ", "12345678Z", "PEREZ", "LUCIA"]


def cli(home: Path, *args: str, timeout: float = 90, stdin: str | None = None):
    env = {**os.environ, "CUSPIDE_BRIDGE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("CUSPIDE_BRIDGE_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "cuspide_bridge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def start(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CUSPIDE_BRIDGE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cuspide_bridge", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(cond, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def configure(api, home: Path, folder: Path) -> None:
    r = cli(
        home,
        "configure",
        "--api-url",
        api.url,
        "--key",
        "-",
        "--folder",
        str(folder),
        "--stable-seconds",
        "0.3",
        stdin=api.key + "\n",
    )
    assert r.returncode == 0, r.stderr


def log_text(home: Path) -> str:
    return "".join(p.read_text() for p in (home / "log").glob("cuspide-bridge.log*"))


def test_configure_keeps_the_key_private(api, tmp_path):
    home = tmp_path / "home"
    r = cli(
        home,
        "configure",
        "--api-url",
        api.url,
        "--key",
        api.key,
        "--folder",
        str(tmp_path / "in"),
        "--check",
    )
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout + r.stderr and "cbk_abcdefghijkm.****" in r.stdout
    assert "Sensor gab. 1 at Clínica Test" in r.stdout
    key_file = home / "config" / "device.key"
    assert key_file.read_text().strip() == api.key
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    cfg = json.loads((home / "config" / "config.json").read_text())
    assert cfg["api_url"] == api.url + "/api/v1" and SECRET not in json.dumps(cfg)
    status = cli(home, "status")
    assert status.returncode == 0 and SECRET not in status.stdout
    assert "reachable" in status.stdout and "Sensor gab. 1" in status.stdout

    bad = cli(home, "configure", "--key", "not-a-key")
    assert bad.returncode == 1 and "not a device key" in bad.stderr
    assert key_file.read_text().strip() == api.key


def _study_zip(*members: bytes, evil: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in enumerate(members):
            z.writestr(f"STUDY/IM{n}", data)
        if evil:
            z.writestr("../../outside.dcm", members[0])
    return buf.getvalue()


def test_scan_uploads_everything_once_and_logs_no_phi(api, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "sensor"
    configure(api, home, folder)
    write(folder / "GARCIA LOPEZ ANA 12345678Z.jpg", jpeg_bytes(1), age_s=5)
    write(folder / "PEREZ_LUCIA_19850312.png", png_bytes(2), age_s=5)
    write(folder / "2025" / "IM0001.dcm", dicom_bytes("1001", "GARCIA^ANA"), age_s=5)
    write(
        folder / "lab GARCIA.zip",
        _study_zip(
            dicom_bytes("1002", sop="1.2.9.1", instance=1),
            dicom_bytes("1002", sop="1.2.9.2", instance=2),
        ),
        age_s=5,
    )
    write(folder / "evil.zip", _study_zip(dicom_bytes("1002", sop="1.2.9.3"), evil=True), age_s=5)
    write(folder / "copy.jpg", jpeg_bytes(1), age_s=5)  # a duplicate
    write(folder / "half.jpg.tmp", jpeg_bytes(3), age_s=5)  # a partial name
    write(folder / ".hidden.jpg", jpeg_bytes(4), age_s=5)

    r = cli(home, "scan", "--wait", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    shas = sorted(c["sha256"] for c in api.captures.values())
    assert len(shas) == 5 == len(set(api.uploads()))  # jpg, png, dcm, two ZIP members
    assert sorted(api.uploads()) == shas
    assert {c["body"]["filename"] for c in api.captures.values()} >= {"IM0", "IM1", "IM0001.dcm"}
    zip_bodies = [
        c["body"] for c in api.captures.values() if c["body"]["filename"] in ("IM0", "IM1")
    ]
    assert all(b["dicom"]["patient_id"] == "1002" and b["kind"] == "dicom" for b in zip_bodies)

    status = json.loads(cli(home, "status", "--json").stdout)
    assert status["queue_depth"] == 0
    counts = status["counts"]
    assert counts["done:ready"] == 3 and counts["done:inbox"] == 2, counts
    assert counts["done:duplicate"] == 1 and counts["failed"] == 1 and counts["expanded"] == 1
    evil = [i for i in status["recent"] if i["state"] == "failed"][0]
    assert "traversal" in evil["error"]
    assert not (tmp_path / "outside.dcm").exists()
    assert not list((home / "state" / "spool").rglob("*.dcm"))  # spool cleaned

    again = cli(home, "scan", "--wait", "10")  # nothing new: nothing sent
    assert again.returncode == 0 and len(api.captures) == 5

    text = log_text(home)
    assert "uploaded as" in text
    for word in [*PHI, "lab", "sensor", SECRET, "half", "copy"]:
        assert word not in text, word
    assert SECRET not in r.stdout + r.stderr


def test_the_service_waits_for_files_being_written_and_stops_cleanly(api, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "sensor"
    folder.mkdir()
    configure(api, home, folder)
    proc = start(home, "run")
    try:
        wait_for(lambda: api.heartbeats, "the first heartbeat")
        time.sleep(0.5)  # the watcher is scheduled right after the heartbeat
        write(folder / "a.jpg", jpeg_bytes(1))
        slow = folder / "slow.jpg"
        data = jpeg_bytes(2, size=40_000)
        with slow.open("wb") as f:  # the sensor software writes it over ~2 s
            for i in range(0, len(data), 2000):
                f.write(data[i : i + 2000])
                f.flush()
                time.sleep(0.1)
        (folder / "partial.jpg.tmp").write_bytes(jpeg_bytes(3))
        write(folder / "sub" / "b.png", png_bytes(4))
        wait_for(lambda: len(api.uploads()) >= 3, "three uploads", timeout=60)
        time.sleep(1)
        assert len(api.captures) == 3  # never a half-written slow.jpg
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    if os.name == "posix":
        assert proc.returncode == 0, out
    assert "stopped" in out and "slow" not in out


def test_killed_mid_upload_restart_finishes_with_nothing_twice(api, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "sensor"
    configure(api, home, folder)
    for n in range(3):
        write(folder / f"{n}.jpg", jpeg_bytes(n, size=50_000), age_s=5)
    api.s3_delay = 3.0
    proc = start(home, "run")
    try:
        wait_for(lambda: any(p.startswith("/s3/") for _, p in api.calls), "an upload to start")
        proc.kill()  # SIGKILL (TerminateProcess on Windows): no chance to clean up
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    api.s3_delay = 0
    time.sleep(3.5)  # the storage finishes receiving what was sent before the kill
    r = cli(home, "scan", "--wait", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(api.captures) == 3
    uploads = api.uploads()
    assert sorted(uploads) == sorted(set(uploads)) and len(uploads) == 3, uploads
    status = json.loads(cli(home, "status", "--json", "--offline").stdout)
    assert status["counts"] == {"done:inbox": 3}, status["counts"]


def test_upload_one_file_for_an_explicit_patient(api, tmp_path):
    home = tmp_path / "home"
    configure(api, home, tmp_path / "none")
    p = write(tmp_path / "whatever name.jpg", jpeg_bytes(9))
    r = cli(home, "upload", str(p), "--patient-number", "1001", "--wait", "30")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ready on patient pat-1001" in r.stdout
    (c,) = api.captures.values()
    assert c["body"]["patient_number"] == "1001" and c["match"]["by"] == "explicit"
    missing = cli(
        home,
        "upload",
        str(write(tmp_path / "b.jpg", jpeg_bytes(8))),
        "--patient-number",
        "404",
        "--wait",
        "30",
    )
    assert missing.returncode == 4 and "No patient with that number" in missing.stdout


@pytest.mark.skipif(os.name != "posix", reason="the lock is the same on Windows, via msvcrt")
def test_only_one_process_works_the_queue(api, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "sensor"
    folder.mkdir()
    configure(api, home, folder)
    proc = start(home, "run")
    try:
        wait_for(lambda: api.heartbeats, "the first heartbeat")
        second = cli(home, "run")
        assert second.returncode == 2 and "already running" in second.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
