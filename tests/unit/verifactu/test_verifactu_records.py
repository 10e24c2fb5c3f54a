"""Formatting, record rules and the chain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from verifactu_factories import SISTEMA, alta_f1_mixta, alta_f2, anulacion, generado

from chalicelib.verifactu import (
    DetalleDesglose,
    Encadenamiento,
    RegistroAlta,
    RegistroAnulacion,
    check_generation_order,
    fecha_hora_huso,
    format_amount,
    format_fecha,
    format_rate,
    huella_alta,
    verify_chain,
)

# -- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("123.1"), "123.10"),
        (Decimal("123.10"), "123.10"),
        (5, "5.00"),
        ("7.5", "7.50"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("-12.3"), "-12.30"),
        (Decimal("0.05"), "0.05"),
        (Decimal("999999999999.99"), "999999999999.99"),
    ],
)
def test_format_amount(value: object, text: str) -> None:
    assert format_amount(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [Decimal("1.005"), Decimal("1000000000000"), "1,5", "NaN"])
def test_format_amount_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        format_amount(value)  # type: ignore[arg-type]


def test_format_amount_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_amount(1.1)  # type: ignore[arg-type]


def test_rate_and_date() -> None:
    assert format_rate(21) == "21.00"
    assert format_rate(Decimal("5.2")) == "5.20"
    assert format_fecha(date(2024, 1, 1)) == "01-01-2024"
    with pytest.raises(TypeError):
        format_fecha(datetime(2024, 1, 1, tzinfo=UTC))


def test_fecha_hora_huso_uses_the_clinic_zone_offset_and_whole_seconds() -> None:
    winter = datetime(2024, 1, 1, 18, 20, 30, 999999, tzinfo=UTC)
    assert fecha_hora_huso(winter, "Europe/Madrid") == "2024-01-01T19:20:30+01:00"
    summer = datetime(2024, 7, 1, 18, 20, 30, tzinfo=UTC)
    assert fecha_hora_huso(summer, "Europe/Madrid") == "2024-07-01T20:20:30+02:00"
    assert fecha_hora_huso(summer, "Atlantic/Canary") == "2024-07-01T19:20:30+01:00"
    assert fecha_hora_huso(winter, "UTC") == "2024-01-01T18:20:30+00:00"
    with pytest.raises(ValueError, match="aware"):
        fecha_hora_huso(datetime(2024, 1, 1, 18, 20, 30), "Europe/Madrid")
    with pytest.raises(ValueError, match="zone"):
        fecha_hora_huso(winter, "Mars/Olympus")


# -- records -----------------------------------------------------------------------------------


def test_amounts_are_formatted_once_and_the_same_text_feeds_the_huella() -> None:
    record = alta_f1_mixta()
    assert record.CuotaTotal == "21.02" and record.ImporteTotal == "371.12"
    assert record.huella_fields()["ImporteTotal"] == record.ImporteTotal
    assert record.Huella == huella_alta(record.huella_fields())
    assert record.qr_url("test").endswith("&importe=371.12")


def test_records_round_trip_through_storage_and_refuse_tampering() -> None:
    record = alta_f1_mixta()
    stored = record.model_dump(mode="json")
    assert RegistroAlta.model_validate(stored) == record
    tampered = dict(stored, ImporteTotal="371.13", Huella=record.Huella)
    with pytest.raises(ValidationError):
        RegistroAlta.model_validate(tampered)
    forged = dict(stored, Huella="0" * 64)
    with pytest.raises(ValidationError, match="Huella does not match"):
        RegistroAlta.model_validate(forged)
    with pytest.raises(ValidationError):
        record.ImporteTotal = "1.00"  # type: ignore[misc]


def test_stored_amount_text_must_be_canonical() -> None:
    stored = alta_f1_mixta().model_dump(mode="json")
    stored.pop("Huella")
    with pytest.raises(ValidationError, match="canonical"):
        RegistroAlta.model_validate(dict(stored, CuotaTotal="21.020"))


@pytest.mark.parametrize(
    "line",
    [
        {
            "ClaveRegimen": "01",
            "CalificacionOperacion": "S1",
            "OperacionExenta": "E1",
            "TipoImpositivo": 21,
            "BaseImponibleOimporteNoSujeto": 100,
            "CuotaRepercutida": 21,
        },  # the XSD's choice: classification or exemption, not both
        {"ClaveRegimen": "01", "BaseImponibleOimporteNoSujeto": 100},  # neither
        {"ClaveRegimen": "01", "OperacionExenta": "E7", "BaseImponibleOimporteNoSujeto": 100},
        {"ClaveRegimen": "99", "CalificacionOperacion": "N1", "BaseImponibleOimporteNoSujeto": 1},
    ],
)
def test_lines_outside_the_schema_are_not_records(line: dict[str, object]) -> None:
    # The AEAT's business rules live in rules.py (test_verifactu_rules.py); the model refuses
    # only what the XSD does not allow.
    with pytest.raises(ValidationError):
        DetalleDesglose(**line)


def test_num_serie_length_and_dates_follow_the_schema() -> None:
    from chalicelib.verifactu import IDFactura

    IDFactura(
        IDEmisorFactura="B12345674", NumSerieFactura="A 1/2-3", FechaExpedicionFactura="10-03-2025"
    )
    for bad in ("", "x" * 61):
        with pytest.raises(ValidationError):
            IDFactura(
                IDEmisorFactura="B12345674",
                NumSerieFactura=bad,
                FechaExpedicionFactura="10-03-2025",
            )
    with pytest.raises(ValidationError):
        IDFactura(
            IDEmisorFactura="B12345674", NumSerieFactura="A1", FechaExpedicionFactura="31-02-2025"
        )


def test_fecha_hora_huso_field_must_be_canonical_text() -> None:
    with pytest.raises(ValidationError):
        alta_f2(FechaHoraHusoGenRegistro="2025-03-10T11:00:00.123+01:00")
    with pytest.raises(ValidationError):
        alta_f2(FechaHoraHusoGenRegistro="2025-03-10T11:00:00Z")
    with pytest.raises(ValidationError):
        alta_f2(FechaHoraHusoGenRegistro=datetime(2025, 3, 10, 11, tzinfo=UTC))


# -- the chain ---------------------------------------------------------------------------------


def test_chain_of_three_records_links_each_previous_huella() -> None:
    first = alta_f1_mixta()
    second = alta_f2(anterior=first)
    third = anulacion(first, anterior=second)
    assert first.Encadenamiento.PrimerRegistro == "S"
    assert first.huella_fields()["Huella"] == ""
    link2 = second.Encadenamiento.RegistroAnterior
    assert link2 is not None and link2.Huella == first.Huella
    assert (link2.IDEmisorFactura, link2.NumSerieFactura, link2.FechaExpedicionFactura) == (
        "B12345674",
        "A-2025/0001",
        "10-03-2025",
    )
    assert second.huella_fields()["Huella"] == first.Huella
    link3 = third.Encadenamiento.RegistroAnterior
    assert link3 is not None and link3.Huella == second.Huella
    assert link3.NumSerieFactura == "T-2025/0042"
    assert third.huella_fields()["Huella"] == second.Huella
    assert len({first.Huella, second.Huella, third.Huella}) == 3
    assert verify_chain([first, second, third]) is None
    stored = [r.model_dump(mode="json") for r in (first, second, third)]
    assert verify_chain(stored) is None
    # the anulación links to an anulación in turn, with its own identity
    fourth = alta_f2(anterior=third, FechaHoraHusoGenRegistro=generado(14))
    assert fourth.Encadenamiento.RegistroAnterior.NumSerieFactura == "A-2025/0001"  # type: ignore[union-attr]
    assert verify_chain([first, second, third, fourth]) is None


def test_verify_chain_reports_the_first_break() -> None:
    first = alta_f1_mixta()
    second = alta_f2(anterior=first)
    third = anulacion(first, anterior=second)
    stored = [r.model_dump(mode="json") for r in (first, second, third)]

    tampered = [dict(s) for s in stored]
    tampered[1]["ImporteTotal"] = "99.99"
    brk = verify_chain(tampered)
    assert brk is not None and (brk.index, brk.problem) == (1, "huella")
    assert brk.found == second.Huella and brk.expected != second.Huella

    swapped = [stored[0], stored[2], stored[1]]
    brk = verify_chain(swapped)
    assert brk is not None and (brk.index, brk.problem) == (1, "link")

    missing_first = stored[1:]
    brk = verify_chain(missing_first)
    assert brk is not None and (brk.index, brk.problem) == (0, "first")
    assert verify_chain(missing_first, from_start=False) is None

    forked = alta_f2(anterior=first, FechaHoraHusoGenRegistro=generado(15))
    brk = verify_chain([first, second, forked])
    assert brk is not None and (brk.index, brk.problem) == (2, "link")
    assert brk.expected == "B12345674|T-2025/0042|10-03-2025"


def test_generation_order_allows_one_minute_of_clock_skew() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    base = datetime(2025, 3, 10, 10, 0, 0, tzinfo=madrid)
    prev = fecha_hora_huso(base, "Europe/Madrid")
    check_generation_order(prev, fecha_hora_huso(base - timedelta(seconds=60), "Europe/Madrid"))
    check_generation_order(prev, fecha_hora_huso(base + timedelta(hours=5), "UTC"))
    with pytest.raises(ValueError, match="one minute"):
        check_generation_order(prev, fecha_hora_huso(base - timedelta(seconds=61), "Europe/Madrid"))


def test_encadenamiento_is_exactly_one_of_first_or_previous() -> None:
    with pytest.raises(ValidationError):
        Encadenamiento()
    first = alta_f1_mixta()
    with pytest.raises(ValidationError):
        Encadenamiento(PrimerRegistro="S", RegistroAnterior=first.as_registro_anterior())
    assert isinstance(anulacion(first, anterior=first), RegistroAnulacion)
    assert SISTEMA.IdSistemaInformatico == "CU"
