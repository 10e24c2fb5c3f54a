"""ConsultaFactuSistemaFacturacion (request and answer) and the reconciliation's comparison.

Requests are validated against the bundled official ConsultaLR.xsd; answers are built by the
AEAT stub's builder, which validates them against RespuestaConsultaLR.xsd, so they are what
the AEAT may really send (AEAT_descripcion_servicio_web 6.4 and Anexo IV, 11.1)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from lxml import etree
from verifactu_factories import NIF_CLINICA, alta_f1_mixta, alta_f2

from chalicelib.verifactu import registro_element
from chalicelib.verifactu.consulta import (
    NS_SFLRC,
    NS_SFLRRC,
    RegistroConsultado,
    build_consulta,
    build_consulta_request,
    parse_respuesta_consulta,
    periodo_de,
)
from chalicelib.verifactu.reconciliation import Expected, Ours, compare, describe, expected
from chalicelib.verifactu.response import RespuestaInvalida, SoapFault
from chalicelib.verifactu.schemas import SCHEMA_DIR, XsdValidationError, validate
from chalicelib.verifactu.xml import NS_SF, NS_SOAPENV
from tests.aeat_stub import answers
from tests.aeat_stub.consulta import Held, datos_from_alta, respuesta_consulta

NS = {"soapenv": NS_SOAPENV, "con": NS_SFLRC, "sum": NS_SF}
F1 = alta_f1_mixta()
F2 = alta_f2(anterior=F1)


def payload_of(body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    (payload,) = root.xpath("soapenv:Body/con:ConsultaFactuSistemaFacturacion", namespaces=NS)
    return payload


# --- the official schemas --------------------------------------------------------------------


def test_the_consulta_schemas_are_the_official_files_unmodified() -> None:
    digests = {  # sha256 of the files in the AEAT's tikeV1.0 publication
        "ConsultaLR.xsd": "bf2cdb8fc4b95b291757a72b76d8fffca06a6d30d9329122ca2fd6b2d5f8f1b1",
        "RespuestaConsultaLR.xsd": (
            "de35063acb8d9ba0d6ae51acc6b595de9c2b12333250e95e13108ef5f2670d45"
        ),
    }
    for name, digest in digests.items():
        assert hashlib.sha256((SCHEMA_DIR / name).read_bytes()).hexdigest() == digest, name


# --- the request -------------------------------------------------------------------------


def test_request_by_period_is_the_documents_example_and_valid() -> None:
    """Anexo IV 11.1.1.1: Cabecera (IDVersion, ObligadoEmision) and PeriodoImputacion."""
    body = build_consulta_request(NIF_CLINICA, "Clínica Dental Sonrisa, S.L.", ("2024", "11"))
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    payload = payload_of(body)
    validate(payload, "ConsultaLR.xsd")
    x = lambda path: payload.xpath(path, namespaces=NS)  # noqa: E731
    assert x("string(con:Cabecera/sum:IDVersion)") == "1.0"
    assert x("string(con:Cabecera/sum:ObligadoEmision/sum:NIF)") == NIF_CLINICA
    assert x("string(con:Cabecera/sum:ObligadoEmision/sum:NombreRazon)") == (
        "Clínica Dental Sonrisa, S.L."
    )
    assert x("string(con:FiltroConsulta/con:PeriodoImputacion/sum:Ejercicio)") == "2024"
    assert x("string(con:FiltroConsulta/con:PeriodoImputacion/sum:Periodo)") == "11"
    assert x("count(con:FiltroConsulta/*)") == 1
    assert root_body_is_soap_11(body)


def root_body_is_soap_11(body: bytes) -> bool:
    root = etree.fromstring(body)
    return root.tag == f"{{{NS_SOAPENV}}}Envelope" and root[0].tag == f"{{{NS_SOAPENV}}}Header"


def test_request_with_expedition_range_and_pagination_key_is_valid() -> None:
    """11.1.1.3 (RangoFechaExpedicion) and 6.4.3 (ClavePaginacion: the last record received)."""
    body = build_consulta_request(
        NIF_CLINICA,
        "Clínica",
        ("2024", "11"),
        desde=date(2024, 11, 2),
        hasta=date(2024, 11, 13),
        clave=(NIF_CLINICA, "A-2024/10000", "28-11-2024"),
    )
    payload = payload_of(body)
    validate(payload, "ConsultaLR.xsd")
    x = lambda path: payload.xpath(path, namespaces=NS)  # noqa: E731
    rango = "con:FiltroConsulta/con:FechaExpedicionFactura/sum:RangoFechaExpedicion"
    assert x(f"string({rango}/sum:Desde)") == "02-11-2024"
    assert x(f"string({rango}/sum:Hasta)") == "13-11-2024"
    clave = "con:FiltroConsulta/con:ClavePaginacion"
    assert [e.text for e in x(f"{clave}/*")] == [NIF_CLINICA, "A-2024/10000", "28-11-2024"]
    # schema order: PeriodoImputacion, ..., FechaExpedicionFactura, ..., ClavePaginacion
    assert [etree.QName(e).localname for e in x("con:FiltroConsulta/*")] == [
        "PeriodoImputacion",
        "FechaExpedicionFactura",
        "ClavePaginacion",
    ]


def test_request_by_invoice_number_is_valid() -> None:
    payload = build_consulta(NIF_CLINICA, "Clínica", ("2025", "03"), num_serie="A-2025/0001")
    validate(payload, "ConsultaLR.xsd")
    assert payload.xpath("string(con:FiltroConsulta/con:NumSerieFactura)", namespaces=NS) == (
        "A-2025/0001"
    )


@pytest.mark.parametrize(
    ("nif", "periodo"),
    [("B1234567", ("2025", "03")), (NIF_CLINICA, ("2025", "13")), (NIF_CLINICA, ("25", "03"))],
)
def test_a_request_the_schema_refuses_never_leaves(nif: str, periodo: tuple[str, str]) -> None:
    with pytest.raises(XsdValidationError):
        build_consulta_request(nif, "Clínica", periodo)


def test_periodo_de_imputacion_is_the_operation_date_else_the_expedition_date() -> None:
    assert periodo_de(None, "10-03-2025") == ("2025", "03")
    assert periodo_de("28-02-2025", "10-03-2025") == ("2025", "02")


# --- the answer --------------------------------------------------------------------------


def held(alta=F1, **kw) -> Held:
    clave = (
        alta.IDFactura.IDEmisorFactura,
        alta.IDFactura.NumSerieFactura,
        alta.IDFactura.FechaExpedicionFactura,
    )
    return Held(clave, datos_from_alta(registro_element(alta)), **kw)


def test_fixture_builder_is_checked_against_the_schema() -> None:
    with pytest.raises(ValueError):  # the XSD says Correcto, not the document's Correcta
        respuesta_consulta(NIF_CLINICA, "X", ("2025", "03"), [held(estado="Correcta")], False)


def test_answer_with_records_and_a_next_page() -> None:
    body = respuesta_consulta(
        NIF_CLINICA,
        "Clínica",
        ("2025", "03"),
        [held(F1), held(F2, estado="AceptadoConErrores", codigo=2004, descripcion="Aviso")],
        True,
    )
    page = parse_respuesta_consulta(body, validate_schema=True)
    assert (page.NIF, page.Ejercicio, page.Periodo) == (NIF_CLINICA, "2025", "03")
    assert page.IndicadorPaginacion == "S" and page.ResultadoConsulta == "ConDatos"
    first, second = page.registros
    assert first.clave == (
        NIF_CLINICA,
        F1.IDFactura.NumSerieFactura,
        F1.IDFactura.FechaExpedicionFactura,
    )
    assert first.Huella == F1.Huella and first.estado == "correct"
    assert first.TipoFactura == "F1" and first.ImporteTotal == "371.12"
    assert second.estado == "accepted_with_errors" and second.CodigoErrorRegistro == 2004
    assert second.DescripcionErrorRegistro == "Aviso" and second.Huella == F2.Huella
    assert first.IdPeticion and first.TimestampUltimaModificacion
    assert page.ClavePaginacion == second.clave and page.siguiente == second.clave


def test_last_page_and_no_data() -> None:
    last = parse_respuesta_consulta(
        respuesta_consulta(NIF_CLINICA, "C", ("2025", "03"), [held()], False), validate_schema=True
    )
    assert last.IndicadorPaginacion == "N" and last.siguiente is None
    empty = parse_respuesta_consulta(
        respuesta_consulta(NIF_CLINICA, "C", ("2025", "04"), [], False), validate_schema=True
    )
    assert empty.ResultadoConsulta == "SinDatos" and empty.registros == ()


HUELLA_EJEMPLO = "DAA7F72EEDC1AE8A294B7A011EC4A1EC2BE0E4DDB79AF3758377F8D61F38FE6B"
DOC_EXAMPLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="{NS_SOAPENV}">
   <env:Header/>
   <env:Body Id="Body">
      <tikLRRC:RespuestaConsultaFactuSistemaFacturacion xmlns:tikLRRC="{NS_SFLRRC}"
        xmlns:tik="{NS_SF}">
         <tikLRRC:Cabecera>
            <tik:IDVersion>1.0</tik:IDVersion>
            <tik:ObligadoEmision>
               <tik:NombreRazon>EMPRESAXXXX</tik:NombreRazon>
               <tik:NIF>{NIF_CLINICA}</tik:NIF>
            </tik:ObligadoEmision>
         </tikLRRC:Cabecera>
         <tikLRRC:PeriodoImputacion>
            <tikLRRC:Ejercicio>2024</tikLRRC:Ejercicio>
            <tikLRRC:Periodo>11</tikLRRC:Periodo>
         </tikLRRC:PeriodoImputacion>
         <tikLRRC:IndicadorPaginacion>{{paginacion}}</tikLRRC:IndicadorPaginacion>
         <tikLRRC:ResultadoConsulta>ConDatos</tikLRRC:ResultadoConsulta>
         <tikLRRC:RegistroRespuestaConsultaFactuSistemaFacturacion>
            <tikLRRC:IDFactura>
                  <tik:IDEmisorFactura>{NIF_CLINICA}</tik:IDEmisorFactura>
                  <tik:NumSerieFactura>88</tik:NumSerieFactura>
                  <tik:FechaExpedicionFactura>27-11-2024</tik:FechaExpedicionFactura>
            </tikLRRC:IDFactura>
            <tikLRRC:DatosRegistroFacturacion>
               <tikLRRC:TipoFactura>F1</tikLRRC:TipoFactura>
               <tikLRRC:ImporteTotal>16976.37</tikLRRC:ImporteTotal>
               <tikLRRC:TipoHuella>01</tikLRRC:TipoHuella>
               <tikLRRC:Huella>{HUELLA_EJEMPLO} </tikLRRC:Huella>
            </tikLRRC:DatosRegistroFacturacion>
            <tikLRRC:DatosPresentacion>
               <tik:NIFPresentador>89890002E</tik:NIFPresentador>
               <tik:TimestampPresentacion>2024-11-13T11:54:10+01:00</tik:TimestampPresentacion>
               <tik:IdPeticion>20241113115410360242</tik:IdPeticion>
            </tikLRRC:DatosPresentacion>
            <tikLRRC:EstadoRegistro>
               <tikLRRC:TimestampUltimaModificacion>2024-11-27T11:54:10+01:00</tikLRRC:TimestampUltimaModificacion>
               <tikLRRC:EstadoRegistro>{{estado}}</tikLRRC:EstadoRegistro>
            </tikLRRC:EstadoRegistro>
         </tikLRRC:RegistroRespuestaConsultaFactuSistemaFacturacion>
      </tikLRRC:RespuestaConsultaFactuSistemaFacturacion >
   </env:Body>
</env:Envelope>"""


