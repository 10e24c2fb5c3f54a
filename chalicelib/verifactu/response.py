"""Parse the AEAT answer to RegFactuSistemaFacturacion.

A SOAP 1.1 response body holds either ``sfR:RespuestaRegFactuSistemaFacturacion``
(RespuestaSuministro.xsd) or a ``Fault``. AEAT_descripcion_servicio_web:

- section 5.1: a ``Fault`` with faultcode ``Server`` -> resend; ``Client`` -> the message is
  wrong, fix it before resending; no answer or not the expected XML -> resend;
- section 3 and 6.5.2: EstadoEnvio Correcto / ParcialmenteCorrecto / Incorrecto, and per
  record EstadoRegistro Correcto / AceptadoConErrores / Incorrecto with CodigoErrorRegistro
  and DescripcionErrorRegistro; a duplicate carries RegistroDuplicado with the state of the
  record the AEAT already has (Correcta / AceptadaConErrores / Anulada);
- section 6.4.4.1: TiempoEsperaEnvio, the seconds to wait before the next submission.

``RespuestaLinea.outcome`` folds that into accepted / accepted_with_errors / rejected; a
duplicate (code 3000) of a record the AEAT holds as correct counts as accepted, so resending
after a lost answer is harmless.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.core.lazy import lazy_module

from .records import ClaveRegistro
from .schemas import validate
from .xml import NS_SF, NS_SFR, NS_SOAPENV

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

__all__ = [
    "CODIGO_DUPLICADO",
    "CODIGO_FECHA_GEN_ADELANTADA",
    "SIN_SUBSANACION",
    "DatosPresentacion",
    "Outcome",
    "RegistroDuplicado",
    "RespuestaInvalida",
    "RespuestaLinea",
    "RespuestaSuministro",
    "SoapFault",
    "parse_respuesta",
]

CODIGO_DUPLICADO: Final = 3000  # "Registro de facturación duplicado." (errores.properties)
#: "El valor del campo FechaHoraHusoGenRegistro debe ser la fecha actual del sistema de la
#: AEAT, admitiéndose un margen de error de: ..." - an admissible error (AceptadoConErrores).
CODIGO_FECHA_GEN_ADELANTADA: Final = 2004
#: Admissible errors the AEAT exempts from subsanación (validations 4.3.1): 2004 (generation
#: time ahead of the AEAT's clock) and 2009 (IPSI without ClaveRegimen).
SIN_SUBSANACION: Final = frozenset({2004, 2009})

Outcome = Literal["accepted", "accepted_with_errors", "rejected"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegistroDuplicado(_Frozen):
    """RegistroDuplicadoType: the record the AEAT already holds."""

    IdPeticionRegistroDuplicado: str
    EstadoRegistroDuplicado: Literal["Correcta", "AceptadaConErrores", "Anulada"]
    CodigoErrorRegistro: int | None = None
    DescripcionErrorRegistro: str | None = None


_RegistroDuplicado = RegistroDuplicado


class RespuestaLinea(_Frozen):
    """RespuestaExpedidaType: the result of one submitted record."""

    IDEmisorFactura: str
    NumSerieFactura: str
    FechaExpedicionFactura: str
    TipoOperacion: Literal["Alta", "Anulacion"]
    Subsanacion: str | None = None
    RechazoPrevio: str | None = None
    SinRegistroPrevio: str | None = None
    RefExterna: str | None = None
    EstadoRegistro: Literal["Correcto", "AceptadoConErrores", "Incorrecto"]
    CodigoErrorRegistro: int | None = None
    DescripcionErrorRegistro: str | None = None
    RegistroDuplicado: _RegistroDuplicado | None = None

    @property
    def clave(self) -> ClaveRegistro:
        """Same key as ``RegistroAlta.clave`` / ``RegistroAnulacion.clave``."""
        return (
            self.IDEmisorFactura,
            self.NumSerieFactura,
            self.FechaExpedicionFactura,
            self.TipoOperacion,
        )

    @property
    def is_duplicate(self) -> bool:
        return self.CodigoErrorRegistro == CODIGO_DUPLICADO

    @property
    def outcome(self) -> Outcome:
        if self.EstadoRegistro == "Correcto":
            return "accepted"
        if self.EstadoRegistro == "AceptadoConErrores":
            return "accepted_with_errors"
        duplicado = self.RegistroDuplicado
        if self.is_duplicate and duplicado is not None:
            estado = duplicado.EstadoRegistroDuplicado
            if estado == "Correcta":
                return "accepted"
            if estado == "AceptadaConErrores":
                return "accepted_with_errors"
            if estado == "Anulada" and self.TipoOperacion == "Anulacion":
                return "accepted"
        return "rejected"


class DatosPresentacion(_Frozen):
    NIFPresentador: str
    TimestampPresentacion: str


_DatosPresentacion = DatosPresentacion
_RespuestaLinea = RespuestaLinea


class RespuestaSuministro(_Frozen):
    """RespuestaRegFactuSistemaFacturacionType."""

    CSV: str | None = None
    DatosPresentacion: _DatosPresentacion | None = None
    NIFObligadoEmision: str
    TiempoEsperaEnvio: int
    EstadoEnvio: Literal["Correcto", "ParcialmenteCorrecto", "Incorrecto"]
    RespuestaLinea: tuple[_RespuestaLinea, ...] = ()

    def por_clave(self) -> dict[ClaveRegistro, RespuestaLinea]:
        """Lines keyed like the submitted records' ``clave``."""
        return {linea.clave: linea for linea in self.RespuestaLinea}


