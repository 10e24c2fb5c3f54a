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
    assert "app" in loaded and "chalicelib.core.route_table" in loaded
    top = {m.split(".")[0] for m in loaded}
    assert {name: why for name, why in HEAVY.items() if name in top} == {}
    assert [m for m in HEAVY_OWN if m in loaded] == []


def test_importing_the_api_loads_no_module_routes_until_one_is_called() -> None:
    # ADR 0017: every route is registered from the route table; a module's routes, schemas and
    # services load with the first call of one of its routes, and only that module's.
    loaded = _modules_after("import app")
    own = sorted(m for m in loaded if m.startswith("chalicelib."))
    assert [m for m in own if m.endswith((".routes", ".schemas", ".service"))] == []
    assert "chalicelib.identity.sessions" not in loaded  # the principal resolver is lazy too
    called = _modules_after(
        "import app\n"
        "from chalice.test import Client\n"
        "with Client(app.app) as c:\n"
        "    assert c.http.get('/api/v1/health').status_code == 200\n"
    )
    routes = sorted(m for m in called if m.endswith(".routes"))
    assert routes == ["chalicelib.system.routes"]


def test_every_route_of_the_app_comes_from_a_current_route_table() -> None:
    import app
    from chalicelib.core import route_table

    assert route_table.build() == route_table.read(), (
        "chalicelib/core/route_table.json is stale: run python -m chalicelib.core.route_table"
    )
    served = {(m, p) for p, methods in app.app.routes.items() for m in methods}
    declared = {(s.method, route_table.PREFIX + s.path) for r in app.ROUTERS for s in r.specs}
    assert served == declared
    assert "application/pdf" in app.app.api.binary_types  # the invoice and budget PDFs


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
