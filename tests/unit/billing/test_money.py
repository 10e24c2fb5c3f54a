"""The money rules of ADR 0501, with worked numbers chosen so that a different rule (banker's
rounding, rounding on the total, independent rounding of discount shares) gives another
result."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from chalicelib.billing import money
from chalicelib.billing.money import LineInput, MoneyError


def line(qty: str, price: str, rate: str = "0", kind=None, value: str = "0") -> LineInput:
    return LineInput(D(qty), D(price), D(rate), kind, D(value))


def amounts(a: money.LineAmounts) -> tuple[str, ...]:
    return tuple(
        money.fmt(x) for x in (a.gross, a.line_discount, a.global_discount, a.base, a.vat, a.total)
    )


# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [
        ("0.125", "0.13", "0.12"),
        ("2.665", "2.67", "2.66"),
        ("-0.125", "-0.13", "-0.12"),  # away from zero, also for negative (rectifying) lines
        ("10.004", "10.00", "10.00"),
    ],
)
def test_q2_rounds_half_up_not_half_even(value, half_up, half_even):
    assert str(money.q2(D(value))) == half_up
    assert str(D(value).quantize(D("0.01"))) == half_even  # what Decimal does by default


def test_gross_is_rounded_half_up_per_line():
    # 1.5 x 10.15 = 15.225 -> 15.23 (half-even would give 15.22)
    (a,), t = money.compute([line("1.5", "10.15")])
    assert amounts(a) == ("15.23", "0.00", "0.00", "15.23", "0.00", "15.23")
    assert t.total == D("15.23")


def test_vat_is_rounded_per_line_and_totals_are_sums_of_lines():
    # Three lines of 0.50 at 21%: 0.105 -> 0.11 each, 0.33 in all. Rounding the VAT of the
    # 1.50 total instead would give 0.315 -> 0.32.
    out, t = money.compute([line("1", "0.50", "21")] * 3)
    assert [money.fmt(a.vat) for a in out] == ["0.11", "0.11", "0.11"]
    assert (money.fmt(t.base), money.fmt(t.vat), money.fmt(t.total)) == ("1.50", "0.33", "1.83")


def test_vat_half_up_on_a_larger_base():
    # 150.50 x 21% = 31.605 -> 31.61
    (a,), _ = money.compute([line("1", "150.50", "21")])
    assert (money.fmt(a.vat), money.fmt(a.total)) == ("31.61", "182.11")


# --- line discounts ------------------------------------------------------------------------


def test_percent_discount_is_rounded_half_up_on_the_gross():
    # 12.5% of 10.60 = 1.325 -> 1.33; base 9.27; VAT 10% = 0.927 -> 0.93
    (a,), _ = money.compute([line("1", "10.60", "10", "percent", "12.5")])
    assert amounts(a) == ("10.60", "1.33", "0.00", "9.27", "0.93", "10.20")


def test_amount_discount_is_taken_as_given():
    # Endodoncia 180.00 - 20.00 = 160.00, exempt
    (a,), _ = money.compute([line("1", "180.00", "0", "amount", "20")])
    assert amounts(a) == ("180.00", "20.00", "0.00", "160.00", "0.00", "160.00")


def test_percent_discount_applies_to_quantity_times_price():
    # 3 x 45.00 = 135.00, 10% = 13.50
    (a,), _ = money.compute([line("3", "45.00", "0", "percent", "10")])
    assert (money.fmt(a.gross), money.fmt(a.line_discount), money.fmt(a.base)) == (
        "135.00",
        "13.50",
        "121.50",
    )


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("percent", "100.01", "cannot exceed 100"),
        ("amount", "50.01", "larger than the line"),
        ("amount", "-1", "cannot be negative"),
    ],
)
def test_impossible_line_discounts_are_refused(kind, value, message):
    with pytest.raises(MoneyError, match=message):
        money.compute([line("1", "50.00", "0", kind, value)])


def test_a_full_discount_is_allowed():
    (a,), _ = money.compute([line("1", "50.00", "21", "percent", "100")])
    assert (a.base, a.vat, a.total) == (D("0.00"), D("0.00"), D("0.00"))


# --- global discount -----------------------------------------------------------------------


def test_distribute_by_largest_remainder_ties_to_the_earlier_line():
    # 10.00 over three equal lines: 3.333... each; the leftover cent goes to the first.
    assert money.distribute(1000, [1000, 1000, 1000]) == [334, 333, 333]
    # 1.00 over 1.00 and 2.00: 33.33 / 66.67 -> the larger remainder (second) gets the cent.
    assert money.distribute(100, [100, 200]) == [33, 67]
    assert money.distribute(0, [5, 7]) == [0, 0]


def test_global_amount_discount_shares_add_up_exactly():
    out, t = money.compute(
        [line("1", "10.00"), line("1", "10.00"), line("1", "10.00")], "amount", D("10.00")
    )
    assert [money.fmt(a.global_discount) for a in out] == ["3.34", "3.33", "3.33"]
    assert [money.fmt(a.base) for a in out] == ["6.66", "6.67", "6.67"]
    assert (money.fmt(t.global_discount), money.fmt(t.base)) == ("10.00", "20.00")


def test_global_percent_discount_is_taken_after_line_discounts_and_shared_by_weight():
    # Lines worth 33.33 and 66.67 after their own discounts (the second: 70.00 - 3.33);
    # 7% of 100.00 = 7.00, shared 2.3331 / 4.6669 -> 2.33 / 4.67.
    out, t = money.compute(
        [line("1", "33.33"), line("1", "70.00", "21", "amount", "3.33")], "percent", D("7")
    )
    assert amounts(out[0]) == ("33.33", "0.00", "2.33", "31.00", "0.00", "31.00")
    # base 62.00, VAT 21% = 13.02
    assert amounts(out[1]) == ("70.00", "3.33", "4.67", "62.00", "13.02", "75.02")
    assert (money.fmt(t.discount), money.fmt(t.base), money.fmt(t.total)) == (
        "10.33",
        "93.00",
        "106.02",
    )


def test_global_discount_changes_the_vat_of_taxable_lines_only_by_their_share():
    # 10.01 over 40.50 (exempt), 300.00 (21%), 160.00 (exempt): 0.81 / 6.00 / 3.20.
    out, t = money.compute(
        [
            line("1", "45.00", "0", "percent", "10"),
            line("1", "300.00", "21"),
            line("1", "180.00", "0", "amount", "20"),
        ],
        "amount",
        D("10.01"),
    )
    assert [money.fmt(a.global_discount) for a in out] == ["0.81", "6.00", "3.20"]
    assert money.fmt(out[1].vat) == "61.74"  # 294.00 x 21%
    assert (money.fmt(t.base), money.fmt(t.vat), money.fmt(t.total)) == (
        "490.49",
        "61.74",
        "552.23",
    )


def test_global_discount_above_the_budget_is_refused():
    with pytest.raises(MoneyError, match="larger than the budget"):
        money.compute([line("1", "10.00")], "amount", D("10.01"))
    with pytest.raises(MoneyError, match="cannot exceed 100"):
        money.compute([line("1", "10.00")], "percent", D("101"))


# --- tax breakdown -------------------------------------------------------------------------


def _stored(amounts_: list[money.LineAmounts], rates: list[tuple[str, str]]) -> list[dict]:
    return [
        {"classification": c, "vat_rate": r, "base": money.fmt(a.base), "vat": money.fmt(a.vat)}
        for a, (c, r) in zip(amounts_, rates, strict=True)
    ]


def test_mixed_exempt_21_and_10_percent_breakdown():
    rates = [("E1", "0.00"), ("S1", "21.00"), ("S1", "10.00"), ("E1", "0.00"), ("S1", "21.00")]
    out, t = money.compute(
        [
            line("1", "60.00"),  # limpieza, exempt (LIVA art. 20.Uno.5º)
            line("1", "300.00", "21"),  # blanqueamiento: 63.00
            line("1", "12.25", "10"),  # 1.225 -> 1.23
            line("2", "45.00", "0", "percent", "10"),  # 2 empastes: 90.00 - 9.00
            line("1", "0.50", "21"),  # 0.105 -> 0.11
        ]
    )
    bd = money.breakdown(_stored(out, [(c, r) for c, r in rates]))
    assert bd == [
        {"classification": "E1", "rate": "0.00", "base": "141.00", "vat": "0.00"},
        {"classification": "S1", "rate": "10.00", "base": "12.25", "vat": "1.23"},
        {"classification": "S1", "rate": "21.00", "base": "300.50", "vat": "63.11"},
    ]
    # the breakdown adds up to the totals, to the cent
    assert sum(D(b["base"]) for b in bd) == t.base == D("453.75")
    assert sum(D(b["vat"]) for b in bd) == t.vat == D("64.34")
    assert t.total == D("518.09")


# --- parsing and printing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("45.50", "45.50"), ("45,50", "45.50"), ("1.234,56", "1234.56"), ("€ 12", "12"), (7, "7")],
)
def test_dec_reads_text_and_the_spanish_decimal_comma(text, expected):
    assert money.dec(text) == D(expected)


@pytest.mark.parametrize("bad", [1.5, True, "abc", "NaN", "Infinity", "1.001", ""])
def test_dec_refuses_floats_non_numbers_and_sub_cent_amounts(bad):
    with pytest.raises(MoneyError):
        money.dec(bad)


def test_cents_round_trip_and_canonical_text():
    assert money.cents(D("123.105")) == 12311
    assert money.from_cents(-2420) == D("-24.20")
    assert money.fmt(D("-0.00")) == "0.00" and money.fmt(12310) == "123.10"


def test_human_amounts_in_spanish_and_english():
    assert money.fmt_eur(D("1234567.5")) == "1.234.567,50 €"
    assert money.fmt_eur(-2420) == "-24,20 €"
    assert money.fmt_eur(D("1234.56"), "en") == "€1,234.56"


def test_part_of_a_line_is_rounded_half_up():
    # 1 of 3 units of a 100.00 line: 33.333 -> 33.33; 2 of 8 of 0.10: 0.025 -> 0.03
    assert money.part_of(D("100.00"), D(1), D(3)) == D("33.33")
    assert money.part_of(D("0.10"), D(2), D(8)) == D("0.03")
