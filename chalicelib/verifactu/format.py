"""Canonical text of VERI*FACTU values (amounts, dates, generation timestamp).

Every value that goes into a record is turned into its AEAT text exactly once, here, and the
record keeps that text: the huella, the XML and the QR all read the same string.

Sources (see docs/adr/0201-verifactu-core.md):
- amounts: ``ImporteSgn12.2Type`` in SuministroInformacion.xsd (``(\\+|-)?\\d{1,12}(\\.\\d{0,2})?``)
  and "Valores permitidos en campos numéricos" (AEAT_descripcion_servicio_web 6.8: no leading
  zeros, trailing decimal zeros only express precision). We always write two decimals with a
  ``.`` separator ("123.10"), which the huella document (section 3) declares equivalent to
  "123.1".
- dates: ``fecha`` type (``\\d{2}-\\d{2}-\\d{4}``), dd-mm-yyyy.
- ``FechaHoraHusoGenRegistro``: ``YYYY-MM-DDThh:mm:ssTZD`` (DsRegistro, e.g.
  ``2024-01-01T19:20:30+01:00``) in the time zone the system uses when it generates the record,
  which for a Spanish issuer is the legal time of the territory the invoice is issued from
  (Orden HAC/1177/2024 art. 7.e and 7.g): ``spanish_time_zone`` (ADR 0207).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AMOUNT_RE",
    "FECHA_HORA_HUSO_RE",
    "FECHA_RE",
    "RATE_RE",
    "format_amount",
    "format_fecha",
    "format_fecha_hora_huso",
    "format_rate",
    "parse_amount",
    "parse_fecha",
    "parse_fecha_hora_huso",
    "SPANISH_TIME_ZONES",
    "spanish_time_zone",
]

_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("999999999999.99")  # 12 integer digits (ImporteSgn12.2Type)
_MAX_RATE = Decimal("999.99")  # 3 integer digits (Tipo2.2Type)

#: Canonical amount text produced by :func:`format_amount` (a subset of ImporteSgn12.2Type).
AMOUNT_RE = re.compile(r"^-?(0|[1-9]\d{0,11})\.\d{2}$")
#: Canonical rate text produced by :func:`format_rate` (a subset of Tipo2.2Type).
RATE_RE = re.compile(r"^(0|[1-9]\d{0,2})\.\d{2}$")
#: dd-mm-yyyy (``fecha`` in SuministroInformacion.xsd).
FECHA_RE = re.compile(r"^\d{2}-\d{2}-\d{4}$")
#: Whole seconds with an explicit ``±hh:mm`` offset, as in the AEAT examples.
FECHA_HORA_HUSO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        # float is refused on purpose: money is never binary floating point.
        raise TypeError(f"amount must be Decimal, int or str, not {type(value).__name__}")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _exact_cents(number: Decimal, original: object) -> Decimal:
    cents = number.quantize(_CENT)
    if cents != number:
        # Rounding belongs to billing; silently rounding here would make the record disagree
        # with the invoice it describes.
        raise ValueError(f"{original!r} has more than two decimals; round it before recording")
    return cents


def format_amount(value: Decimal | int | str) -> str:
    """Return the AEAT text of an amount: sign if negative, two decimals, ``.`` separator.

    ``Decimal("123.1") -> "123.10"``, ``-5 -> "-5.00"``, ``Decimal("-0") -> "0.00"``.
    Raises ``ValueError`` for more than two decimals or more than 12 integer digits and
    ``TypeError`` for floats.
    """
    cents = _exact_cents(_to_decimal(value), value)
    if abs(cents) > _MAX_AMOUNT:
        raise ValueError(f"{value!r} exceeds 12 integer digits")
    if cents == 0:
        cents = abs(cents)  # never write "-0.00"
    return f"{cents:.2f}"


def parse_amount(text: str) -> Decimal:
    """Inverse of :func:`format_amount` for canonical text (used to check sums)."""
    if not AMOUNT_RE.match(text):
        raise ValueError(f"not a canonical amount: {text!r}")
    return Decimal(text)


def format_rate(value: Decimal | int | str) -> str:
    """Return the AEAT text of a percentage (TipoImpositivo, TipoRecargoEquivalencia).

    ``21 -> "21.00"``, ``Decimal("5.2") -> "5.20"``. Rates are never negative (Tipo2.2Type).
    """
    cents = _exact_cents(_to_decimal(value), value)
    if cents < 0 or cents > _MAX_RATE:
        raise ValueError(f"rate out of range: {value!r}")
    return f"{abs(cents):.2f}"


def format_fecha(value: date) -> str:
    """``date(2024, 1, 1) -> "01-01-2024"`` (dd-mm-yyyy, zero padded)."""
    if isinstance(value, datetime):
        raise TypeError("pass a date, not a datetime: the day depends on the time zone")
    if not isinstance(value, date):
        raise TypeError(f"expected a date, not {type(value).__name__}")
    return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"


def parse_fecha(text: str) -> date:
    """``"01-01-2024" -> date(2024, 1, 1)``; raises ``ValueError`` on anything else."""
    if not FECHA_RE.match(text):
        raise ValueError(f"not a dd-mm-yyyy date: {text!r}")
    day, month, year = (int(part) for part in text.split("-"))
    return date(year, month, day)


def format_fecha_hora_huso(moment: datetime, time_zone: str) -> str:
    """Return ``FechaHoraHusoGenRegistro`` for ``moment`` seen from the clinic's IANA zone.

    ``moment`` must be timezone-aware. Sub-second precision is dropped (truncated, so the
    text never claims a later instant than the real one) and the offset is written as
    ``±hh:mm``: ``2024-01-01T18:20:30.9Z`` in ``Europe/Madrid`` gives
    ``"2024-01-01T19:20:30+01:00"``.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone: {time_zone!r}") from exc
    local = moment.astimezone(zone).replace(microsecond=0)
    offset = local.utcoffset()
    if offset is None or offset % timedelta(minutes=1):
        raise ValueError(f"{time_zone!r} has no whole-minute UTC offset at {moment.isoformat()}")
    text = local.isoformat(timespec="seconds")
    if not FECHA_HORA_HUSO_RE.match(text):  # pragma: no cover - guarded by the checks above
        raise ValueError(f"unexpected timestamp text: {text!r}")
    return text


