"""chalicelib.core.lazy: a module named now and imported on first use (issue 23)."""

from __future__ import annotations

import sys

import pytest

from chalicelib.core.lazy import lazy_module


def test_imports_on_first_attribute_and_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    colorsys = lazy_module("colorsys")
    assert "colorsys" not in sys.modules  # naming it loads nothing
    assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules
    assert "rgb_to_hsv" in vars(colorsys)  # later reads are plain attribute lookups
    assert "colorsys" in repr(colorsys)


def test_a_missing_attribute_is_an_attribute_error() -> None:
    mod = lazy_module("colorsys")
    with pytest.raises(AttributeError):
        mod.no_such_name  # noqa: B018
