"""ConsultaFactuSistemaFacturacion: ask the AEAT which records it holds (pure, no AWS).

AEAT_descripcion_servicio_web 1.0.3, section 6.4 (and the examples of Anexo IV, 11.1.1):

- the issuer queries with ``Cabecera/ObligadoEmision`` and must filter by
  ``PeriodoImputacion`` (Ejercicio/Periodo: year and month of FechaOperacion, or of
  FechaExpedicion when the record has none); optional filters narrow it, here
  ``FechaExpedicionFactura/RangoFechaExpedicion`` (example 11.1.1.3);
- an answer holds at most 10,000 records ordered by presentation date; with
  ``IndicadorPaginacion`` "S" the next page is asked for with ``ClavePaginacion`` = the last
  record received (6.4.3);
- each record comes with its ``DatosRegistroFacturacion`` (among them its ``Huella``) and its
  ``EstadoRegistro`` (6.4.2).

The request is validated against the official ConsultaLR.xsd before it leaves; the answer is
parsed with the same hardened parser as ``response.py`` (no DTD, no entities, no network) and,
on demand, validated against RespuestaConsultaLR.xsd. The same WSDL binding (``sfVerifactu``)
serves both operations, so the consulta goes to the same endpoint as the submissions.

The states differ between the XSD (``Correcto`` / ``AceptadoConErrores`` / ``Anulado``) and the
document's text and example (``Correcta`` / ``AceptadaConErrores`` / ``Anulada``): both are
accepted and folded into ``correct`` / ``accepted_with_errors`` / ``annulled``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.core.lazy import lazy_module

# The same hardened parser options and Fault reading as the submission's answers.
from .response import _PARSER_OPTIONS, RespuestaInvalida, _fault
from .schemas import validate
from .xml import NS_SF, NS_SOAPENV, soap_envelope

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

__all__ = [
    "MAX_PAGINAS",
    "NS_SFLRC",
    "NS_SFLRRC",
    "ClaveFactura",
    "Estado",
    "RegistroConsultado",
    "RespuestaConsulta",
    "build_consulta",
    "build_consulta_request",
    "parse_respuesta_consulta",
    "periodo_de",
]

_BASE: Final = NS_SF[: NS_SF.rindex("/") + 1]
NS_SFLRC: Final = _BASE + "ConsultaLR.xsd"
NS_SFLRRC: Final = _BASE + "RespuestaConsultaLR.xsd"
_NSMAP: Final = {"con": NS_SFLRC, "sum": NS_SF}

#: A query that keeps paginating this long is not trusted to end (10,000 records a page).
MAX_PAGINAS: Final = 100

#: (IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura): how the AEAT keys an invoice.
ClaveFactura = tuple[str, str, str]
Estado = Literal["correct", "accepted_with_errors", "annulled"]

_ESTADOS: Final[dict[str, Estado]] = {
    "Correcto": "correct",
    "Correcta": "correct",
    "AceptadoConErrores": "accepted_with_errors",
    "AceptadaConErrores": "accepted_with_errors",
    "Anulado": "annulled",
    "Anulada": "annulled",
}


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(ns, name))
    if text is not None:
        element.text = text
    return element


def periodo_de(fecha_operacion: str | None, fecha_expedicion: str) -> tuple[str, str]:
    """(Ejercicio, Periodo) of a record: year and month of its FechaOperacion, or of its
    FechaExpedicion when it has none (section 6.4). Dates are dd-mm-yyyy."""
    fecha = fecha_operacion or fecha_expedicion
    return fecha[6:10], fecha[3:5]


def _fecha(d: date) -> str:
    return d.strftime("%d-%m-%Y")


def build_consulta(
    nif: str,
    nombre: str,
    periodo: tuple[str, str],
    *,
    num_serie: str | None = None,
    desde: date | None = None,
    hasta: date | None = None,
    clave: ClaveFactura | None = None,
) -> etree._Element:
    """``sfLRC:ConsultaFactuSistemaFacturacion`` of the issuer ``nif`` for one imputation
    period, optionally narrowed to one invoice number or an expedition date range, from
    ``clave`` on (pagination)."""
    root = etree.Element(_q(NS_SFLRC, "ConsultaFactuSistemaFacturacion"), nsmap=_NSMAP)
    cabecera = _sub(root, NS_SFLRC, "Cabecera")
    _sub(cabecera, NS_SF, "IDVersion", "1.0")
    obligado = _sub(cabecera, NS_SF, "ObligadoEmision")
    _sub(obligado, NS_SF, "NombreRazon", nombre[:120])
    _sub(obligado, NS_SF, "NIF", nif)
    filtro = _sub(root, NS_SFLRC, "FiltroConsulta")
    imputacion = _sub(filtro, NS_SFLRC, "PeriodoImputacion")
    _sub(imputacion, NS_SF, "Ejercicio", periodo[0])
    _sub(imputacion, NS_SF, "Periodo", periodo[1])
    if num_serie is not None:
        _sub(filtro, NS_SFLRC, "NumSerieFactura", num_serie)
    if desde is not None or hasta is not None:
        rango = _sub(
            _sub(filtro, NS_SFLRC, "FechaExpedicionFactura"), NS_SF, "RangoFechaExpedicion"
        )
        if desde is not None:
            _sub(rango, NS_SF, "Desde", _fecha(desde))
        if hasta is not None:
            _sub(rango, NS_SF, "Hasta", _fecha(hasta))
    if clave is not None:
        paginacion = _sub(filtro, NS_SFLRC, "ClavePaginacion")
        _sub(paginacion, NS_SF, "IDEmisorFactura", clave[0])
        _sub(paginacion, NS_SF, "NumSerieFactura", clave[1])
        _sub(paginacion, NS_SF, "FechaExpedicionFactura", clave[2])
    return root


def build_consulta_request(
    nif: str,
    nombre: str,
    periodo: tuple[str, str],
    *,
    num_serie: str | None = None,
    desde: date | None = None,
    hasta: date | None = None,
    clave: ClaveFactura | None = None,
) -> bytes:
    """The SOAP 1.1 request body, validated against the official ConsultaLR.xsd first
    (``XsdValidationError`` instead of a Client fault from the AEAT)."""
    payload = build_consulta(
        nif, nombre, periodo, num_serie=num_serie, desde=desde, hasta=hasta, clave=clave
    )
    validate(payload, "ConsultaLR.xsd")
    return soap_envelope(payload)


# --- the answer ------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegistroConsultado(_Frozen):
    """One ``RegistroRespuestaConsultaFactuSistemaFacturacion``: what the AEAT holds."""

    IDEmisorFactura: str
    NumSerieFactura: str
    FechaExpedicionFactura: str
    TipoFactura: str | None = None
    FechaOperacion: str | None = None
    ImporteTotal: str | None = None
    Huella: str | None = None
    Subsanacion: str | None = None
    EstadoRegistro: str  # as the AEAT wrote it
    CodigoErrorRegistro: int | None = None
    DescripcionErrorRegistro: str | None = None
    TimestampUltimaModificacion: str | None = None
    IdPeticion: str | None = None

    @property
    def clave(self) -> ClaveFactura:
        return (self.IDEmisorFactura, self.NumSerieFactura, self.FechaExpedicionFactura)

    @property
    def estado(self) -> Estado:
        return _ESTADOS[self.EstadoRegistro]


_Registro = RegistroConsultado


class RespuestaConsulta(_Frozen):
    """RespuestaConsultaFactuSistemaFacturacionType (one page)."""

    NIF: str
    Ejercicio: str
    Periodo: str
    IndicadorPaginacion: Literal["S", "N"]
    ResultadoConsulta: Literal["ConDatos", "SinDatos"]
    registros: tuple[_Registro, ...] = ()
    ClavePaginacion: ClaveFactura | None = None

    @property
    def siguiente(self) -> ClaveFactura | None:
        """The key to ask the next page from, or None on the last page."""
        if self.IndicadorPaginacion != "S":
            return None
        if self.ClavePaginacion is not None:
            return self.ClavePaginacion
        return self.registros[-1].clave if self.registros else None


def _text(parent: etree._Element | None, namespace: str, name: str) -> str | None:
    if parent is None:
        return None
    child = parent.find(_q(namespace, name))
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _required(parent: etree._Element | None, namespace: str, name: str) -> str:
    value = _text(parent, namespace, name)
    if value is None:
        raise RespuestaInvalida(f"missing {name}")
    return value


def _registro(element: etree._Element) -> RegistroConsultado:
    id_factura = element.find(_q(NS_SFLRRC, "IDFactura"))
    datos = element.find(_q(NS_SFLRRC, "DatosRegistroFacturacion"))
    presentacion = element.find(_q(NS_SFLRRC, "DatosPresentacion"))
    estado = element.find(_q(NS_SFLRRC, "EstadoRegistro"))
    if id_factura is None or estado is None:
        raise RespuestaInvalida("record without IDFactura or EstadoRegistro")
    estado_text = _required(estado, NS_SFLRRC, "EstadoRegistro")
    if estado_text not in _ESTADOS:
        raise RespuestaInvalida(f"unknown EstadoRegistro {estado_text!r}")
    codigo = _text(estado, NS_SFLRRC, "CodigoErrorRegistro")
    return RegistroConsultado(
        IDEmisorFactura=_required(id_factura, NS_SF, "IDEmisorFactura"),
        NumSerieFactura=_required(id_factura, NS_SF, "NumSerieFactura"),
        FechaExpedicionFactura=_required(id_factura, NS_SF, "FechaExpedicionFactura"),
        TipoFactura=_text(datos, NS_SFLRRC, "TipoFactura"),
        FechaOperacion=_text(datos, NS_SFLRRC, "FechaOperacion"),
        ImporteTotal=_text(datos, NS_SFLRRC, "ImporteTotal"),
        Huella=_text(datos, NS_SFLRRC, "Huella"),
        Subsanacion=_text(datos, NS_SFLRRC, "Subsanacion"),
        EstadoRegistro=estado_text,
        CodigoErrorRegistro=int(codigo) if codigo is not None else None,
        DescripcionErrorRegistro=_text(estado, NS_SFLRRC, "DescripcionErrorRegistro"),
        TimestampUltimaModificacion=_text(estado, NS_SFLRRC, "TimestampUltimaModificacion"),
        IdPeticion=_text(presentacion, NS_SF, "IdPeticion"),
    )


def parse_respuesta_consulta(body: bytes, *, validate_schema: bool = False) -> RespuestaConsulta:
    """Parse one page of the answer to ConsultaFactuSistemaFacturacion.

    Raises ``SoapFault`` for a Fault (``retryable`` for Server) and ``RespuestaInvalida`` when
    the body is not a SOAP envelope with a RespuestaConsultaFactuSistemaFacturacion (section
    5.1: resend). ``validate_schema`` also checks it against RespuestaConsultaLR.xsd.
    """
    try:
        root = etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS))  # noqa: S320
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise RespuestaInvalida(f"not XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise RespuestaInvalida("a SOAP message cannot carry a DOCTYPE")
    if root.tag != _q(NS_SOAPENV, "Envelope"):
        raise RespuestaInvalida(f"not a SOAP 1.1 envelope: {root.tag}")
    body_el = root.find(_q(NS_SOAPENV, "Body"))
    if body_el is None:
        raise RespuestaInvalida("SOAP envelope without Body")
    fault = body_el.find(_q(NS_SOAPENV, "Fault"))
    if fault is not None:
        raise _fault(fault)
    answer = body_el.find(_q(NS_SFLRRC, "RespuestaConsultaFactuSistemaFacturacion"))
    if answer is None:
        raise RespuestaInvalida("Body without RespuestaConsultaFactuSistemaFacturacion")
    if validate_schema:
        try:
            validate(answer, "RespuestaConsultaLR.xsd")
        except ValueError as exc:
            raise RespuestaInvalida(str(exc)) from exc
    try:
        cabecera = answer.find(_q(NS_SFLRRC, "Cabecera"))
        obligado = cabecera.find(_q(NS_SF, "ObligadoEmision")) if cabecera is not None else None
        if obligado is None:
            raise RespuestaInvalida("answer without Cabecera/ObligadoEmision")
        periodo = answer.find(_q(NS_SFLRRC, "PeriodoImputacion"))
        paginacion = answer.find(_q(NS_SFLRRC, "ClavePaginacion"))
        clave = None
        if paginacion is not None:
            clave = (
                _required(paginacion, NS_SF, "IDEmisorFactura"),
                _required(paginacion, NS_SF, "NumSerieFactura"),
                _required(paginacion, NS_SF, "FechaExpedicionFactura"),
            )
        return RespuestaConsulta(
            NIF=_required(obligado, NS_SF, "NIF"),
            Ejercicio=_required(periodo, NS_SFLRRC, "Ejercicio"),
            Periodo=_required(periodo, NS_SFLRRC, "Periodo"),
            IndicadorPaginacion=_required(answer, NS_SFLRRC, "IndicadorPaginacion"),  # type: ignore[arg-type]
            ResultadoConsulta=_required(answer, NS_SFLRRC, "ResultadoConsulta"),  # type: ignore[arg-type]
            registros=tuple(
                _registro(el)
                for el in answer.findall(
                    _q(NS_SFLRRC, "RegistroRespuestaConsultaFactuSistemaFacturacion")
                )
            ),
            ClavePaginacion=clave,
        )
    except ValueError as exc:  # pydantic.ValidationError and int() errors
        raise RespuestaInvalida(f"unexpected answer: {exc}") from exc
