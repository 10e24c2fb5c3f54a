"""The command line renders files like the worker and reports failures in its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from imaging_samples import PATIENT_NAME, PDF, gradient16, native_dicom, photo_jpeg, xray_png16
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.imaging", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_renders_each_file_and_fails_when_one_fails(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "smile.jpg").write_bytes(photo_jpeg())
    (src / "pano.dcm").write_bytes(native_dicom(gradient16(300, 600, 12)))
    (src / "bitewing.png").write_bytes(xray_png16())
    (src / "consent.jpg").write_bytes(PDF)  # mislabelled: a PDF named .jpg
    out = tmp_path / "out"

    proc = run_cli("render", *(str(p) for p in sorted(src.iterdir())), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 4
    by_name = {Path(line.split(":", 1)[0]).name: line for line in lines}
    assert ": ok: " in by_name["smile.jpg"]
    assert ": ok: " in by_name["pano.dcm"]
    assert ": ok: " in by_name["bitewing.png"]
    assert by_name["consent.jpg"].endswith(
        "FAILED: File is not a supported image: looks like a PDF (upload it as a document instead)"
    )
    assert PATIENT_NAME not in proc.stdout + proc.stderr

    assert sorted(p.name for p in (out / "smile").iterdir()) == [
        "full.jpg",
        "metadata.json",
        "preview.jpg",
        "thumb.jpg",
    ]
    assert sorted(p.name for p in (out / "pano").iterdir()) == [
        "full.jpg",  # X-rays: high-quality JPEG by default
        "metadata.json",
        "preview.jpg",
        "thumb.jpg",
    ]
    assert (out / "bitewing" / "full.jpg").exists()
    assert not (out / "consent").exists()

    meta = json.loads((out / "pano" / "metadata.json").read_text())
    assert meta["kind"] == "dicom" and meta["metadata"]["modality"] == "PX"
    assert meta["renditions"]["thumb"]["width"] == 200
    smile = json.loads((out / "smile" / "metadata.json").read_text())
    assert (smile["width"], smile["height"]) == (1000, 1600)
    assert Image.open(out / "smile" / "preview.jpg").size == (500, 800)
    bitewing = json.loads((out / "bitewing" / "metadata.json").read_text())
    assert bitewing["kind"] == "xray"  # 16-bit greyscale is auto-detected as an X-ray


def test_cli_exit_zero_and_png_xray_option(tmp_path):
    f = tmp_path / "pano.dcm"
    f.write_bytes(native_dicom(gradient16(100, 200, 12)))
    out = tmp_path / "o" / "pano"
    proc = run_cli("render", str(f), "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "full.jpg").exists() and not (out / "full.png").exists()
    proc = run_cli("render", str(f), "--out", str(tmp_path / "o"), "--xray-format", "png")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "full.png").exists()
    assert not (out / "full.jpg").exists()  # the earlier run's full image is replaced


def test_cli_missing_file_is_reported(tmp_path):
    proc = run_cli("render", str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    assert "FAILED: cannot read file" in proc.stdout


def test_package_import_stays_lean():
    code = (
        "import sys, chalicelib.imaging, chalicelib.imaging.contracts, chalicelib.imaging.sniff;"
        "heavy = [m for m in ('PIL', 'numpy', 'pydicom') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
