"""The API's request logs survive Chalice: its own log setup must not silence the shared logger.

Chalice sets the logger named after the app ("cuspide", the Powertools service) to ERROR unless it
finds a handler on the current ``sys.stdout``; under pytest's capture or any redirected stdout it
did not, and every INFO request log vanished. Run in a fresh interpreter so import order is real.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import io, logging, sys
from chalicelib.core.observability import logger
sys.stdout = io.StringIO()  # stdout changes between the two imports, as under pytest
import app
sys.stdout = sys.__stdout__
print(logging.getLevelName(logger._logger.getEffectiveLevel()))
"""


def test_importing_the_app_keeps_the_request_log_level():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "INFO"