def parse_fecha_hora_huso(text: str) -> datetime:
    """Parse the canonical ``FechaHoraHusoGenRegistro`` text into an aware datetime."""
    if not FECHA_HORA_HUSO_RE.match(text):
        raise ValueError(f"not a YYYY-MM-DDThh:mm:ss±hh:mm timestamp: {text!r}")
    return datetime.fromisoformat(text)


#: The IANA zones of Spanish legal time: the peninsula and the Balearic Islands, the Canary
#: Islands, and Ceuta and Melilla (IANA ``Africa/Ceuta`` covers both).
SPANISH_TIME_ZONES = frozenset({"Europe/Madrid", "Atlantic/Canary", "Africa/Ceuta"})
#: Provinces (first two digits of the postal code) outside the peninsula's legal time.
_POSTAL_ZONES = {
    "35": "Atlantic/Canary",  # Las Palmas
    "38": "Atlantic/Canary",  # Santa Cruz de Tenerife
    "51": "Africa/Ceuta",  # Ceuta
    "52": "Africa/Ceuta",  # Melilla
}


def spanish_time_zone(time_zone: str | None, postal_code: str | None = None) -> str:
    """The zone whose legal time dates a Spanish issuer's records (ADR 0207).

    Orden HAC/1177/2024 art. 7.e: the date and time "de acuerdo al territorio desde donde se
    expide la correspondiente factura". A clinic configured with one of the Spanish zones keeps
    it. Any other zone cannot be the legal time of a place in Spain, so it is not used: the
    territory is taken from the clinic's Spanish postal code (35/38 Canarias, 51 Ceuta, 52
    Melilla), and is the peninsula's (``Europe/Madrid``) otherwise. The instant is the same
    either way; only the written offset depends on the zone.
    """
    if time_zone in SPANISH_TIME_ZONES:
        return time_zone
    code = (postal_code or "").strip()
    if len(code) == 5 and code.isdigit():
        return _POSTAL_ZONES.get(code[:2], "Europe/Madrid")
    return "Europe/Madrid"
