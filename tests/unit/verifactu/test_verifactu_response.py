"""Parsing RespuestaSuministro answers, built here as schema-valid documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from verifactu_factories import NIF_CLINICA, alta_f1_mixta, alta_f2, anulacion

from chalicelib.verifactu import (
    TIEMPO_ESPERA_INICIAL,
    RespuestaInvalida,
    SoapFault,
    batches,
    may_submit,
    next_submission_at,
    parse_respuesta,
)
from tests.aeat_stub import answers


def respuesta(estado_envio: str, lineas: list[dict[str, Any]], **kw: Any) -> bytes:
    """A SOAP answer of the AEAT stub's builder, validated against the official
    RespuestaSuministro.xsd, so these fixtures are what the AEAT may really send."""
    return answers.respuesta(
        NIF_CLINICA,
        estado_envio,
        lineas,
        **{"csv": "A-ZX3JYB7Q4P9R2KL", "presentado": "2025-03-10T13:05:12+01:00", **kw},
    )


F1 = alta_f1_mixta()
F2 = alta_f2(anterior=F1)
AN = anulacion(F1, anterior=F2)


def test_fixture_builder_is_checked_against_the_schema() -> None:
    with pytest.raises(ValueError):
        respuesta("Correcto", [], espera=12345)  # Tipo6Type allows at most 4 digits
    with pytest.raises(ValueError):
        respuesta("TodoBien", [])


def test_correct_submission() -> None:
    body = respuesta(
        "Correcto",
        [{"clave": F1.clave, "estado": "Correcto"}, {"clave": AN.clave, "estado": "Correcto"}],
    )
    answer = parse_respuesta(body, validate_schema=True)
    assert answer.CSV == "A-ZX3JYB7Q4P9R2KL"
    assert answer.DatosPresentacion is not None
    assert answer.DatosPresentacion.TimestampPresentacion == "2025-03-10T13:05:12+01:00"
    assert answer.NIFObligadoEmision == NIF_CLINICA
    assert answer.TiempoEsperaEnvio == 60
    assert answer.EstadoEnvio == "Correcto"
    lines = answer.por_clave()
    assert set(lines) == {F1.clave, AN.clave}
    assert lines[F1.clave].outcome == "accepted"
    assert lines[AN.clave].TipoOperacion == "Anulacion"
    assert lines[AN.clave].outcome == "accepted"


def test_partially_correct_submission() -> None:
    body = respuesta(
        "ParcialmenteCorrecto",
        [
            {"clave": F1.clave, "estado": "Correcto"},
            {
                "clave": F2.clave,
                "estado": "AceptadoConErrores",
                "codigo": 2000,
                "descripcion": "El cálculo de la huella suministrada es incorrecta.",
            },
            {
                "clave": AN.clave,
                "estado": "Incorrecto",
                "codigo": 3002,
                "descripcion": "No existe el registro de facturación.",
            },
        ],
    )
    answer = parse_respuesta(body)
    assert answer.EstadoEnvio == "ParcialmenteCorrecto"
    lines = answer.por_clave()
    assert lines[F1.clave].outcome == "accepted"
    assert lines[F1.clave].CodigoErrorRegistro is None
    assert lines[F2.clave].outcome == "accepted_with_errors"
    assert lines[F2.clave].CodigoErrorRegistro == 2000
    assert lines[F2.clave].DescripcionErrorRegistro == (
        "El cálculo de la huella suministrada es incorrecta."
    )
    assert lines[AN.clave].outcome == "rejected"
    assert lines[AN.clave].CodigoErrorRegistro == 3002


def test_incorrect_submission_has_no_csv() -> None:
    body = respuesta(
        "Incorrecto",
        [
            {
                "clave": F1.clave,
                "estado": "Incorrecto",
                "codigo": 1100,
                "descripcion": "Valor o tipo incorrecto del campo.",
            }
        ],
        csv=None,
    )
    answer = parse_respuesta(body, validate_schema=True)
    assert answer.CSV is None and answer.DatosPresentacion is None
    assert answer.EstadoEnvio == "Incorrecto"
    (line,) = answer.RespuestaLinea
    assert line.outcome == "rejected" and line.CodigoErrorRegistro == 1100


@pytest.mark.parametrize(
    ("estado_duplicado", "clave", "outcome"),
    [
        ("Correcta", F1.clave, "accepted"),
        ("AceptadaConErrores", F1.clave, "accepted_with_errors"),
        ("Anulada", F1.clave, "rejected"),  # we resent an alta the AEAT holds as cancelled
        ("Anulada", AN.clave, "accepted"),  # a resent anulación of a cancelled record
    ],
)
def test_duplicate_3000(estado_duplicado: str, clave: tuple, outcome: str) -> None:
    duplicado: dict[str, Any] = {"id": "202503101305120001", "estado": estado_duplicado}
    if estado_duplicado == "AceptadaConErrores":
        duplicado |= {"codigo": 2000, "descripcion": "Huella incorrecta."}
    body = respuesta(
        "Incorrecto",
        [
            {
                "clave": clave,
                "estado": "Incorrecto",
                "codigo": 3000,
                "descripcion": "Registro de facturación duplicado.",
                "duplicado": duplicado,
            }
        ],
        csv=None,
    )
    (line,) = parse_respuesta(body, validate_schema=True).RespuestaLinea
    assert line.is_duplicate
    assert line.RegistroDuplicado is not None
    assert line.RegistroDuplicado.IdPeticionRegistroDuplicado == "202503101305120001"
    assert line.RegistroDuplicado.EstadoRegistroDuplicado == estado_duplicado
    assert line.outcome == outcome


def test_new_wait_time_is_read() -> None:
    body = respuesta("Correcto", [{"clave": F1.clave, "estado": "Correcto"}], espera=180)
    assert parse_respuesta(body).TiempoEsperaEnvio == 180


# -- faults and garbage -----------------------------------------------------------------------

CLIENT_FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
   <env:Body>
      <env:Fault>
         <faultcode>env:Client</faultcode>
         <faultstring>Codigo[4104].El NIF del titular en la cabecera no está identificado.
     NIF:iii. NOMBRE_RAZON:xxx
        </faultstring>
         <detail>
            <callstack>WSExcepcion [faultcode=null, detailMap=null, version=0,........</callstack>
         </detail>
      </env:Fault>
   </env:Body>
</env:Envelope>""".encode()


