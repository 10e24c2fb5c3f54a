"""Money arithmetic for billing: ``Decimal`` only, half-up rounding to cents per line.

How a line is computed (ADR 0501), always in this order and rounded at each printed step:

1. ``gross = round(quantity * unit_price)``
2. ``line_discount = round(gross * percent / 100)`` or the given amount (never above gross)
3. the global discount (percent of the sum after line discounts, or an amount) is distributed
   over the lines in proportion to what each line is worth after its own discount, in whole
   cents, by the largest-remainder method: the shares add up to the global discount exactly
4. ``base = gross - line_discount - global_share``
5. ``vat = round(base * rate / 100)`` (0 for exempt lines)
6. ``total = base + vat``

Totals are the sums of the rounded lines, so what the PDF prints adds up to the cent. The tax
breakdown groups lines by (classification, rate) and sums their bases and VAT.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from chalicelib.core.i18n import tr

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

DiscountKind = Literal["percent", "amount"]


class MoneyError(ValueError):
    """A money input or discount the API refuses; its message is ``tr(english, spanish)``."""

    def __str__(self) -> str:
        # The message itself (not a plain copy), so ``str(exc)`` passed on as a field error
        # keeps its Spanish wording (docs/adr/0009).
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


def q2(value: Decimal) -> Decimal:
    """Round half-up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


MAX_AMOUNT = Decimal("99999999.99")
"""The largest amount (price, cost, unit price, discount, payment) the API takes, in absolute
value; money has at most 2 decimals. Up to 1000 units of it on each of 200 lines stays far
inside Decimal's 28 digits, so the arithmetic below never overflows (docs/api.md)."""
MAX_QUANTITY = Decimal(1000)
"""The largest quantity of a line, in absolute value (at most 2 decimals)."""
MAX_RATE = HUNDRED
"""A VAT rate is a percentage."""

# ASCII digits only: Decimal() and int() also read other scripts' digits ("٣", "１０") and
# exponents ("1E+400"), which an amount typed by a person never has.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _not_a_number(field: str) -> MoneyError:
    return MoneyError(
        tr(
            f"{field}: not a number (use the digits 0-9, e.g. 45.50)",
            f"{field}: no es un número (usa las cifras 0-9, p. ej. 45,50)",
        )
    )


def dec(
    value: Any, *, places: int = 2, field: str = "amount", limit: Decimal = MAX_AMOUNT
) -> Decimal:
    """A Decimal from text/int/Decimal (never float), with at most ``places`` decimals and at
    most ``limit`` in absolute value. Text is plain ASCII digits with an optional sign and
    decimal point; a Spanish decimal comma ("45,50", "1.234,50") and a "€" are read."""
    if isinstance(value, float):
        raise MoneyError(
            tr(
                f"{field}: send money as a string or integer, not a float",
                f"{field}: envía el importe como texto o como entero, no como float",
            )
        )
    if isinstance(value, bool):
        raise _not_a_number(field)
    if isinstance(value, str):
        text = value.strip().replace("€", "").strip()
        if "," in text and "." in text:
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", ".")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise _not_a_number(field)
        value = text
    elif not isinstance(value, int | Decimal):
        raise _not_a_number(field)
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise _not_a_number(field) from exc
    if not d.is_finite():
        raise _not_a_number(field)
    if d.as_tuple().exponent < -places:  # type: ignore[operator]
        raise MoneyError(
            tr(f"{field}: at most {places} decimals", f"{field}: como mucho {places} decimales")
        )
    if d > limit:
        raise MoneyError(tr(f"{field}: at most {limit}", f"{field}: como mucho {limit}"))
    if d < -limit:
        raise MoneyError(tr(f"{field}: at least -{limit}", f"{field}: como mínimo -{limit}"))
    return d


