"""Importing the API loads nothing of imaging, PDFs, XML, calendars or X-Ray (issue 23): the
API is one Lambda, and whatever ``app.py`` imports every cold start pays, whichever route the
request is for. This checks what is loaded, not how long it takes (bench/api.py measures that).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Libraries only some requests (or only the workers) need: each must load on first use.
HEAVY = {
    "lxml": "VERI*FACTU XML (submission, books, archive)",
    "icalendar": "calendar invitations in emails",
    "aws_xray_sdk": "X-Ray, only when tracing is on",
    "PIL": "imaging pipeline",
    "pydicom": "imaging pipeline",
    "numpy": "imaging pipeline",
    "pylibjpeg": "imaging pipeline",
    "gdcm": "imaging pipeline",
    "pi_heif": "imaging pipeline",
    "pillow_heif": "imaging pipeline",
    "pyvips": "benchmark only",
    "reportlab": "PDFs",
    "qrcode": "the QR code drawn in PDFs",
    "phonenumbers": "checking a phone number (the first request that has one)",
}
# Product modules that pull those in (the pipeline and the PDF renderer).
HEAVY_OWN = (
    "chalicelib.imaging.render",
    "chalicelib.imaging.raster",
    "chalicelib.imaging.dicom",
    "chalicelib.imaging.renditions",
    "chalicelib.billing.pdf",
)


def _modules_after(code: str) -> set[str]:
    # A fresh interpreter: this process has imported much more than the API by now.
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_api_loads_no_heavy_library() -> None:
    loaded = _modules_after("import app")
    assert "app" in loaded and "chalicelib.verifactu.routes" in loaded
    top = {m.split(".")[0] for m in loaded}
    assert {name: why for name, why in HEAVY.items() if name in top} == {}
    assert [m for m in HEAVY_OWN if m in loaded] == []


def test_heavy_libraries_still_load_when_used() -> None:
    # The lazy names resolve: building a VERI*FACTU record's XML loads lxml, and an invitation
    # email's calendar loads icalendar.
    loaded = _modules_after(
        "from chalicelib.verifactu import xml\n"
        "xml.etree.Element('x')\n"
        "from chalicelib.comms import ics\n"
        "from chalicelib.patients import search\n"
        "assert search.normalise_phone('612 345 678') == '+34612345678'"
    )
    assert {"lxml.etree", "icalendar", "phonenumbers"} <= loaded
