"""Local configuration: where things live on this PC, the API URL, the key and the folders.

Everything sits in the per-user folders of the OS (platformdirs), or under one folder named by
``CUSPIDE_BRIDGE_HOME`` (or ``--home``), which is what a service account uses:

- config: ``config.json`` (API URL, folders, patterns, overrides) and ``device.key`` (the API
  key alone, created with mode 0600 - on Windows the per-user profile's ACL protects it);
- state: ``queue.sqlite3`` (the durable queue), the ZIP spool, the worker lock;
- log: ``cuspide-bridge.log`` (rotating, no PHI).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

APP = "cuspide-bridge"
HOME_ENV = "CUSPIDE_BRIDGE_HOME"
KEY_ENV = "CUSPIDE_BRIDGE_KEY"
KEY_RE = re.compile(r"^cbk_[a-z2-7]{12}\.[A-Za-z0-9_-]{20,}$")
KEY_IN_TEXT = re.compile(r"cbk_[A-Za-z0-9]+(?:\.[A-Za-z0-9_-]*)?")

# What sensor software saves: JPEG/PNG/TIFF radiographs, DICOM (often without an extension in
# some exports: add "*" to the patterns for those), and ZIPs of a study as labs send them.
DEFAULT_PATTERNS = [
    "*.jpg",
    "*.jpeg",
    "*.png",
    "*.tif",
    "*.tiff",
    "*.webp",
    "*.dcm",
    "*.dicom",
    "*.zip",
]
# Never uploaded, whatever the patterns: partial downloads, editors' and Office's temp files,
# hidden files and the OS's own.
IGNORED_PATTERNS = [
    ".*",
    "~*",
    "*~",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    "*.lock",
    "*.swp",
    "thumbs.db",
    "desktop.ini",
]
DEFAULT_STABLE_SECONDS = 2.0
DEFAULT_HEARTBEAT_SECONDS = 60.0
DEFAULT_RESCAN_SECONDS = 300.0


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    state_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def key_file(self) -> Path:
        return self.config_dir / "device.key"

    @property
    def db_file(self) -> Path:
        return self.state_dir / "queue.sqlite3"

    @property
    def spool_dir(self) -> Path:
        return self.state_dir / "spool"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "worker.lock"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "cuspide-bridge.log"

    def ensure(self) -> Paths:
        for d in (self.config_dir, self.state_dir, self.log_dir, self.spool_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """The folders of this installation: ``home`` (or $CUSPIDE_BRIDGE_HOME) when given, else the
    OS's per-user folders."""
    base = home or os.environ.get(HOME_ENV)
    if base:
        root = Path(base).expanduser().resolve()
        return Paths(root / "config", root / "state", root / "log")
    return Paths(
        Path(platformdirs.user_config_dir(APP, appauthor=False)),
        Path(platformdirs.user_state_dir(APP, appauthor=False)),
        Path(platformdirs.user_log_dir(APP, appauthor=False)),
    )


@dataclass
class Config:
    api_url: str = ""
    folders: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)  # empty: the server's, else the defaults
    stable_seconds: float | None = None  # None: the server's, else DEFAULT_STABLE_SECONDS
    recursive: bool = True
    polling_observer: bool = False  # network shares where native events never arrive
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    rescan_seconds: float = DEFAULT_RESCAN_SECONDS  # a safety net only; events come first

    @classmethod
    def load(cls, p: Paths) -> Config:
        try:
            raw = json.loads(p.config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, p: Paths) -> None:
        p.config_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(p.config_file, json.dumps(asdict(self), indent=2).encode(), mode=0o644)


def normalise_api_url(url: str) -> str:
    """``http://host:8000`` or ``https://api.example/api/v1/`` -> ``.../api/v1``."""
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://", url):
        raise ValueError("the API URL must start with http:// or https://")
    if not url.endswith("/api/v1"):
        url += "/api/v1"
    return url


def valid_key(key: str) -> bool:
    return bool(KEY_RE.match(key.strip()))


def mask_key(key: str | None) -> str:
    """What may be shown of a key: its public prefix, never the secret."""
    if not key:
        return "(none)"
    prefix = key.split(".", 1)[0]
    return f"{prefix}.****" if prefix.startswith("cbk_") else "****"


def redact(text: str) -> str:
    """Any key-looking token in ``text`` reduced to its prefix."""
    return KEY_IN_TEXT.sub(lambda m: mask_key(m.group(0)), text)


def save_key(p: Paths, key: str) -> None:
    p.config_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(p.key_file, key.strip().encode() + b"\n", mode=0o600)


def load_key(p: Paths) -> str | None:
    env = os.environ.get(KEY_ENV)
    if env:
        return env.strip()
    try:
        return p.key_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write a sibling temp file created with ``mode`` (so a key is never readable by others,
    not even for an instant), fsync it, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mkstemp: 0600 already
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # Windows: only the read-only bit exists
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
