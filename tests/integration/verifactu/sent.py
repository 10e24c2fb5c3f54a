"""What the submission job sent to the AEAT stub, read back from the request bodies, and the
job's clock in tests (ADR 0207's tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from chalicelib.verifactu.xml import NS_SF, NS_SFLR, NS_SOAPENV
from tests.aeat_stub.answers import Clave, respuesta
from tests.integration.verifactu.conftest import later


def payload(request: dict[str, Any]) -> etree._Element:
    """The request's ``RegFactuSistemaFacturacion`` (the stub validated it against the XSD)."""
    assert "error" not in request, request.get("error")
    root = etree.fromstring(request["body"])  # noqa: S320 - our own request
    found = root.find(f"{{{NS_SOAPENV}}}Body/{{{NS_SFLR}}}RegFactuSistemaFacturacion")
    assert found is not None
    return found


def incidencia(request: dict[str, Any]) -> str | None:
    """Cabecera/RemisionVoluntaria/Incidencia, None when absent (which the AEAT reads as N)."""
    return payload(request).findtext(
        f"{{{NS_SFLR}}}Cabecera/{{{NS_SF}}}RemisionVoluntaria/{{{NS_SF}}}Incidencia"
    )


def registros(request: dict[str, Any]) -> list[etree._Element]:
    """Each ``RegistroAlta`` / ``RegistroAnulacion`` of the request, in order."""
    return [wrapper[0] for wrapper in payload(request).findall(f"{{{NS_SFLR}}}RegistroFactura")]


def campo(registro: etree._Element, path: str) -> str | None:
    """Text of ``A/B/C`` under a record (every element is in the SuministroInformacion
    namespace); None when absent."""
    return registro.findtext("/".join(f"{{{NS_SF}}}{name}" for name in path.split("/")))


def num_serie(registro: etree._Element) -> str | None:
    return campo(registro, "IDFactura/NumSerieFactura") or campo(
        registro, "IDFactura/NumSerieFacturaAnulada"
    )


def anterior(registro: etree._Element) -> tuple[str | None, str | None]:
    """(NumSerieFactura, Huella) of the record this one chains to."""
    return (
        campo(registro, "Encadenamiento/RegistroAnterior/NumSerieFactura"),
        campo(registro, "Encadenamiento/RegistroAnterior/Huella"),
    )


def answer_with(estado: str, codigo: int, descripcion: str) -> Any:
    """A stub answer giving every record ``estado`` with ``codigo`` (schema-valid)."""

    def make(claves: list[Clave]) -> tuple[int, bytes]:
        lineas = [
            {"clave": c, "estado": estado, "codigo": codigo, "descripcion": descripcion}
            for c in claves
        ]
        envio = {"Incorrecto": "Incorrecto", "AceptadoConErrores": "ParcialmenteCorrecto"}
        return 200, respuesta(
            claves[0][0],
            envio.get(estado, "Correcto"),
            lineas,
            csv=None if estado == "Incorrecto" else "A-STUBCSV0000001",
        )

    return make


def first_only(claves: list[Clave]) -> tuple[int, bytes]:
    """A stub answer about the first record only (the others stay pending and go again)."""
    return 200, respuesta(claves[0][0], "Correcto", [{"clave": claves[0], "estado": "Correcto"}])


class Clock:
    """The job's clock: each step at least ``seconds`` later and never before the wall clock
    (records written meanwhile are due at their writing time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or later(0)

    def step(self, seconds: float = 61) -> datetime:
        self.t = max(self.t + timedelta(seconds=seconds), later(0))
        return self.t
