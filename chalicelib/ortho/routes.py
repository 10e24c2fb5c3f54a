"""Routes of the ortho module."""

from __future__ import annotations

from chalicelib.core.api import Router

router = Router("ortho")
