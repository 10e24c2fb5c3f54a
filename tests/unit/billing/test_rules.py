"""Spanish rules (ADR 0503): F1/F2, rectifying types, VAT classifications; and the FDI tooth
and surface rules of budget lines."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from chalicelib.billing import rules, schemas

# --- F1 / F2 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "tax_id", "art4_2", "expected"),
    [
        ("400.00", None, False, "F2"),  # art. 4.1.a: up to 400 €, VAT included
        ("400.01", None, False, "F1"),
        ("0.01", None, False, "F2"),
        ("60.00", "12345678Z", False, "F1"),  # a customer with a tax id: full invoice
        ("3000.00", None, True, "F2"),  # art. 4.2 operation: up to 3,000 €
        ("3000.01", None, True, "F1"),
        ("401.00", "B12345674", True, "F1"),
    ],
)
def test_full_or_simplified(total, tax_id, art4_2, expected):
    assert rules.invoice_type(D(total), tax_id, art4_2=art4_2) == expected


def test_an_empty_tax_id_counts_as_none():
    assert rules.invoice_type(D("100"), "") == "F2"


@pytest.mark.parametrize(
    ("original", "code", "expected"),
    [("F2", "R1", "R5"), ("R5", "R4", "R5"), ("F1", "R1", "R1"), ("F1", "R4", "R4")],
)
def test_rectifying_type(original, code, expected):
    assert rules.rectifying_type(original, code) == expected


def test_spanish_default_vat_types():
    d = rules.DEFAULT_VAT_TYPES
    assert d["EXENTO_SANITARIO"][2:] == (D("0"), "E1")  # LIVA art. 20.Uno.5º
    assert d["IVA21"][2:] == (D("21"), "S1")
    assert d["IVA10"][2:] == (D("10"), "S1")
    assert d["IVA4"][2:] == (D("4"), "S1")
    assert rules.DEFAULT_VAT_CODE == "EXENTO_SANITARIO"


@pytest.mark.parametrize(
    ("classification", "rate", "ok"),
    [
        ("S1", "21", True),
        ("S1", "0", False),  # taxable needs a rate
        ("E1", "0", True),
        ("E1", "21", False),  # exempt carries no VAT
        ("N1", "0", True),
        ("N2", "10", False),
        ("S2", "0", True),  # reverse charge: the customer pays the VAT
        ("S2", "21", False),
    ],
)
def test_classification_and_rate_must_agree(classification, rate, ok):
    assert (rules.classification_ok(classification, D(rate)) is None) is ok


# --- FDI teeth and surfaces ----------------------------------------------------------------


def test_fdi_teeth():
    assert len(rules.PERMANENT_TEETH) == 32 and len(rules.DECIDUOUS_TEETH) == 20
    for tooth in (11, 18, 21, 28, 31, 38, 41, 48, 51, 55, 61, 65, 71, 75, 81, 85):
        assert tooth in rules.TEETH
    for tooth in (0, 9, 10, 19, 20, 29, 39, 49, 50, 56, 59, 60, 86, 90, 91, 111):
        assert tooth not in rules.TEETH


@pytest.mark.parametrize(
    ("scope", "tooth", "surfaces", "problem"),
    [
        ("tooth", 36, [], None),
        ("tooth", 74, [], None),  # deciduous lower left first molar
        ("surface", 36, ["O", "D"], None),
        ("mouth", None, [], None),
        ("tooth", None, [], "give the tooth"),
        ("tooth", 19, [], "not an FDI tooth"),
        ("tooth", 56, [], "not an FDI tooth"),
        ("surface", 36, [], "at least one surface"),
        ("surface", None, ["O"], "give the tooth"),
        ("tooth", 36, ["O"], "surfaces only apply"),
        ("mouth", 11, [], "whole mouth"),
    ],
)
def test_placement_fits_the_treatment_scope(scope, tooth, surfaces, problem):
    got = rules.check_placement(scope, tooth, surfaces)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def test_surfaces_accept_aliases_dedupe_and_sort_mesial_to_lingual():
    assert rules.normalise_surfaces(["l", "B", "o", "M", "d", "O"]) == ["M", "O", "D", "V", "L"]
    assert rules.normalise_surfaces(["P"]) == ["L"]  # palatal is the upper lingual face
    assert rules.normalise_surfaces(["I"]) == ["O"]  # incisal edge of an anterior tooth
    with pytest.raises(ValueError, match="unknown surface 'X'"):
        rules.normalise_surfaces(["O", "X"])


def test_budget_line_schema_normalises_surfaces_and_refuses_unknown_ones():
    ln = schemas.BudgetLineIn(treatment_id="t", tooth=46, surfaces=["b", "o"])
    assert ln.surfaces == ["O", "V"] and ln.quantity == D(1)
    with pytest.raises(ValidationError) as exc:
        schemas.BudgetLineIn(treatment_id="t", tooth=46, surfaces=["Z"])
    assert exc.value.errors()[0]["loc"] == ("surfaces",)


@pytest.mark.parametrize(
    "body",
    [
        {"treatment_id": "t", "quantity": "0"},
        {"treatment_id": "t", "quantity": 1.5},  # floats cannot hold cents exactly
        {"treatment_id": "t", "unit_price": "-1"},
        {"treatment_id": "t", "unit_price": "10.001"},
        {"treatment_id": "t", "discount": {"kind": "percent", "value": "-5"}},
        {"treatment_id": "t", "discount": {"kind": "gift", "value": "5"}},
    ],
)
def test_budget_line_schema_refuses_bad_numbers(body):
    with pytest.raises(ValidationError):
        schemas.BudgetLineIn.model_validate(body)