def cents(value: Decimal) -> int:
    return int((q2(value) * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def fmt(value: Decimal | int) -> str:
    """Canonical text of an amount: "123.10", "-24.20" (the VERI*FACTU form)."""
    d = from_cents(value) if isinstance(value, int) else q2(value)
    if d == 0:
        d = ZERO
    return f"{d:.2f}"


def fmt_rate(value: Decimal) -> str:
    return f"{Decimal(value).quantize(CENT):.2f}"


def fmt_eur(value: Decimal | int, lang: str = "es") -> str:
    """Human text: "1.234,56 €" (es) or "€1,234.56" (en)."""
    d = from_cents(value) if isinstance(value, int) else q2(value)
    sign = "-" if d < 0 else ""
    whole, frac = f"{abs(d):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    if lang == "en":
        return f"{sign}€{','.join(groups)}.{frac}"
    return f"{sign}{'.'.join(groups)},{frac} €"


def fmt_qty(value: Decimal) -> str:
    d = Decimal(value).normalize()
    return f"{d:f}"


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    rate: Decimal = ZERO
    discount_kind: DiscountKind | None = None
    discount_value: Decimal = ZERO


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    line_discount: Decimal
    global_discount: Decimal
    base: Decimal
    vat: Decimal
    total: Decimal

    @property
    def discount(self) -> Decimal:
        return self.line_discount + self.global_discount


@dataclass(frozen=True)
class Totals:
    gross: Decimal
    discount: Decimal
    global_discount: Decimal
    base: Decimal
    vat: Decimal
    total: Decimal


_NEGATIVE_DISCOUNT = tr("a discount cannot be negative", "un descuento no puede ser negativo")
_PERCENT_ABOVE_100 = tr(
    "a percent discount cannot exceed 100", "un descuento en porcentaje no puede pasar de 100"
)


def line_discount(gross: Decimal, kind: DiscountKind | None, value: Decimal) -> Decimal:
    if kind is None or value == 0:
        return ZERO
    if value < 0:
        raise MoneyError(_NEGATIVE_DISCOUNT)
    if kind == "percent":
        if value > HUNDRED:
            raise MoneyError(_PERCENT_ABOVE_100)
        return q2(gross * value / HUNDRED)
    if gross >= 0 and value > gross:
        raise MoneyError(
            tr("the discount is larger than the line", "el descuento es mayor que la línea")
        )
    return q2(value)


def distribute(total_cents: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` (cents), largest remainder first;
    ties go to the earlier line. The result adds up to ``total_cents`` exactly."""
    if total_cents == 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    if whole <= 0:
        raise MoneyError(
            tr(
                "a global discount needs lines with a positive amount",
                "un descuento global necesita líneas con importe positivo",
            )
        )
    if total_cents > whole:
        raise MoneyError(
            tr(
                "the global discount is larger than the budget",
                "el descuento global es mayor que el presupuesto",
            )
        )
    shares, remainders = [], []
    for i, w in enumerate(weights):
        exact = Decimal(total_cents) * Decimal(w) / Decimal(whole)
        floor = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        shares.append(floor)
        remainders.append((exact - floor, -i))
    left = total_cents - sum(shares)
    for _, neg_i in sorted(remainders, reverse=True)[:left]:
        shares[-neg_i] += 1
    return shares


def compute(
    lines: Sequence[LineInput],
    global_kind: DiscountKind | None = None,
    global_value: Decimal = ZERO,
) -> tuple[list[LineAmounts], Totals]:
    grosses = [q2(ln.quantity * ln.unit_price) for ln in lines]
    line_discounts = [
        line_discount(g, ln.discount_kind, ln.discount_value)
        for g, ln in zip(grosses, lines, strict=True)
    ]
    after = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    subtotal = sum(after, ZERO)
    global_total = ZERO
    if global_kind is not None and global_value:
        if global_value < 0:
            raise MoneyError(_NEGATIVE_DISCOUNT)
        if global_kind == "percent":
            if global_value > HUNDRED:
                raise MoneyError(_PERCENT_ABOVE_100)
            global_total = q2(subtotal * global_value / HUNDRED)
        else:
            global_total = q2(global_value)
    shares = [from_cents(s) for s in distribute(cents(global_total), [cents(a) for a in after])]
    out = []
    for ln, g, d, a, s in zip(lines, grosses, line_discounts, after, shares, strict=True):
        base = a - s
        vat = q2(base * ln.rate / HUNDRED)
        out.append(LineAmounts(g, d, s, base, vat, base + vat))
    return out, totals(out)


def totals(amounts: Sequence[LineAmounts]) -> Totals:
    return Totals(
        gross=sum((a.gross for a in amounts), ZERO),
        discount=sum((a.discount for a in amounts), ZERO),
        global_discount=sum((a.global_discount for a in amounts), ZERO),
        base=sum((a.base for a in amounts), ZERO),
        vat=sum((a.vat for a in amounts), ZERO),
        total=sum((a.total for a in amounts), ZERO),
    )


def breakdown(lines: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The tax breakdown: per (classification, rate), the sums of the lines' bases and VAT,
    exempt first. ``lines`` are stored lines (amounts as canonical text)."""
    groups: dict[tuple[str, str], list[Decimal]] = {}
    for ln in lines:
        g = groups.setdefault((ln["classification"], ln["vat_rate"]), [ZERO, ZERO])
        g[0] += Decimal(ln["base"])
        g[1] += Decimal(ln["vat"])
    return [
        {"classification": c, "rate": r, "base": fmt(b), "vat": fmt(v)}
        for (c, r), (b, v) in sorted(groups.items(), key=lambda kv: (Decimal(kv[0][1]), kv[0][0]))
    ]


def vat_of(base: Decimal, rate: Decimal) -> Decimal:
    return q2(base * rate / HUNDRED)


def part_of(amount: Decimal, quantity: Decimal, of_quantity: Decimal) -> Decimal:
    """The share of ``amount`` that ``quantity`` of ``of_quantity`` units is worth, rounded."""
    if of_quantity == 0:
        return ZERO
    return q2(amount * quantity / of_quantity)
