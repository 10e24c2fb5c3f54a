"""The chart's vocabulary: surfaces, spans, scopes and the dentition by age."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.charting import codes


def test_surface_aliases_and_order():
    assert codes.normalise_surfaces(["b", "I", "m", "P", "r"]) == ["M", "O", "V", "L", "R"]
    with pytest.raises(ValueError):
        codes.normalise_surfaces(["X"])


@pytest.mark.parametrize(
    ("teeth", "ok"),
    [
        ([14, 15, 16], True),
        ([11, 21], True),  # across the midline, same arch
        ([16, 14], False),
        ([11, 41], False),
        ([36], False),
        ([54, 53], True),
        ([19, 18], False),
    ],
)
def test_spans(teeth, ok):
    assert (codes.span_problem(teeth) is None) is ok


def test_placement_by_code():
    assert codes.placement_problem("caries", 36, [], ["O"]) is None
    assert codes.placement_problem("caries", 36, [], [])[0] == "surfaces"
    assert codes.placement_problem("crown", 36, [], ["O"])[0] == "surfaces"
    assert codes.placement_problem("fracture", 11, [], ["R"]) is None
    assert codes.placement_problem("bridge", None, [34, 35, 36], []) is None
    assert codes.placement_problem("missing", 99, [], [])[0] == "tooth"


def test_regions():
    assert codes.region_problem("sextant", None, [], 2, None) is None
    assert codes.region_problem("sextant", None, [], None, None)[0] == "sextant"
    assert codes.region_problem("quadrant", None, [], None, 2) is None
    assert codes.region_problem("mouth", None, [], None, 2)[0] == "quadrant"
    assert codes.region_problem("surface", 36, [], None, None)[0] == "surfaces"
    assert codes.region_teeth("sextant", None, 2, None) == [11, 12, 13, 21, 22, 23]
    assert codes.region_teeth("quadrant", None, None, 4)[-1] == 48
    # every permanent and deciduous tooth is in exactly one sextant
    for t in codes.TEETH:
        assert sum(t in s for s in codes.SEXTANTS.values()) == 1, t


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        ("2022-06-01", "deciduous"),
        ("2018-01-01", "mixed"),
        ("2000-01-01", "permanent"),
        (None, "permanent"),
        ("garbage", "permanent"),
    ],
)
def test_dentition_by_age(dob, expected):
    assert codes.dentition_for(dob, date(2026, 12, 3)) == expected