@pytest.mark.parametrize(
    ("estado", "folded"),
    [
        ("Correcta", "correct"),
        ("Correcto", "correct"),
        ("AceptadaConErrores", "accepted_with_errors"),
        ("AceptadoConErrores", "accepted_with_errors"),
        ("Anulada", "annulled"),
        ("Anulado", "annulled"),
    ],
)
def test_the_documents_example_and_both_wordings_of_the_state(estado: str, folded: str) -> None:
    """Anexo IV's answer writes Correcta (the document's text); the XSD enumerates Correcto,
    AceptadoConErrores, Anulado: both are read; values are trimmed (the example's huella has a
    trailing space)."""
    body = DOC_EXAMPLE.format(paginacion="N", estado=estado).encode()
    (reg,) = parse_respuesta_consulta(body).registros
    assert reg.estado == folded and reg.clave == (NIF_CLINICA, "88", "27-11-2024")
    assert reg.Huella == HUELLA_EJEMPLO
    assert reg.IdPeticion == "20241113115410360242"


def test_a_next_page_without_clave_continues_from_the_last_record() -> None:
    page = parse_respuesta_consulta(DOC_EXAMPLE.format(paginacion="S", estado="Correcto").encode())
    assert page.ClavePaginacion is None
    assert page.siguiente == (NIF_CLINICA, "88", "27-11-2024")


