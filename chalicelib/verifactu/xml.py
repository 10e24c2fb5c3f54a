"""Serialise records to the AEAT XML and wrap them in the SOAP 1.1 request.

- ``registro_element``: one ``sf:RegistroAlta`` / ``sf:RegistroAnulacion``
  (SuministroInformacion.xsd), elements in model field order, which is the schema order.
- ``build_reg_factu``: ``sfLR:RegFactuSistemaFacturacion`` with ``Cabecera`` and 1 to 1,000
  ``RegistroFactura`` (SuministroLR.xsd; AEAT_descripcion_servicio_web section 3: "El número
  máximo de registros por envío es de 1.000").
- ``soap_envelope`` / ``build_soap_request``: the SOAP 1.1 document/literal envelope of
  SistemaFacturacion.wsdl (binding ``sfVerifactu``, ``soapAction=""``), UTF-8 (section 4.3).

Text nodes are the records' stored strings, unchanged: the same text was hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel

from chalicelib.core.lazy import lazy_module

from .flow import MAX_REGISTROS_POR_ENVIO
from .records import (
    ClaveRegistro,
    Fecha,
    PersonaFisicaJuridicaES,
    RegistroAlta,
    RegistroAnulacion,
    RegistroFacturacion,
    SiNo,
    _Model,
)
from .schemas import validate

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

__all__ = [
    "MAX_REGISTROS_POR_ENVIO",
    "NS_SF",
    "NS_SFLR",
    "NS_SFR",
    "NS_SOAPENV",
    "SOAP_CONTENT_TYPE",
    "SOAP_ENDPOINTS",
    "Cabecera",
    "RemisionVoluntaria",
    "build_reg_factu",
    "build_soap_request",
    "registro_element",
    "soap_envelope",
    "validate_reg_factu",
]

_BASE = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
NS_SF: Final = _BASE + "SuministroInformacion.xsd"
NS_SFLR: Final = _BASE + "SuministroLR.xsd"
NS_SFR: Final = _BASE + "RespuestaSuministro.xsd"
NS_SOAPENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
_NSMAP: Final = {"soapenv": NS_SOAPENV, "sum": NS_SFLR, "sum1": NS_SF}

#: VERI*FACTU ports of SistemaFacturacion.wsdl (service ``sfVerifactu``). "sello" variants are
#: for seal certificates (certificado de sello) instead of personal/entity certificates.
SOAP_ENDPOINTS: Final[dict[str, str]] = {
    "test": "https://prewww1.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
    "test_sello": "https://prewww10.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
    "production": "https://www1.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
    "production_sello": "https://www10.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
}
#: SOAP 1.1 content type; the WSDL declares ``soapAction=""`` (send ``SOAPAction: ""``).
SOAP_CONTENT_TYPE: Final = "text/xml; charset=utf-8"

#: Repeated children of list-valued fields (SuministroInformacion.xsd).
_ITEM_NAMES: Final = {
    "FacturasRectificadas": "IDFacturaRectificada",
    "FacturasSustituidas": "IDFacturaSustituida",
    "Destinatarios": "IDDestinatario",
    "Desglose": "DetalleDesglose",
}


class RemisionVoluntaria(_Model):
    """CabeceraType/RemisionVoluntaria: end of VERI*FACTU use, or records from an incident."""

    FechaFinVeriFactu: Fecha | None = None
    Incidencia: SiNo | None = None


_RemisionVoluntaria = RemisionVoluntaria


class Cabecera(_Model):
    """CabeceraType for voluntary (VERI*FACTU) submission."""

    ObligadoEmision: PersonaFisicaJuridicaES
    Representante: PersonaFisicaJuridicaES | None = None
    RemisionVoluntaria: _RemisionVoluntaria | None = None


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _append_model(parent: etree._Element, model: BaseModel) -> None:
    """Append ``model``'s fields as ``sf:`` children of ``parent``, in field order."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        if isinstance(value, tuple):
            wrapper = etree.SubElement(parent, _q(NS_SF, name))
            item_name = _ITEM_NAMES[name]
            for item in value:
                _append_model(etree.SubElement(wrapper, _q(NS_SF, item_name)), item)
        elif isinstance(value, BaseModel):
            _append_model(etree.SubElement(parent, _q(NS_SF, name)), value)
        elif isinstance(value, str):
            etree.SubElement(parent, _q(NS_SF, name)).text = value
        else:  # pragma: no cover - every field is text, a model or a tuple of models
            raise TypeError(f"cannot serialise {name}={value!r}")


def registro_element(registro: RegistroFacturacion) -> etree._Element:
    """``sf:RegistroAlta`` or ``sf:RegistroAnulacion`` for one record."""
    tag = "RegistroAlta" if isinstance(registro, RegistroAlta) else "RegistroAnulacion"
    element = etree.Element(_q(NS_SF, tag), nsmap={"sum1": NS_SF})
    _append_model(element, registro)
    return element


def build_reg_factu(cabecera: Cabecera, registros: Sequence[RegistroFacturacion]) -> etree._Element:
    """``sfLR:RegFactuSistemaFacturacion`` for one submission of 1 to 1,000 records.

    Every record must belong to the Cabecera's ObligadoEmision (validations 3.1.3.1 and
    3.1.4.1) and appear once.
    """
    if not 1 <= len(registros) <= MAX_REGISTROS_POR_ENVIO:
        raise ValueError(f"a submission carries 1 to {MAX_REGISTROS_POR_ENVIO} records")
    nif = cabecera.ObligadoEmision.NIF
    seen: set[ClaveRegistro] = set()
    root = etree.Element(_q(NS_SFLR, "RegFactuSistemaFacturacion"), nsmap=_NSMAP)
    _append_model(etree.SubElement(root, _q(NS_SFLR, "Cabecera")), cabecera)
    for registro in registros:
        if not isinstance(registro, RegistroAlta | RegistroAnulacion):
            raise TypeError(f"not a record: {type(registro).__name__}")
        if registro.id_emisor != nif:
            raise ValueError(f"record of {registro.id_emisor} in a submission for {nif}")
        if registro.clave in seen:
            raise ValueError(f"record {registro.clave} appears twice in the submission")
        seen.add(registro.clave)
        wrapper = etree.SubElement(root, _q(NS_SFLR, "RegistroFactura"))
        wrapper.append(registro_element(registro))
    return root


def validate_reg_factu(element: etree._Element) -> None:
    """Validate a ``RegFactuSistemaFacturacion`` against the bundled official SuministroLR.xsd.

    Raises ``chalicelib.verifactu.schemas.XsdValidationError``.
    """
    validate(element, "SuministroLR.xsd")


def soap_envelope(payload: etree._Element) -> bytes:
    """SOAP 1.1 envelope (empty Header, payload in Body) serialised as UTF-8 bytes."""
    envelope = etree.Element(_q(NS_SOAPENV, "Envelope"), nsmap=_NSMAP)
    etree.SubElement(envelope, _q(NS_SOAPENV, "Header"))
    body = etree.SubElement(envelope, _q(NS_SOAPENV, "Body"))
    body.append(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_soap_request(
    cabecera: Cabecera, registros: Sequence[RegistroFacturacion], *, validate: bool = True
) -> bytes:
    """The complete request body for ``RegFactuSistemaFacturacion``.

    With ``validate`` (the default) the payload is checked against the official XSD first, so
    a schema error is caught here instead of becoming a SOAP Client fault for the whole batch.
    """
    payload = build_reg_factu(cabecera, registros)
    if validate:
        validate_reg_factu(payload)
    return soap_envelope(payload)
