"""The invoice's tax QR ("QR tributario") and its ValidarQR URL.

Implements AEAT "Detalle de las especificaciones técnicas del código QR de la factura"
v0.5.0 (2025-12-10):

- section 5.1: base URLs of systems that issue verifiable invoices (VERI*FACTU), test
  ("Portal de Pruebas Externas") and production;
- section 6: exactly four parameters, in this order: ``nif`` (9), ``numserie`` (max 60,
  ASCII 32-126), ``fecha`` (DD-MM-AAAA), ``importe`` ("." decimal separator, max 12 integer
  and 2 decimal digits); the optional ``formato`` must never be in the QR (section 7);
- section 4: parameter values URL-encoded as UTF-8 (e.g. ``12345678&G33`` becomes
  ``12345678%26G33``);
- section 2 (Orden art. 21): ISO/IEC 18004, error correction level M, and the SYMBOL measures
  30x30 to 40x40 mm; section 3: a quiet zone around it (at least 2 mm, 6 mm recommended) on
  top of that size, "QR tributario:" above and "VERI*FACTU" below, at the top of the first
  page. (Until issue 13 the 30 mm included the 4-module quiet zone, so the symbol itself
  printed at about 25 mm, under the minimum.)

``qr_matrix`` returns the module matrix (from ``qrcode.QRCode.get_matrix``) and ``qr_svg``
builds an SVG path from it, so a PDF writer draws the modules itself at the size it wants.
``qrcode`` is imported on first use only (it pulls in Pillow when installed), so importing
this package and building URLs stays light.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

from .format import format_amount, format_fecha, parse_fecha

__all__ = [
    "QR_BORDER_MODULES",
    "QR_CAPTION_ABOVE",
    "QR_CAPTION_BELOW",
    "QR_MAX_MM",
    "QR_MIN_QUIET_ZONE_MM",
    "QR_MIN_MM",
    "VALIDAR_QR_URLS",
    "qr_matrix",
    "qr_printed_mm",
    "qr_svg",
    "qr_symbol_mm",
    "qr_url",
]

#: Section 5.1 (sistema que emite facturas verificables).
VALIDAR_QR_URLS: Final[dict[str, str]] = {
    "test": "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR",
    "production": "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR",
}
QR_BORDER_MODULES: Final = 4  # ISO/IEC 18004 quiet zone
QR_MIN_MM: Final = 30  # the symbol, quiet zone excluded (section 2)
QR_MAX_MM: Final = 40
QR_MIN_QUIET_ZONE_MM: Final = 2.0  # section 3: at least 2 mm blank on every side
QR_CAPTION_ABOVE: Final = "QR tributario:"
QR_CAPTION_BELOW: Final = "VERI*FACTU"

_NIF_RE = re.compile(r"^[0-9A-Z]{9}$")
_IMPORTE_RE = re.compile(r"^-?\d{1,12}(\.\d{1,2})?$")


def _importe_text(importe: Decimal | int | str) -> str:
    if isinstance(importe, str):
        text = importe.strip()
        if not _IMPORTE_RE.match(text):
            raise ValueError(f"importe must use '.' and at most 2 decimals: {importe!r}")
        return text
    return format_amount(importe)


def _fecha_text(fecha: date | str) -> str:
    if isinstance(fecha, str):
        text = fecha.strip()
        parse_fecha(text)
        return text
    return format_fecha(fecha)


def qr_url(
    nif: str,
    numserie: str,
    fecha: date | str,
    importe: Decimal | int | str,
    environment: str,
) -> str:
    """ValidarQR URL for an invoice, as it goes in its QR code.

    ``fecha`` is a ``date`` or dd-mm-yyyy text; ``importe`` is a ``Decimal``/``int``
    (formatted like the record, e.g. ``"241.40"``) or the record's own text, used as is
    (``"241.4"`` stays ``"241.4"``). ``environment`` is ``"test"`` or ``"production"``;
    anything else raises ``ValueError``. Values are percent-encoded as UTF-8 with nothing
    left unescaped except ``A-Z a-z 0-9 - . _ ~`` (a space becomes ``%20``).
    """
    try:
        base = VALIDAR_QR_URLS[environment]
    except (KeyError, TypeError):
        raise ValueError(
            f"environment must be 'test' or 'production', not {environment!r}"
        ) from None
    nif_text = nif.strip()
    if not _NIF_RE.match(nif_text):
        raise ValueError(f"nif must be 9 characters (digits and capital letters): {nif!r}")
    numserie_text = numserie.strip()
    if not 1 <= len(numserie_text) <= 60:
        raise ValueError("numserie must have 1 to 60 characters")
    if any(not 32 <= ord(ch) <= 126 for ch in numserie_text):
        raise ValueError("numserie may only contain printable ASCII (32-126)")
    params = (
        ("nif", nif_text),
        ("numserie", numserie_text),
        ("fecha", _fecha_text(fecha)),
        ("importe", _importe_text(importe)),
    )
    query = "&".join(f"{name}={quote(value, safe='', encoding='utf-8')}" for name, value in params)
    return f"{base}?{query}"


def _make(url: str) -> Any:
    import qrcode  # lazy: see the module docstring

    code = qrcode.QRCode(
        version=None,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=QR_BORDER_MODULES,
    )
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_matrix(url: str) -> list[list[bool]]:
    """Module matrix of the QR code of ``url`` (level M), quiet zone of 4 modules included.

    ``True`` is a dark module. The matrix is square; a writer scales it so that the symbol
    (the matrix without its quiet zone) measures 30-40 mm (:func:`qr_symbol_mm`), the quiet
    zone adding to that.
    """
    return [[bool(cell) for cell in row] for row in _make(url).get_matrix()]


def _inner(modules: int) -> int:
    return modules - 2 * QR_BORDER_MODULES


def qr_symbol_mm(modules: int) -> float:
    """Printed size of the symbol, quiet zone excluded, for a ``modules``-wide matrix (quiet
    zone included): 30 mm (AEAT_QR section 2), or more when 4 modules would make a quiet zone
    under 2 mm (section 3)."""
    return max(float(QR_MIN_MM), QR_MIN_QUIET_ZONE_MM * _inner(modules) / QR_BORDER_MODULES)


def qr_printed_mm(modules: int, symbol_mm: float) -> float:
    """What the whole matrix takes on the page: the symbol plus its quiet zone of 4 modules."""
    return symbol_mm * modules / _inner(modules)


def qr_svg(url: str, size_mm: float | None = None) -> str:
    """Standalone SVG of the QR code of ``url``, drawn as one path of unit squares, without
    Pillow. ``size_mm`` is the symbol's (quiet zone excluded; defaults to
    :func:`qr_symbol_mm`); the SVG is larger by the 4-module quiet zone. Sizes outside
    30-40 mm, or whose quiet zone would be under 2 mm, raise."""
    matrix = qr_matrix(url)
    n = len(matrix)
    if size_mm is None:
        size_mm = qr_symbol_mm(n)
    if not QR_MIN_MM <= size_mm <= QR_MAX_MM:
        raise ValueError(f"size_mm must be between {QR_MIN_MM} and {QR_MAX_MM}")
    if size_mm * QR_BORDER_MODULES / _inner(n) < QR_MIN_QUIET_ZONE_MM:
        raise ValueError(f"at {size_mm:g} mm the quiet zone is under 2 mm; use a larger size")
    total = round(qr_printed_mm(n, size_mm), 3)
    path = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{total:g}mm" height="{total:g}mm" viewBox="0 0 {n} {n}" '
        'shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