def test_unknown_state_and_unexpected_bodies_are_invalid_answers() -> None:
    with pytest.raises(RespuestaInvalida, match="EstadoRegistro"):
        parse_respuesta_consulta(DOC_EXAMPLE.format(paginacion="N", estado="Rara").encode())
    with pytest.raises(RespuestaInvalida):  # the XSD does not know "Correcta"
        parse_respuesta_consulta(
            DOC_EXAMPLE.format(paginacion="N", estado="Correcta").encode(), validate_schema=True
        )
    for body in (
        b"<html>proxy error</html>",
        b"not xml at all",
        f'<env:Envelope xmlns:env="{NS_SOAPENV}"><env:Body/></env:Envelope>'.encode(),
        answers.respuesta(NIF_CLINICA, "Correcto", []),  # a submission's answer
    ):
        with pytest.raises(RespuestaInvalida):
            parse_respuesta_consulta(body)


def test_no_doctype_no_entities() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>&e;'
        b"</env:Body></env:Envelope>"
    )
    with pytest.raises(RespuestaInvalida):
        parse_respuesta_consulta(body)


def test_faults_server_is_retried_client_is_not() -> None:
    with pytest.raises(SoapFault) as server:
        parse_respuesta_consulta(answers.fault("Server", "Error interno."))
    assert server.value.retryable
    with pytest.raises(SoapFault) as client:
        parse_respuesta_consulta(answers.fault("Client", "Codigo[4102].El XML no cumple"))
    assert not client.value.retryable and client.value.codigo == 4102


