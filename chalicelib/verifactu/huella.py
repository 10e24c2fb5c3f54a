"""The huella (SHA-256 chain hash) of registros de alta and anulación.

Implements AEAT "Detalle de las especificaciones técnicas para generación de la huella o hash
de los registros de facturación" v0.1.2 (2024-08-27):

- section 3 a) / b): the fields and their order;
- section 3: ``name=value`` pairs joined with ``&``, each value with leading and trailing
  spaces removed, an absent or empty field written as ``name=`` (the first record of a chain
  has no previous huella), the string encoded as UTF-8;
- section 2: SHA-256 (TipoHuella "01", list L12);
- section 5: the digest in uppercase hexadecimal, 64 characters.

The values are hashed as given (after trimming): they must be the very text that goes into the
XML, which is why records keep their formatted strings (see ``format.py``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

__all__ = [
    "ALTA_FIELDS",
    "ANULACION_FIELDS",
    "HUELLA_RE",
    "cadena_alta",
    "cadena_anulacion",
    "huella_alta",
    "huella_anulacion",
    "is_huella",
]

#: Section 3 a): RegistroAlta fields, in this order. "Huella" is the previous record's one
#: (RegistroAlta/Encadenamiento/RegistroAnterior/Huella).
ALTA_FIELDS: tuple[str, ...] = (
    "IDEmisorFactura",
    "NumSerieFactura",
    "FechaExpedicionFactura",
    "TipoFactura",
    "CuotaTotal",
    "ImporteTotal",
    "Huella",
    "FechaHoraHusoGenRegistro",
)

#: Section 3 b): RegistroAnulacion fields, in this order.
ANULACION_FIELDS: tuple[str, ...] = (
    "IDEmisorFacturaAnulada",
    "NumSerieFacturaAnulada",
    "FechaExpedicionFacturaAnulada",
    "Huella",
    "FechaHoraHusoGenRegistro",
)

#: Only the previous huella may be empty (first record of the chain); every other field is
#: mandatory in the XSD, so a missing one is a caller bug, not a legitimately empty value.
_OPTIONAL_FIELDS = frozenset({"Huella"})

#: "eliminando los espacios al inicio y al final de cada valor": like Java's String.trim()
#: (the AEAT's own example language), every character up to U+0020 is trimmed.
_TRIM = "".join(chr(code) for code in range(0x21))

#: Section 5 output format, also checked by the AEAT on the previous huella (validation 18).
HUELLA_RE = re.compile(r"^[0-9A-F]{64}$")


def is_huella(value: object) -> bool:
    """True if ``value`` is a 64-character uppercase hexadecimal SHA-256 digest."""
    return isinstance(value, str) and HUELLA_RE.match(value) is not None


def _cadena(fields: Mapping[str, str | None], names: tuple[str, ...]) -> str:
    parts: list[str] = []
    for name in names:
        raw = fields.get(name)
        if raw is None:
            value = ""
        elif isinstance(raw, str):
            value = raw.strip(_TRIM)
        else:
            raise TypeError(f"{name} must be the record's text (str), not {type(raw).__name__}")
        if not value and name not in _OPTIONAL_FIELDS:
            raise ValueError(f"{name} is required to compute the huella")
        parts.append(f"{name}={value}")
    return "&".join(parts)


def cadena_alta(fields: Mapping[str, str | None]) -> str:
    """The exact string that is hashed for a registro de alta (section 3 a)."""
    return _cadena(fields, ALTA_FIELDS)


def cadena_anulacion(fields: Mapping[str, str | None]) -> str:
    """The exact string that is hashed for a registro de anulación (section 3 b)."""
    return _cadena(fields, ANULACION_FIELDS)


def _sha256_upper(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest().upper()


def huella_alta(fields: Mapping[str, str | None]) -> str:
    """Huella of a registro de alta from a mapping keyed by AEAT field names.

    Keys: IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura, TipoFactura, CuotaTotal,
    ImporteTotal, Huella (of the previous record; absent, None or "" for the first record) and
    FechaHoraHusoGenRegistro. Other keys are ignored, so a flattened record can be passed.
    Returns the uppercase hex SHA-256 digest.
    """
    return _sha256_upper(cadena_alta(fields))


def huella_anulacion(fields: Mapping[str, str | None]) -> str:
    """Huella of a registro de anulación from a mapping keyed by AEAT field names.

    Keys: IDEmisorFacturaAnulada, NumSerieFacturaAnulada, FechaExpedicionFacturaAnulada,
    Huella (previous record; empty for the first record) and FechaHoraHusoGenRegistro.
    """
    return _sha256_upper(cadena_anulacion(fields))