def test_client_fault_from_the_aeat_example_is_not_retryable() -> None:
    with pytest.raises(SoapFault) as info:
        parse_respuesta(CLIENT_FAULT)
    fault = info.value
    assert fault.faultcode == "Client"
    assert fault.codigo == 4104
    assert fault.faultstring.startswith("Codigo[4104].El NIF del titular")
    assert fault.detail is not None and "WSExcepcion" in fault.detail
    assert fault.retryable is False


def test_server_fault_is_retryable() -> None:
    body = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>"
        b"<faultstring>Error interno</faultstring></soapenv:Fault></soapenv:Body>"
        b"</soapenv:Envelope>"
    )
    with pytest.raises(SoapFault) as info:
        parse_respuesta(body)
    assert info.value.faultcode == "Server" and info.value.retryable is True
    assert info.value.codigo is None


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"not xml at all",
        b"",
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><other/></soapenv:Body></soapenv:Envelope>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "boom">]>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body/></soapenv:Envelope>",
    ],
)
def test_unexpected_bodies_are_retryable_invalid_answers(body: bytes) -> None:
    with pytest.raises(RespuestaInvalida) as info:
        parse_respuesta(body)
    assert info.value.retryable is True


# -- flow control -------------------------------------------------------------------------------


def test_flow_control_wait_and_thousand_record_rule() -> None:
    sent = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)
    assert TIEMPO_ESPERA_INICIAL == 60
    assert next_submission_at(None, None) is None
    assert next_submission_at(sent, None) == sent + timedelta(seconds=60)
    assert next_submission_at(sent, 180) == sent + timedelta(seconds=180)
    assert may_submit(sent, None, None, pending=1) is True  # first submission
    assert may_submit(sent + timedelta(seconds=59), sent, None, pending=5) is False
    assert may_submit(sent + timedelta(seconds=60), sent, None, pending=5) is True
    assert may_submit(sent + timedelta(seconds=100), sent, 180, pending=999) is False
    assert may_submit(sent + timedelta(seconds=100), sent, 180, pending=1000) is True
    assert may_submit(sent + timedelta(hours=1), sent, 180, pending=0) is False
    chunks = batches(list(range(2500)))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert chunks[1][0] == 1000
