"""The local log: a rotating file in the per-OS log folder (and stderr for ``run``).

No PHI and no key ever reach it: the code logs hashes (the first 12 hex of the SHA-256), queue
ids and capture ids - never a file name, a folder's contents or a DICOM tag - and a filter
reduces anything that looks like a device key to its public prefix, as a second line of
defence. Only the ``cuspide_bridge`` logger writes here (httpx's and watchdog's, which name
URLs and paths, do not).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from cuspide_bridge.config import redact

FORMAT = "%(asctime)s %(levelname)s %(message)s"


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def setup(log_file: Path, stderr: bool = False, level: int = logging.INFO) -> logging.Logger:
    log = logging.getLogger("cuspide_bridge")
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    log.setLevel(level)
    log.propagate = False
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    ]
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT))
        h.addFilter(Redact())
        log.addHandler(h)
    for noisy in ("httpx", "httpcore", "watchdog"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # pydicom logs the values it finds odd (a patient's name, a birth date): nothing of it
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    return log
