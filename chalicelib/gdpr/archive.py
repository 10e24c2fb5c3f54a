"""The export's ZIP, written entry by entry to a local file (memory stays bounded: JSON and
CSV are small, files are copied from S3 in chunks), and its index: ``index.json`` (machine
readable) and ``index.html`` (readable offline, in the clinic's language), both listing every
file with what it is. ADR 1401."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, BinaryIO

from chalicelib.core.i18n import Text, tr

CHUNK = 1024 * 1024
# Already compressed: stored as they are (deflating them again costs time and saves nothing).
STORED_TYPES = ("image/jpeg", "image/png", "image/webp", "application/zip", "application/pdf")


class TooLarge(Exception):
    """The export would pass its size cap."""


@dataclass
class Entry:
    path: str
    what: Text
    content_type: str
    size: int
    section: str


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name that is safe inside a ZIP on any system (no folders, no odd characters)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._")
    return clean[:100] or fallback


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v)


class Archive:
    def __init__(self, fileobj: BinaryIO, *, max_bytes: int) -> None:
        self.zf = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.entries: list[Entry] = []
        self.max_bytes = max_bytes
        self.written = 0

    def discard(self) -> None:
        """Close a ZIP that will not be kept (an export that failed), so nothing writes to its
        file after it is gone."""
        with contextlib.suppress(Exception):
            self.zf.close()

    def _count(self, size: int) -> None:
        self.written += size
        if self.written > self.max_bytes:
            raise TooLarge(self.written)

    def add_bytes(
        self, path: str, data: bytes, *, what: Text, content_type: str, section: str
    ) -> None:
        self._count(len(data))
        kind = zipfile.ZIP_STORED if content_type in STORED_TYPES else zipfile.ZIP_DEFLATED
        self.zf.writestr(path, data, compress_type=kind)
        self.entries.append(Entry(path, what, content_type, len(data), section))

    def add_json(self, path: str, data: Any, *, what: Text, section: str) -> None:
        raw = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default).encode()
        self.add_bytes(path, raw, what=what, content_type="application/json", section=section)

    def add_csv(
        self, path: str, columns: list[str], rows: list[dict[str, Any]], *, what: Text, section: str
    ) -> None:
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({k: _cell(row.get(k)) for k in columns})
        # UTF-8 with a BOM: spreadsheets open accents right.
        raw = ("\ufeff" + out.getvalue()).encode()
        self.add_bytes(path, raw, what=what, content_type="text/csv", section=section)

    def add_stream(
        self, path: str, body: Any, *, what: Text, content_type: str, section: str
    ) -> None:
        kind = zipfile.ZIP_STORED if content_type in STORED_TYPES else zipfile.ZIP_DEFLATED
        info = zipfile.ZipInfo(path, date_time=datetime.now().timetuple()[:6])
        info.compress_type = kind
        size = 0
        with self.zf.open(info, "w", force_zip64=True) as dst:
            while chunk := body.read(CHUNK):
                size += len(chunk)
                self._count(len(chunk))
                dst.write(chunk)
        self.entries.append(Entry(path, what, content_type, size, section))

    def close(self, header: dict[str, Any], lang: str) -> int:
        """Write the index files and close the ZIP; returns the number of entries."""
        listed = [
            {
                "path": e.path,
                "section": e.section,
                "what": e.what.es if lang == "es" else str(e.what),
                "content_type": e.content_type,
                "size": e.size,
            }
            for e in self.entries
        ]
        index_json = {**header, "files": listed}
        html = index_html(header, listed, lang)
        self.zf.writestr("index.html", html.encode())
        self.zf.writestr(
            "index.json",
            json.dumps(index_json, ensure_ascii=False, indent=2, default=_json_default).encode(),
        )
        self.zf.close()
        return len(self.entries) + 2


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return v


INDEX_WORDS = {
    "title": tr("Personal data held by {clinic}", "Datos personales que conserva {clinic}"),
    "intro": tr(
        "This archive holds everything {clinic} keeps about {patient}, as it was on {at}, "
        "exported at their request (GDPR arts. 15 and 20). Data is in open formats: JSON "
        "(structured), CSV (spreadsheets), PDF, and the original image and document files.",
        "Este archivo contiene todo lo que {clinic} conserva sobre {patient}, tal como estaba "
        "el {at}, exportado a petición suya (arts. 15 y 20 del RGPD). Los datos están en "
        "formatos abiertos: JSON (estructurado), CSV (hojas de cálculo), PDF y los archivos "
        "originales de imágenes y documentos.",
    ),
    "file": tr("File", "Archivo"),
    "what": tr("What it is", "Qué es"),
    "size": tr("Size", "Tamaño"),
    "sections": tr("Contents", "Contenido"),
    "records": tr("records", "registros"),
    "machine": tr(
        "The same list, for programs: index.json.",
        "La misma lista, para programas: index.json.",
    ),
}


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;"
    "padding:0 1rem;color:#1b1b1b}table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ccc;"
    "vertical-align:top}td.n{text-align:right;white-space:nowrap}"
    "a{color:#0b57d0;word-break:break-all}"
)


def index_html(header: dict[str, Any], files: list[dict[str, Any]], lang: str) -> str:
    def w(key: str) -> str:
        t = INDEX_WORDS[key]
        return t.es if lang == "es" else str(t)

    clinic = escape(str(header.get("clinic_name") or ""))
    patient = escape(str(header.get("patient_name") or ""))
    at = escape(str(header.get("exported_at") or ""))
    rows = "\n".join(
        f'<tr><td><a href="{escape(f["path"], quote=True)}">{escape(f["path"])}</a></td>'
        f"<td>{escape(f['what'])}</td><td class=n>{_size(int(f['size']))}</td></tr>"
        for f in files
    )
    sections = "".join(
        f"<li>{escape(name)}: {int(n)} {w('records')}</li>"
        for name, n in (header.get("sections") or {}).items()
    )
    head = "".join(f'<th scope="col">{w(k)}</th>' for k in ("file", "what", "size"))
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{w("title").format(clinic=clinic)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{w("title").format(clinic=clinic)}</h1>
<p>{w("intro").format(clinic=clinic, patient=patient, at=at)}</p>
<h2>{w("sections")}</h2>
<ul>{sections}</ul>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p>{w("machine")}</p>
</main>
</body>
</html>
"""


def copy_object(archive: Archive, path: str, body: Any, **kw: Any) -> None:
    try:
        archive.add_stream(path, body, **kw)
    finally:
        close = getattr(body, "close", None)
        if close:
            close()
