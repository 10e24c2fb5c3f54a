"""What a file is: which names are watched, whether it is completely written, its SHA-256, its
type (by its first bytes, the extension only as a fallback) and its DICOM hints."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cuspide_bridge.config import DEFAULT_PATTERNS, IGNORED_PATTERNS

CHUNK = 1024 * 1024

# --- names -----------------------------------------------------------------------------------


def ignored(name: str) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORED_PATTERNS)


def wanted(path: Path, patterns: list[str] | None) -> bool:
    """A file to upload: not a temp/partial/hidden name, and matching a pattern (any case)."""
    name = path.name
    if not name or ignored(name):
        return False
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in (patterns or DEFAULT_PATTERNS))


def hidden_dir(path: Path, root: Path) -> bool:
    """A file under a hidden or temp folder of the watched one (``.cache/``, ``~tmp/``)."""
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        return False
    return any(ignored(p) for p in parts)


# --- content ---------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The media type from the first bytes (at least 132 of them for DICOM)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "application/dicom"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "application/zip"
    return None


BY_EXTENSION = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".dcm": "application/dicom",
    ".dicom": "application/dicom",
    ".zip": "application/zip",
}


def content_type(path: Path, head: bytes) -> str:
    return sniff(head) or BY_EXTENSION.get(path.suffix.lower(), "application/octet-stream")


def kind_for(ctype: str, default_kind: str | None) -> str:
    """The capture's kind: DICOM is ``dicom``; an image is the device's default (``xray`` or
    ``photo``), ``xray`` when the device's default is ``dicom``."""
    if ctype == "application/dicom":
        return "dicom"
    if default_kind == "photo":
        return "photo"
    return "xray"


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    head: bytes


def digest(path: Path) -> Digest:
    """Read the whole file once: its SHA-256, its size as read, and its first bytes. Raises
    OSError when it cannot be opened or read (still locked by the writer, gone)."""
    h, size, head = hashlib.sha256(), 0, b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if not head:
                head = chunk[:512]
            h.update(chunk)
            size += len(chunk)
    return Digest(h.hexdigest(), size, head)


# --- DICOM hints -----------------------------------------------------------------------------


UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)


def _da(value: Any) -> str | None:
    """A DICOM DA (``YYYYMMDD``) as an ISO date; None when empty, not a date or implausible
    (a hint the server would refuse must not cost the capture)."""
    s = str(value or "").strip().replace("-", "").replace(".", "")
    if len(s) != 8 or not s.isdigit():
        return None
    try:
        d = date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None
    return d.isoformat() if MIN_DATE <= d <= MAX_DATE else None


def _int(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 <= n <= 2_147_483_647 else None


def _uid(value: Any) -> str | None:
    s = str(value or "").strip().rstrip("\x00").strip()
    return s if s and len(s) <= 64 and UID_RE.match(s) else None


def _str(value: Any, limit: int = 200) -> str | None:
    s = str(value).strip() if value is not None else ""
    return s[:limit] or None


def dicom_hints(source: Path | Any) -> dict[str, Any] | None:
    """The tags the server matches and groups on, read without the pixel data; None when the
    file is not readable DICOM (the server then says why when it processes it)."""
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
    except ImportError:  # pragma: no cover - a dependency
        return None
    try:
        # pydicom's warnings quote the offending value (a patient's name): never let them out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(source, stop_before_pixels=True)
    except (
        InvalidDicomError,
        OSError,
        ValueError,
        EOFError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        NotImplementedError,
    ):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _hints(ds)


def _hints(ds: Any) -> dict[str, Any]:
    get = ds.get
    name = get("PatientName")
    hints = {
        "patient_id": _str(get("PatientID"), 64),
        "patient_name": _str(str(name) if name is not None else None),
        "birth_date": _da(get("PatientBirthDate")),
        "study_instance_uid": _uid(get("StudyInstanceUID")),
        "series_instance_uid": _uid(get("SeriesInstanceUID")),
        "sop_instance_uid": _uid(get("SOPInstanceUID")),
        "series_number": _int(get("SeriesNumber")),
        "instance_number": _int(get("InstanceNumber")),
        "modality": _str(get("Modality"), 16),
        "study_date": _da(get("StudyDate")),
    }
    return {k: v for k, v in hints.items() if v is not None}


def acquired_at(ctype: str, hints: dict[str, Any] | None, mtime: float) -> str | None:
    """When it was taken: the study date of a DICOM, else the day the sensor saved the file."""
    if hints and hints.get("study_date"):
        return hints["study_date"]
    d = datetime.fromtimestamp(mtime).date()
    return d.isoformat() if MIN_DATE <= d <= MAX_DATE else None


# --- waiting until a file is completely written ----------------------------------------------


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class StabilityTracker:
    """Files seen by the watcher, waiting to be completely written.

    A file is ready when its size and mtime have not changed for ``stable_seconds`` and it can
    be opened and read to the end (on Windows the sensor software's open handle refuses that).
    Thread-safe: the watcher's thread calls :meth:`touch`, the main loop :meth:`ready`.
    """

    def __init__(self, stable_seconds: float, clock=time.monotonic):
        self.stable_seconds = stable_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Path, _Seen] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def touch(self, path: Path) -> None:
        """The watcher saw ``path`` created, modified or moved here: (re)start its clock."""
        with self._lock:
            self._seen[path] = _Seen(-1, -1, self._clock())

    def forget(self, path: Path) -> None:
        with self._lock:
            self._seen.pop(path, None)

    def ready(self) -> list[tuple[Path, Digest, os.stat_result]]:
        """The files that became stable, oldest first, each read in full (hashed) once."""
        now = self._clock()
        candidates: list[tuple[Path, os.stat_result]] = []
        with self._lock:
            for path, seen in list(self._seen.items()):
                try:
                    st = path.stat()
                except FileNotFoundError:
                    del self._seen[path]  # renamed away or deleted: a move event brings it back
                    continue
                except OSError:
                    continue
                if (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                    self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                    continue
                if now - seen.since >= self.stable_seconds:
                    candidates.append((path, st))
        out = []
        for path, st in sorted(candidates, key=lambda c: (c[1].st_mtime_ns, str(c[0]))):
            try:
                d = digest(path)
                after = path.stat()
            except OSError:
                self._restart(path)  # locked by the writer, or gone: look again later
                continue
            if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns) or (
                d.size != st.st_size
            ):
                self._restart(path)  # written to while we read it
                continue
            self.forget(path)
            out.append((path, d, after))
        return out

    def _restart(self, path: Path) -> None:
        with self._lock:
            if path in self._seen:
                self._seen[path] = _Seen(-1, -1, self._clock())
