"""A module imported on first use, for heavy libraries that only a few requests need.

The API is one Lambda: everything ``app.py`` imports is paid on every cold start, whichever
route the request is for (issue 23: importing the API must stay within 1.5x a bare Chalice app).
lxml is needed only to build or read VERI*FACTU XML (an AEAT submission, the XML books, an
archive copy), so the modules that use it name it through :func:`lazy_module` and the library
loads the first time one of its attributes is read. Type checkers see the real module: import
it under ``TYPE_CHECKING`` beside the lazy name.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    """Stands in for a module until an attribute is read; then imports it once and keeps each
    attribute read on itself, so later reads cost a plain attribute lookup."""

    def __init__(self, name: str) -> None:
        self._lazy_name = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self._lazy_name)

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._module(), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._lazy_name!r}>"


def lazy_module(name: str) -> Any:
    """``name`` (a dotted module path), imported when one of its attributes is first read."""
    return _LazyModule(name)
