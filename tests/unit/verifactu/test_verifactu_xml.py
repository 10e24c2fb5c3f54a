"""Records serialised to XML that validates against the official XSDs, offline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree
from verifactu_factories import (
    NIF_CLINICA,
    alta_f1_mixta,
    alta_f2,
    alta_r1,
    anulacion,
    cabecera,
)

from chalicelib.verifactu import (
    MAX_REGISTROS_POR_ENVIO,
    XsdValidationError,
    build_reg_factu,
    build_soap_request,
    huella_alta,
    huella_anulacion,
    validate_reg_factu,
)
from chalicelib.verifactu.schemas import SCHEMA_DIR
from chalicelib.verifactu.xml import NS_SF, NS_SFLR, NS_SOAPENV

NS = {"sf": NS_SF, "sfLR": NS_SFLR, "soapenv": NS_SOAPENV}


def _chain():
    f1 = alta_f1_mixta()
    f2 = alta_f2(anterior=f1)
    r1 = alta_r1(f1, anterior=f2)
    an = anulacion(f2, anterior=r1)
    return f1, f2, r1, an


def _only(element: etree._Element, path: str) -> str:
    found = element.xpath(path, namespaces=NS)
    assert len(found) == 1, path
    return found[0].text


def _alta_fields_from_xml(alta: etree._Element) -> dict[str, str]:
    previous = alta.xpath("sf:Encadenamiento/sf:RegistroAnterior/sf:Huella", namespaces=NS)
    return {
        "IDEmisorFactura": _only(alta, "sf:IDFactura/sf:IDEmisorFactura"),
        "NumSerieFactura": _only(alta, "sf:IDFactura/sf:NumSerieFactura"),
        "FechaExpedicionFactura": _only(alta, "sf:IDFactura/sf:FechaExpedicionFactura"),
        "TipoFactura": _only(alta, "sf:TipoFactura"),
        "CuotaTotal": _only(alta, "sf:CuotaTotal"),
        "ImporteTotal": _only(alta, "sf:ImporteTotal"),
        "Huella": previous[0].text if previous else "",
        "FechaHoraHusoGenRegistro": _only(alta, "sf:FechaHoraHusoGenRegistro"),
    }


def test_schemas_are_the_bundled_official_copies() -> None:
    for name in (
        "SuministroLR.xsd",
        "SuministroInformacion.xsd",
        "RespuestaSuministro.xsd",
        "SistemaFacturacion.wsdl",
        "xmldsig-core-schema.xsd",
    ):
        assert (SCHEMA_DIR / name).is_file(), name
    text = (SCHEMA_DIR / "SuministroInformacion.xsd").read_text(encoding="utf-8")
    # unmodified: still imports XML-DSig from the W3C URL, which we map offline
    assert 'schemaLocation="http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd"' in text


def test_f1_with_exempt_e1_and_21_percent_s1_lines_validates() -> None:
    f1 = alta_f1_mixta()
    payload = build_reg_factu(cabecera(), [f1])
    validate_reg_factu(payload)
    alta = payload.xpath("sfLR:RegistroFactura/sf:RegistroAlta", namespaces=NS)[0]
    lines = alta.xpath("sf:Desglose/sf:DetalleDesglose", namespaces=NS)
    assert len(lines) == 2
    assert _only(lines[0], "sf:OperacionExenta") == "E1"
    assert not lines[0].xpath("sf:TipoImpositivo | sf:CuotaRepercutida", namespaces=NS)
    assert _only(lines[0], "sf:BaseImponibleOimporteNoSujeto") == "250.00"
    assert _only(lines[1], "sf:CalificacionOperacion") == "S1"
    assert _only(lines[1], "sf:TipoImpositivo") == "21.00"
    assert _only(lines[1], "sf:BaseImponibleOimporteNoSujeto") == "100.10"
    assert _only(lines[1], "sf:CuotaRepercutida") == "21.02"
    assert _only(alta, "sf:CuotaTotal") == "21.02"
    assert _only(alta, "sf:ImporteTotal") == "371.12"
    assert _only(alta, "sf:Encadenamiento/sf:PrimerRegistro") == "S"
    assert _only(alta, "sf:TipoHuella") == "01"
    # The text in the XML is the text that was hashed: recomputing from the XML gives Huella.
    assert huella_alta(_alta_fields_from_xml(alta)) == _only(alta, "sf:Huella") == f1.Huella


def test_f2_r1_and_anulacion_validate_in_one_chained_submission() -> None:
    f1, f2, r1, an = _chain()
    request = build_soap_request(cabecera(), [f1, f2, r1, an])
    envelope = etree.fromstring(request)
    payload = envelope.xpath("soapenv:Body/sfLR:RegFactuSistemaFacturacion", namespaces=NS)[0]
    validate_reg_factu(payload)
    altas = payload.xpath("sfLR:RegistroFactura/sf:RegistroAlta", namespaces=NS)
    anulaciones = payload.xpath("sfLR:RegistroFactura/sf:RegistroAnulacion", namespaces=NS)
    assert [_only(a, "sf:TipoFactura") for a in altas] == ["F1", "F2", "R1"]
    assert not altas[1].xpath("sf:Destinatarios", namespaces=NS)  # F2: no recipient
    assert _only(altas[2], "sf:TipoRectificativa") == "I"
    assert (
        _only(altas[2], "sf:FacturasRectificadas/sf:IDFacturaRectificada/sf:NumSerieFactura")
        == "A-2025/0001"
    )
    assert _only(altas[2], "sf:ImporteTotal") == "-24.20"
    for alta, record in zip(altas, (f1, f2, r1), strict=True):
        assert huella_alta(_alta_fields_from_xml(alta)) == record.Huella
    (anul,) = anulaciones
    fields = {
        "IDEmisorFacturaAnulada": _only(anul, "sf:IDFactura/sf:IDEmisorFacturaAnulada"),
        "NumSerieFacturaAnulada": _only(anul, "sf:IDFactura/sf:NumSerieFacturaAnulada"),
        "FechaExpedicionFacturaAnulada": _only(
            anul, "sf:IDFactura/sf:FechaExpedicionFacturaAnulada"
        ),
        "Huella": _only(anul, "sf:Encadenamiento/sf:RegistroAnterior/sf:Huella"),
        "FechaHoraHusoGenRegistro": _only(anul, "sf:FechaHoraHusoGenRegistro"),
    }
    assert fields["NumSerieFacturaAnulada"] == "T-2025/0042"
    assert fields["Huella"] == r1.Huella
    assert huella_anulacion(fields) == _only(anul, "sf:Huella") == an.Huella


def test_soap_envelope_shape() -> None:
    request = build_soap_request(cabecera(), [alta_f1_mixta()])
    assert request.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    envelope = etree.fromstring(request)
    assert envelope.tag == f"{{{NS_SOAPENV}}}Envelope"
    header, body = list(envelope)
    assert header.tag == f"{{{NS_SOAPENV}}}Header" and len(header) == 0
    assert [child.tag for child in body] == [f"{{{NS_SFLR}}}RegFactuSistemaFacturacion"]
    cab = body[0][0]
    assert cab.tag == f"{{{NS_SFLR}}}Cabecera"
    assert _only(cab, "sf:ObligadoEmision/sf:NIF") == NIF_CLINICA
    # non-ASCII survives as UTF-8
    assert "Clínica Dental Sonrisa".encode() in request


def test_validation_really_rejects_invalid_documents() -> None:
    payload = build_reg_factu(cabecera(), [alta_f1_mixta()])
    alta = payload.xpath("sfLR:RegistroFactura/sf:RegistroAlta", namespaces=NS)[0]
    cuota = alta.find(f"{{{NS_SF}}}CuotaTotal")
    cuota.text = "21,02"  # comma separator: not ImporteSgn12.2Type
    with pytest.raises(XsdValidationError, match="CuotaTotal"):
        validate_reg_factu(payload)
    cuota.text = "21.02"
    validate_reg_factu(payload)
    alta.remove(alta.find(f"{{{NS_SF}}}TipoHuella"))  # mandatory element missing
    with pytest.raises(XsdValidationError):
        validate_reg_factu(payload)


def test_submission_limits_and_issuer() -> None:
    f1 = alta_f1_mixta()
    with pytest.raises(ValueError, match="1 to 1000"):
        build_reg_factu(cabecera(), [])
    with pytest.raises(ValueError, match="1 to 1000"):
        build_reg_factu(cabecera(), [f1] * (MAX_REGISTROS_POR_ENVIO + 1))
    with pytest.raises(ValueError, match="twice"):
        build_reg_factu(cabecera(), [f1, f1])
    other = cabecera().model_copy(
        update={
            "ObligadoEmision": cabecera().ObligadoEmision.model_copy(update={"NIF": "A00000000"})
        }
    )
    with pytest.raises(ValueError, match="submission for A00000000"):
        build_reg_factu(other, [f1])


def test_thousand_records_validate() -> None:
    records = []
    anterior = None
    for n in range(MAX_REGISTROS_POR_ENVIO):
        record = alta_f2(
            anterior=anterior,
            IDFactura=alta_f2().IDFactura.model_copy(update={"NumSerieFactura": f"T-{n}"}),
        )
        records.append(record)
        anterior = record
    payload = build_reg_factu(cabecera(), records)
    validate_reg_factu(payload)
    assert len(payload) == 1 + MAX_REGISTROS_POR_ENVIO
    assert Decimal(records[-1].ImporteTotal) == Decimal("12.10")
