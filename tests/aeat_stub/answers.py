"""What the stub answers: schema-valid RespuestaSuministro documents and SOAP faults.

A ``Script`` is a queue of answer makers; each takes the list of record keys of the request
(``(NIF, NumSerie, Fecha, "Alta"|"Anulacion")``, in order) and returns (HTTP status, body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from chalicelib.verifactu.schemas import validate
from chalicelib.verifactu.xml import NS_SF, NS_SFR, NS_SOAPENV

Clave = tuple[str, str, str, str]
Maker = Callable[[list[Clave]], tuple[int, bytes]]


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def respuesta(
    nif: str,
    estado_envio: str,
    lineas: list[dict[str, Any]],
    *,
    espera: int = 60,
    csv: str | None = "A-STUBCSV0000001",
    presentado: str = "2026-11-21T13:05:12+01:00",
) -> bytes:
    envelope = etree.Element(f"{{{NS_SOAPENV}}}Envelope", nsmap={"env": NS_SOAPENV})
    body = _sub(envelope, NS_SOAPENV, "Body")
    answer = etree.SubElement(
        body,
        f"{{{NS_SFR}}}RespuestaRegFactuSistemaFacturacion",
        nsmap={"tikR": NS_SFR, "tik": NS_SF},
    )
    if csv is not None:
        _sub(answer, NS_SFR, "CSV", csv)
        datos = _sub(answer, NS_SFR, "DatosPresentacion")
        _sub(datos, NS_SF, "NIFPresentador", nif)
        _sub(datos, NS_SF, "TimestampPresentacion", presentado)
    cabecera = _sub(answer, NS_SFR, "Cabecera")
    obligado = _sub(cabecera, NS_SF, "ObligadoEmision")
    _sub(obligado, NS_SF, "NombreRazon", "Obligado")
    _sub(obligado, NS_SF, "NIF", nif)
    _sub(answer, NS_SFR, "TiempoEsperaEnvio", str(espera))
    _sub(answer, NS_SFR, "EstadoEnvio", estado_envio)
    for linea in lineas:
        _linea(answer, **linea)
    validate(answer, "RespuestaSuministro.xsd")  # the stub only says what the AEAT may say
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _linea(
    answer: etree._Element,
    clave: Clave,
    estado: str,
    codigo: int | None = None,
    descripcion: str | None = None,
    duplicado: dict[str, Any] | None = None,
) -> None:
    linea = _sub(answer, NS_SFR, "RespuestaLinea")
    id_factura = _sub(linea, NS_SFR, "IDFactura")
    _sub(id_factura, NS_SF, "IDEmisorFactura", clave[0])
    _sub(id_factura, NS_SF, "NumSerieFactura", clave[1])
    _sub(id_factura, NS_SF, "FechaExpedicionFactura", clave[2])
    operacion = _sub(linea, NS_SFR, "Operacion")
    _sub(operacion, NS_SF, "TipoOperacion", clave[3])
    _sub(linea, NS_SFR, "EstadoRegistro", estado)
    if codigo is not None:
        _sub(linea, NS_SFR, "CodigoErrorRegistro", str(codigo))
    if descripcion is not None:
        _sub(linea, NS_SFR, "DescripcionErrorRegistro", descripcion)
    if duplicado is not None:
        dup = _sub(linea, NS_SFR, "RegistroDuplicado")
        _sub(dup, NS_SF, "IdPeticionRegistroDuplicado", duplicado["id"])
        _sub(dup, NS_SF, "EstadoRegistroDuplicado", duplicado["estado"])
        if "codigo" in duplicado:
            _sub(dup, NS_SF, "CodigoErrorRegistro", str(duplicado["codigo"]))
            _sub(dup, NS_SF, "DescripcionErrorRegistro", duplicado["descripcion"])


def fault(code: str, text: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="{NS_SOAPENV}"><env:Body><env:Fault>
<faultcode>env:{code}</faultcode><faultstring>{text}</faultstring>
</env:Fault></env:Body></env:Envelope>""".encode()


REJECT_CODE = 1105
REJECT_TEXT = "El NIF del destinatario no está identificado."


class Script:
    """Answer makers for the stub, one per request."""

    @staticmethod
    def all_correct(espera: int = 60) -> Maker:
        def make(claves: list[Clave]) -> tuple[int, bytes]:
            lineas = [{"clave": c, "estado": "Correcto"} for c in claves]
            return 200, respuesta(claves[0][0], "Correcto", lineas, espera=espera)

        return make

    @staticmethod
    def partial(rejected: set[int], espera: int = 60, with_errors: set[int] = frozenset()) -> Maker:  # type: ignore[assignment]
        """Records at the ``rejected`` indexes Incorrecto (code 1105), ``with_errors``
        AceptadoConErrores, the rest Correcto."""

        def make(claves: list[Clave]) -> tuple[int, bytes]:
            lineas = []
            for n, c in enumerate(claves):
                if n in rejected:
                    lineas.append(
                        {
                            "clave": c,
                            "estado": "Incorrecto",
                            "codigo": REJECT_CODE,
                            "descripcion": REJECT_TEXT,
                        }
                    )
                elif n in with_errors:
                    lineas.append(
                        {
                            "clave": c,
                            "estado": "AceptadoConErrores",
                            "codigo": 2000,
                            "descripcion": "Aviso de prueba.",
                        }
                    )
                else:
                    lineas.append({"clave": c, "estado": "Correcto"})
            estado = "Incorrecto" if len(rejected) == len(claves) else "ParcialmenteCorrecto"
            return 200, respuesta(claves[0][0], estado, lineas, espera=espera)

        return make

    @staticmethod
    def incorrect(espera: int = 60) -> Maker:
        def make(claves: list[Clave]) -> tuple[int, bytes]:
            lineas = [
                {
                    "clave": c,
                    "estado": "Incorrecto",
                    "codigo": REJECT_CODE,
                    "descripcion": REJECT_TEXT,
                }
                for c in claves
            ]
            return 200, respuesta(claves[0][0], "Incorrecto", lineas, espera=espera, csv=None)

        return make

    @staticmethod
    def duplicate(estado: str = "Correcta", espera: int = 60) -> Maker:
        def make(claves: list[Clave]) -> tuple[int, bytes]:
            lineas = [
                {
                    "clave": c,
                    "estado": "Incorrecto",
                    "codigo": 3000,
                    "descripcion": "Registro de facturación duplicado.",
                    "duplicado": {"id": "202611211305120001", "estado": estado},
                }
                for c in claves
            ]
            return 200, respuesta(claves[0][0], "Incorrecto", lineas, espera=espera, csv=None)

        return make

    @staticmethod
    def server_fault() -> Maker:
        return lambda claves: (500, fault("Server", "Error interno. Inténtelo más tarde."))

    @staticmethod
    def client_fault() -> Maker:
        return lambda claves: (
            500,
            fault("Client", "Codigo[4102].El XML no cumple el esquema. Falta informar campo"),
        )

    @staticmethod
    def garbage() -> Maker:
        return lambda claves: (200, b"<html>proxy error</html>")
