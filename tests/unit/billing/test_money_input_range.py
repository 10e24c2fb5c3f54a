"""What ``money.dec`` accepts as an amount typed by a person: ASCII digits, a sign, a decimal
point or Spanish comma, at most 2 decimals and at most 99,999,999.99 in absolute value.

``Decimal()`` alone reads "1E+400" (whose quantize to cents raised ``InvalidOperation``: a 500)
and other scripts' digits ("٣" is 3, "１０" is 10), which an amount never has."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from chalicelib.billing import money, schemas
from chalicelib.billing.money import MoneyError


@pytest.mark.parametrize(
    "bad",
    [
        "1E+400",
        "1e2",
        "1E-2",
        "٣",  # ARABIC-INDIC DIGIT THREE
        "１０",  # FULLWIDTH DIGITS
        "४५.५०",  # DEVANAGARI
        "4٥",
        "1_000",
        "0x10",
        "+-1",
        "1 000",
        None,
        [],
        {},
    ],
)
def test_dec_refuses_exponents_non_ascii_digits_and_non_numbers(bad):
    with pytest.raises(MoneyError, match="not a number"):
        money.dec(bad)


@pytest.mark.parametrize(
    "too_big", [10**40, "1" + "0" * 40, "100000000", "100000000.00", D("1E+30"), -(10**9)]
)
def test_dec_refuses_amounts_beyond_the_range(too_big):
    with pytest.raises(MoneyError, match="at (most|least)"):
        money.dec(too_big)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("99999999.99", "99999999.99"),
        ("-99999999.99", "-99999999.99"),
        ("99.999.999,99", "99999999.99"),
        (99_999_999, "99999999"),
        ("+5", "5"),
        ("5.", "5"),
        (".5", "0.5"),
        (" 45,50 € ", "45.50"),
        (D("12.30"), "12.30"),
    ],
)
def test_dec_takes_the_whole_range(text, expected):
    assert money.dec(text) == D(expected)


def test_quantities_and_rates_have_their_own_limits():
    assert money.dec("1000", field="quantity", limit=money.MAX_QUANTITY) == 1000
    with pytest.raises(MoneyError, match="quantity: at most 1000"):
        money.dec("1000.01", field="quantity", limit=money.MAX_QUANTITY)
    with pytest.raises(MoneyError, match="rate: at most 100"):
        money.dec("100.5", field="rate", limit=money.MAX_RATE)


def test_the_range_keeps_every_computation_exact():
    """The worst budget the schemas allow (200 lines of 1000 x 99,999,999.99 at 21%, 100%
    discounts aside) computes without overflow or InvalidOperation."""
    top = money.LineInput(money.MAX_QUANTITY, money.MAX_AMOUNT, D(21))
    out, totals = money.compute([top] * 200, "amount", money.MAX_AMOUNT)
    assert len(out) == 200
    assert totals.global_discount == money.MAX_AMOUNT
    assert totals.total == totals.base + totals.vat == sum(a.total for a in out)
    assert money.cents(totals.total) > 2 * 10**15  # about 24 billion euros, to the cent


def test_the_messages_have_their_spanish_wording():
    with pytest.raises(MoneyError) as err:
        money.dec("٣", field="price")
    assert err.value.args[0].es.startswith("price: no es un número")
    with pytest.raises(MoneyError) as err:
        money.dec("100000000", field="price")
    assert err.value.args[0].es == "price: como mucho 99999999.99"


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (schemas.TreatmentIn, {"code": "A", "name_es": "Ab", "price": "1E+400"}, "price"),
        (schemas.TreatmentIn, {"code": "A", "name_es": "Ab", "price": "１０"}, "price"),
        (schemas.TreatmentIn, {"code": "A", "name_es": "Ab", "price": 0, "cost": "٣"}, "cost"),
        (schemas.TreatmentUpdate, {"price": 10**40}, "price"),
        (
            schemas.VatTypeIn,
            {"code": "X1", "name_es": "Ab", "name_en": "Ab", "rate": "٢١", "classification": "S1"},
            "rate",
        ),
        (
            schemas.VatTypeIn,
            {
                "code": "X1",
                "name_es": "Ab",
                "name_en": "Ab",
                "rate": "1E+3",
                "classification": "S1",
            },
            "rate",
        ),
        (schemas.BudgetLineIn, {"treatment_id": "t", "unit_price": "1" + "0" * 40}, "unit_price"),
        (schemas.BudgetLineIn, {"treatment_id": "t", "quantity": "٣"}, "quantity"),
        (schemas.Discount, {"kind": "amount", "value": "1E+400"}, "value"),
        (schemas.InvoiceLineIn, {"unit_price": "-1E+40"}, "unit_price"),
        (schemas.InvoiceLineIn, {"quantity": "-1001"}, "quantity"),
        (schemas.BudgetLinePick, {"line_id": "l", "quantity": "１"}, "quantity"),
        (schemas.PaymentIn, {"amount": "٣", "method": "cash"}, "amount"),
        (schemas.PaymentIn, {"amount": 10**40, "method": "cash"}, "amount"),
        (schemas.RefundIn, {"amount": "1E+400", "method": "cash"}, "amount"),
    ],
)
def test_every_amount_field_of_the_billing_schemas_is_checked(model, body, field):
    with pytest.raises(ValidationError) as err:
        model.model_validate(body)
    assert [e["loc"][-1] for e in err.value.errors()] == [field]
