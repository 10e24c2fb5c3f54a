"""Verification of a stored chain of records (for ``GET /verifactu/chain/verify``).

Works on records as stored (``model_dump()`` of RegistroAlta / RegistroAnulacion, or the
models themselves), without trusting their Huella: each huella is recomputed from the record's
own fields (huella document, section 3) and each link is checked against the previous record
(FAQ "¿Qué se debe comprobar exactamente del registro anterior?", Orden art. 7.i).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .huella import huella_alta, huella_anulacion
from .records import RegistroAlta, RegistroAnulacion

__all__ = ["ChainBreak", "verify_chain"]


class ChainBreak(BaseModel):
    """The first place where the chain does not hold."""

    model_config = ConfigDict(frozen=True)

    index: int
    problem: Literal["huella", "link", "first"]
    field: str
    expected: str
    found: str


def _as_dict(record: RegistroAlta | RegistroAnulacion | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(record, RegistroAlta | RegistroAnulacion):
        return record.model_dump()
    return record


def _flatten(record: Mapping[str, Any]) -> tuple[bool, dict[str, str], tuple[str, str, str]]:
    """(is_alta, huella fields, identity as RegistroAnterior) of a stored record."""
    id_factura = record.get("IDFactura") or {}
    anterior = (record.get("Encadenamiento") or {}).get("RegistroAnterior") or {}
    previous = anterior.get("Huella") or ""
    if "IDEmisorFacturaAnulada" in id_factura:
        identity = (
            id_factura["IDEmisorFacturaAnulada"],
            id_factura["NumSerieFacturaAnulada"],
            id_factura["FechaExpedicionFacturaAnulada"],
        )
        fields = {
            "IDEmisorFacturaAnulada": identity[0],
            "NumSerieFacturaAnulada": identity[1],
            "FechaExpedicionFacturaAnulada": identity[2],
            "Huella": previous,
            "FechaHoraHusoGenRegistro": record["FechaHoraHusoGenRegistro"],
        }
        return False, fields, identity
    identity = (
        id_factura["IDEmisorFactura"],
        id_factura["NumSerieFactura"],
        id_factura["FechaExpedicionFactura"],
    )
    fields = {
        "IDEmisorFactura": identity[0],
        "NumSerieFactura": identity[1],
        "FechaExpedicionFactura": identity[2],
        "TipoFactura": record["TipoFactura"],
        "CuotaTotal": record["CuotaTotal"],
        "ImporteTotal": record["ImporteTotal"],
        "Huella": previous,
        "FechaHoraHusoGenRegistro": record["FechaHoraHusoGenRegistro"],
    }
    return True, fields, identity


def verify_chain(
    records: Iterable[RegistroAlta | RegistroAnulacion | Mapping[str, Any]],
    *,
    from_start: bool = True,
) -> ChainBreak | None:
    """Return the first break of the chain, or None if it is intact.

    ``records`` are in generation order. With ``from_start`` the first one must carry
    ``PrimerRegistro="S"``; otherwise the first record's own link is not checked (verifying a
    suffix of the chain).
    """
    previous_huella: str | None = None
    previous_identity: tuple[str, str, str] | None = None
    for index, raw in enumerate(records):
        record = _as_dict(raw)
        is_alta, fields, identity = _flatten(record)
        encadenamiento = record.get("Encadenamiento") or {}
        anterior = encadenamiento.get("RegistroAnterior")
        if index == 0 and from_start:
            if encadenamiento.get("PrimerRegistro") != "S" or anterior:
                return ChainBreak(
                    index=0,
                    problem="first",
                    field="Encadenamiento/PrimerRegistro",
                    expected="S",
                    found=str(encadenamiento.get("PrimerRegistro") or ""),
                )
        elif previous_huella is not None and previous_identity is not None:
            found_identity = (
                (anterior or {}).get("IDEmisorFactura", ""),
                (anterior or {}).get("NumSerieFactura", ""),
                (anterior or {}).get("FechaExpedicionFactura", ""),
            )
            if found_identity != previous_identity:
                return ChainBreak(
                    index=index,
                    problem="link",
                    field="Encadenamiento/RegistroAnterior",
                    expected="|".join(previous_identity),
                    found="|".join(found_identity),
                )
            if fields["Huella"] != previous_huella:
                return ChainBreak(
                    index=index,
                    problem="link",
                    field="Encadenamiento/RegistroAnterior/Huella",
                    expected=previous_huella,
                    found=fields["Huella"],
                )
        expected = huella_alta(fields) if is_alta else huella_anulacion(fields)
        found = str(record.get("Huella") or "")
        if found != expected:
            return ChainBreak(
                index=index, problem="huella", field="Huella", expected=expected, found=found
            )
        previous_huella, previous_identity = found, identity
    return None