# --- the comparison ------------------------------------------------------------------------

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def alta(status: str, huella: str = H1, rid: str = "r1") -> Ours:
    return Ours(rid, "alta", status, huella)


def anul(status: str, huella: str = H3, rid: str = "r3") -> Ours:
    return Ours(rid, "anulacion", status, huella)


def aeat(estado: str = "Correcto", huella: str | None = H1) -> RegistroConsultado:
    return RegistroConsultado(
        IDEmisorFactura=NIF_CLINICA,
        NumSerieFactura="A-1",
        FechaExpedicionFactura="10-03-2025",
        Huella=huella,
        EstadoRegistro=estado,
    )


def test_expected_state_follows_the_records_in_chain_order() -> None:
    assert expected([alta("accepted")]) == Expected(True, "correct", H1, None, "r1")
    assert expected([alta("accepted_with_errors")]).estado == "accepted_with_errors"
    assert expected([alta("rejected")]) == Expected(False, None, None, None, "r1")
    # a subsanación replaces what the AEAT holds; a rejected one changes nothing
    fixed = expected([alta("accepted_with_errors"), alta("accepted", H2, "r2")])
    assert (fixed.estado, fixed.huella, fixed.current) == ("correct", H2, "r2")
    kept = expected([alta("accepted"), alta("rejected", H2, "r2")])
    assert (kept.estado, kept.huella, kept.current) == ("correct", H1, "r2")
    annulled = expected([alta("accepted"), anul("accepted")])
    assert (annulled.estado, annulled.huella_anulacion) == ("annulled", H3)
    assert expected([alta("accepted"), anul("rejected")]).estado == "correct"
    # anything pending is in flight: nothing to compare yet
    assert expected([alta("accepted"), anul("pending")]) is None
    assert expected([]) is None


@pytest.mark.parametrize(
    ("ours", "theirs", "codes"),
    [
        ([alta("accepted")], aeat(), []),
        ([alta("accepted")], aeat("Correcta"), []),
        ([alta("accepted")], aeat(huella=None), []),  # no huella in the answer: not compared
        ([alta("accepted")], None, ["missing_at_aeat"]),
        ([alta("accepted")], aeat(huella=H2), ["huella_differs"]),
        ([alta("accepted")], aeat("AceptadoConErrores"), ["state_differs"]),
        ([alta("accepted_with_errors")], aeat("AceptadaConErrores"), []),
        ([alta("accepted_with_errors")], aeat("Correcto"), ["state_differs"]),
        ([alta("accepted")], aeat("Anulado"), ["state_differs"]),
        ([alta("accepted")], aeat("Anulado", H2), ["state_differs", "huella_differs"]),
        ([alta("accepted"), anul("accepted")], aeat("Anulada"), []),
        ([alta("accepted"), anul("accepted")], aeat("Anulado", H3), []),
        ([alta("accepted"), anul("accepted")], aeat("Correcto"), ["state_differs"]),
        ([alta("accepted"), anul("accepted")], None, ["missing_at_aeat"]),
        ([alta("rejected")], None, []),
        ([alta("rejected")], aeat(), ["held_but_rejected"]),
    ],
)
def test_compare(ours: list[Ours], theirs: RegistroConsultado | None, codes: list[str]) -> None:
    exp = expected(ours)
    assert exp is not None
    assert [d["code"] for d in compare(exp, theirs)] == codes


def test_differences_keep_both_sides_and_read_in_both_languages() -> None:
    (diff,) = compare(expected([alta("accepted")]), aeat("AceptadoConErrores"))
    assert diff == {"code": "state_differs", "ours": "correct", "aeat": "AceptadoConErrores"}
    assert describe(diff, "es") == "estado distinto: aquí correcto, en la AEAT AceptadoConErrores"
    assert describe(diff, "en") == "different state: correct here, AceptadoConErrores at the AEAT"
    (missing,) = compare(expected([alta("accepted")]), None)
    assert describe(missing, "es") == "no consta en la AEAT"
    assert describe(missing, "en") == "not held by the AEAT"
