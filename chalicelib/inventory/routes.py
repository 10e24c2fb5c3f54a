"""Routes of the inventory module."""

from __future__ import annotations

from chalicelib.core.api import Router

router = Router("inventory")
