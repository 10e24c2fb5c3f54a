"""Routes of the labs module."""

from __future__ import annotations

from chalicelib.core.api import Router

router = Router("labs")
