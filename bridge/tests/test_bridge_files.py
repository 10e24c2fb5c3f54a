"""Which files are watched, when a file is completely written, what it is, its DICOM hints,
and ZIPs of a study (including malicious ones)."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest
from bridge_fakes import dicom_bytes, jpeg_bytes, png_bytes, write

from cuspide_bridge import files, zips


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("IMG_0001.JPG", True),
        ("pano.dcm", True),
        ("estudio.zip", True),
        ("scan.png", True),
        ("scan.png.tmp", False),
        ("~scan.png", False),
        ("~$report.png", False),
        (".scan.png", False),
        ("scan.png.part", False),
        ("scan.png.crdownload", False),
        ("notes.txt", False),
        ("Thumbs.db", False),
    ],
)
def test_watched_names(name, ok):
    assert files.wanted(Path("/x") / name, None) is ok


def test_patterns_replace_the_defaults_and_hidden_folders_are_skipped():
    assert files.wanted(Path("/x/IMAGE001"), ["*"])
    assert not files.wanted(Path("/x/a.jpg"), ["*.dcm"])
    assert files.hidden_dir(Path("/w/.cache/a.jpg"), Path("/w"))
    assert not files.hidden_dir(Path("/w/2025/a.jpg"), Path("/w"))


def test_content_is_sniffed_not_trusted_from_the_extension(tmp_path):
    assert files.sniff(jpeg_bytes()) == "image/jpeg"
    assert files.sniff(png_bytes()) == "image/png"
    assert files.sniff(dicom_bytes()) == "application/dicom"
    assert files.sniff(b"II*\x00rest") == "image/tiff"
    p = write(tmp_path / "really-a-png.jpg", png_bytes())
    assert files.content_type(p, files.digest(p).head) == "image/png"
    p = write(tmp_path / "broken.jpg", b"nothing recognisable")
    assert files.content_type(p, files.digest(p).head) == "image/jpeg"  # by extension
    assert files.kind_for("application/dicom", "xray") == "dicom"
    assert files.kind_for("image/png", "dicom") == "xray"
    assert files.kind_for("image/jpeg", "photo") == "photo"


class Mono:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_file_is_ready_only_once_it_stops_changing(tmp_path):
    clock = Mono()
    tracker = files.StabilityTracker(2.0, clock=clock)
    p = tmp_path / "a.jpg"
    with p.open("wb") as f:
        f.write(b"\xff\xd8\xff" + b"x" * 1000)
        f.flush()
        tracker.touch(p)
        assert tracker.ready() == []  # first look: its size is noted
        clock.t += 5
        f.write(b"y" * 1000)  # still being written
        f.flush()
        assert tracker.ready() == []
        clock.t += 1
        assert tracker.ready() == []  # not yet stable for 2 s
        f.write(b"\xff\xd9")
    clock.t += 1
    assert tracker.ready() == []  # changed again (closed with more bytes)
    clock.t += 2.5
    ready = tracker.ready()
    assert [r[0] for r in ready] == [p] and ready[0][1].size == 2005
    assert len(tracker) == 0


def test_an_unreadable_or_vanished_file_is_not_ready(tmp_path, monkeypatch):
    clock = Mono()
    tracker = files.StabilityTracker(0.5, clock=clock)
    gone = write(tmp_path / "gone.jpg", jpeg_bytes())
    locked = write(tmp_path / "locked.jpg", jpeg_bytes(2))
    tracker.touch(gone)
    tracker.touch(locked)
    tracker.ready()
    gone.unlink()
    clock.t += 1

    real = files.digest

    def sharing_violation(path):  # what Windows says while the sensor software holds it
        if path == locked:
            raise PermissionError(13, "The process cannot access the file")
        return real(path)

    monkeypatch.setattr(files, "digest", sharing_violation)
    assert tracker.ready() == []
    assert len(tracker) == 1  # the locked one is looked at again later
    monkeypatch.setattr(files, "digest", real)
    tracker.ready()
    clock.t += 1
    assert [r[0] for r in tracker.ready()] == [locked]


def test_dicom_hints_are_read_without_pixels(tmp_path):
    p = write(tmp_path / "x.dcm", dicom_bytes("12345678Z", "PEREZ^LUCIA", instance=3))
    h = files.dicom_hints(p)
    assert h == {
        "patient_id": "12345678Z",
        "patient_name": "PEREZ^LUCIA",
        "birth_date": "1980-02-15",
        "study_instance_uid": "1.2.3.4",
        "series_instance_uid": "1.2.3.4.1",
        "sop_instance_uid": h["sop_instance_uid"],
        "series_number": 1,
        "instance_number": 3,
        "modality": "IO",
        "study_date": "2025-03-10",
    }
    assert files.dicom_hints(write(tmp_path / "no.dcm", b"\x00" * 200)) is None
    assert files.acquired_at("application/dicom", h, 0) == "2025-03-10"


def _zip(members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_a_study_zip_gives_its_dicom_members_in_order(tmp_path):
    data = _zip(
        {
            "STUDY/SERIES1/IM1": dicom_bytes(instance=1),
            "STUDY/SERIES1/IM2": dicom_bytes(instance=2),
            "DICOMDIR": dicom_bytes(),
            "README.txt": b"open with the viewer",
            "viewer/": b"",
        }
    )
    src = write(tmp_path / "lab.zip", data)
    members, skipped = zips.extract_dicom(src, tmp_path / "spool")
    assert [m.name for m in members] == ["IM1", "IM2"] and skipped == 2
    assert all(m.path.parent == tmp_path / "spool" for m in members)
    assert [files.dicom_hints(m.path)["instance_number"] for m in members] == [1, 2]


@pytest.mark.parametrize(
    "evil",
    ["../../etc/cron.d/x.dcm", "/abs/x.dcm", "C:\\x.dcm", "a/../../x.dcm", "ok\\..\\..\\x.dcm"],
)
def test_a_zip_that_escapes_its_folder_is_refused_whole(tmp_path, evil):
    src = write(tmp_path / "evil.zip", _zip({"good.dcm": dicom_bytes(), evil: dicom_bytes()}))
    with pytest.raises(zips.UnsafeZip, match="traversal"):
        zips.extract_dicom(src, tmp_path / "spool")
    assert not list((tmp_path).rglob("x.dcm"))


def test_zip_bombs_are_refused(tmp_path):
    bomb = write(tmp_path / "bomb.zip", _zip({"a.dcm": b"\x00" * (20 * 1024 * 1024)}))
    with pytest.raises(zips.UnsafeZip, match="ratio"):
        zips.extract_dicom(bomb, tmp_path / "s1")
    big = write(tmp_path / "big.zip", _zip({"a.dcm": dicom_bytes()}, zipfile.ZIP_STORED))
    with pytest.raises(zips.UnsafeZip, match="too large"):
        zips.extract_dicom(big, tmp_path / "s2", max_member_bytes=100)
    many = write(tmp_path / "many.zip", _zip({f"{n}.dcm": b"x" for n in range(20)}))
    with pytest.raises(zips.UnsafeZip, match="too many"):
        zips.extract_dicom(many, tmp_path / "s3", max_members=10)
    total = write(tmp_path / "t.zip", _zip({f"{n}.dcm": dicom_bytes() for n in range(3)}))
    with pytest.raises(zips.UnsafeZip, match="expands"):
        zips.extract_dicom(total, tmp_path / "s4", max_total_bytes=len(dicom_bytes()) * 2)
    assert not list((tmp_path / "s4").glob("*"))  # nothing half-extracted left
    with pytest.raises(zips.UnsafeZip, match="not a readable ZIP"):
        zips.extract_dicom(write(tmp_path / "x.zip", b"PK\x03\x04garbage"), tmp_path / "s5")


def test_a_member_lying_about_its_size_is_caught_while_reading(tmp_path):
    member = dicom_bytes() * 4000  # one call: each has a random SOP UID of varying length
    data = bytearray(_zip({"a.dcm": member}, zipfile.ZIP_STORED))
    # rewrite the declared size (local header and central directory) to a small one
    real = len(member).to_bytes(4, "little")
    data = data.replace(real, (10).to_bytes(4, "little"))
    src = write(tmp_path / "liar.zip", bytes(data))
    members, skipped = zips.extract_dicom(src, tmp_path / "spool")
    # only the declared 10 bytes are read; their CRC fails: the member is dropped, not expanded
    assert members == [] and skipped == 1
    assert not list((tmp_path / "spool").glob("*"))


def test_hints_the_server_would_refuse_are_left_out(tmp_path):
    import pydicom

    p = write(tmp_path / "odd.dcm", dicom_bytes())
    ds = pydicom.dcmread(p)
    with pytest.warns(UserWarning):
        ds.StudyInstanceUID = "1.2.abc"  # not a UID
    ds.PatientBirthDate = "18500101"  # before 1900
    ds.SeriesNumber = -3
    ds.save_as(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none escapes: they would quote the values
        h = files.dicom_hints(p)
    assert "study_instance_uid" not in h and "birth_date" not in h and "series_number" not in h
    assert h["patient_id"] == "1001" and h["series_instance_uid"] == "1.2.3.4.1"


def test_the_log_never_shows_a_key(tmp_path):
    import logging

    from cuspide_bridge import logs
    from cuspide_bridge.config import mask_key, redact

    key = "cbk_abcdefghijkm." + "s3cr3t" * 8
    log = logs.setup(tmp_path / "b.log")
    log.warning("oops %s", f"Authorization: Bearer {key}")
    for h in log.handlers:
        h.flush()
    text = (tmp_path / "b.log").read_text()
    assert "s3cr3t" not in text and "cbk_abcdefghijkm.****" in text
    assert mask_key(key) == "cbk_abcdefghijkm.****" and mask_key("garbage") == "****"
    assert "s3cr3t" not in redact(f"key={key}")
    logs.setup(tmp_path / "b.log")  # handlers replaced, not stacked
    assert len(logging.getLogger("cuspide_bridge").handlers) == 1