class SoapFault(Exception):  # noqa: N818 - it is the SOAP name
    """The AEAT rejected the whole message with a SOAP Fault."""

    def __init__(self, faultcode: str, faultstring: str, detail: str | None = None) -> None:
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.detail = detail
        match = re.search(r"Codigo\[(\d+)\]", faultstring)
        self.codigo: int | None = int(match.group(1)) if match else None
        super().__init__(f"{faultcode}: {faultstring}")

    @property
    def is_server(self) -> bool:
        return self.faultcode.split(".")[0] == "Server"

    @property
    def retryable(self) -> bool:
        """Server faults are resent (with backoff); Client faults need the message fixed."""
        return self.is_server


class RespuestaInvalida(Exception):  # noqa: N818 - Spanish domain name
    """The body is not a SOAP envelope with the expected answer. Section 5.1: resend."""

    retryable = True


_PARSER_OPTIONS: Final = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_blank_text": True,
}


def _text(parent: etree._Element, namespace: str, name: str) -> str | None:
    child = parent.find(f"{{{namespace}}}{name}")
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _required(parent: etree._Element, namespace: str, name: str) -> str:
    value = _text(parent, namespace, name)
    if value is None:
        raise RespuestaInvalida(f"missing {name}")
    return value


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def _fault(fault: etree._Element) -> SoapFault:
    code_text = (fault.findtext("faultcode") or "").strip()
    prefix, _, local = code_text.rpartition(":")
    if prefix and fault.nsmap.get(prefix) not in (NS_SOAPENV, None):
        local = code_text  # not a SOAP 1.1 code: keep it whole (never "Server")
    detail = fault.find("detail")
    detail_text = None
    if detail is not None:
        detail_text = " ".join(t.strip() for t in detail.itertext() if t.strip()) or None
    return SoapFault(local or code_text, (fault.findtext("faultstring") or "").strip(), detail_text)


def _linea(element: etree._Element) -> RespuestaLinea:
    id_factura = element.find(f"{{{NS_SFR}}}IDFactura")
    operacion = element.find(f"{{{NS_SFR}}}Operacion")
    if id_factura is None or operacion is None:
        raise RespuestaInvalida("RespuestaLinea without IDFactura or Operacion")
    duplicado_el = element.find(f"{{{NS_SFR}}}RegistroDuplicado")
    duplicado = None
    if duplicado_el is not None:
        duplicado = RegistroDuplicado(
            IdPeticionRegistroDuplicado=_required(
                duplicado_el, NS_SF, "IdPeticionRegistroDuplicado"
            ),
            EstadoRegistroDuplicado=_required(duplicado_el, NS_SF, "EstadoRegistroDuplicado"),  # type: ignore[arg-type]
            CodigoErrorRegistro=_int(_text(duplicado_el, NS_SF, "CodigoErrorRegistro")),
            DescripcionErrorRegistro=_text(duplicado_el, NS_SF, "DescripcionErrorRegistro"),
        )
    return RespuestaLinea(
        IDEmisorFactura=_required(id_factura, NS_SF, "IDEmisorFactura"),
        NumSerieFactura=_required(id_factura, NS_SF, "NumSerieFactura"),
        FechaExpedicionFactura=_required(id_factura, NS_SF, "FechaExpedicionFactura"),
        TipoOperacion=_required(operacion, NS_SF, "TipoOperacion"),  # type: ignore[arg-type]
        Subsanacion=_text(operacion, NS_SF, "Subsanacion"),
        RechazoPrevio=_text(operacion, NS_SF, "RechazoPrevio"),
        SinRegistroPrevio=_text(operacion, NS_SF, "SinRegistroPrevio"),
        RefExterna=_text(element, NS_SFR, "RefExterna"),
        EstadoRegistro=_required(element, NS_SFR, "EstadoRegistro"),  # type: ignore[arg-type]
        CodigoErrorRegistro=_int(_text(element, NS_SFR, "CodigoErrorRegistro")),
        DescripcionErrorRegistro=_text(element, NS_SFR, "DescripcionErrorRegistro"),
        RegistroDuplicado=duplicado,
    )


def parse_respuesta(body: bytes, *, validate_schema: bool = False) -> RespuestaSuministro:
    """Parse the SOAP response to a submission.

    Raises :class:`SoapFault` for a Fault and :class:`RespuestaInvalida` when the body is not
    a SOAP envelope with a RespuestaRegFactuSistemaFacturacion. With ``validate_schema`` the
    answer is also checked against the official RespuestaSuministro.xsd.
    """
    try:
        root = etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS))  # noqa: S320
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise RespuestaInvalida(f"not XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise RespuestaInvalida("a SOAP message cannot carry a DOCTYPE")
    if root.tag != f"{{{NS_SOAPENV}}}Envelope":
        raise RespuestaInvalida(f"not a SOAP 1.1 envelope: {root.tag}")
    body_el = root.find(f"{{{NS_SOAPENV}}}Body")
    if body_el is None:
        raise RespuestaInvalida("SOAP envelope without Body")
    fault = body_el.find(f"{{{NS_SOAPENV}}}Fault")
    if fault is not None:
        raise _fault(fault)
    answer = body_el.find(f"{{{NS_SFR}}}RespuestaRegFactuSistemaFacturacion")
    if answer is None:
        raise RespuestaInvalida("Body without RespuestaRegFactuSistemaFacturacion")
    if validate_schema:
        try:
            validate(answer, "RespuestaSuministro.xsd")
        except ValueError as exc:
            raise RespuestaInvalida(str(exc)) from exc
    try:
        cabecera = answer.find(f"{{{NS_SFR}}}Cabecera")
        obligado = cabecera.find(f"{{{NS_SF}}}ObligadoEmision") if cabecera is not None else None
        if obligado is None:
            raise RespuestaInvalida("answer without Cabecera/ObligadoEmision")
        datos_el = answer.find(f"{{{NS_SFR}}}DatosPresentacion")
        datos = None
        if datos_el is not None:
            datos = DatosPresentacion(
                NIFPresentador=_required(datos_el, NS_SF, "NIFPresentador"),
                TimestampPresentacion=_required(datos_el, NS_SF, "TimestampPresentacion"),
            )
        espera = _required(answer, NS_SFR, "TiempoEsperaEnvio")
        return RespuestaSuministro(
            CSV=_text(answer, NS_SFR, "CSV"),
            DatosPresentacion=datos,
            NIFObligadoEmision=_required(obligado, NS_SF, "NIF"),
            TiempoEsperaEnvio=int(espera),
            EstadoEnvio=_required(answer, NS_SFR, "EstadoEnvio"),  # type: ignore[arg-type]
            RespuestaLinea=tuple(
                _linea(el) for el in answer.findall(f"{{{NS_SFR}}}RespuestaLinea")
            ),
        )
    except ValueError as exc:  # pydantic.ValidationError and int() errors
        raise RespuestaInvalida(f"unexpected answer: {exc}") from exc
