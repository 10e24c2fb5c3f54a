"""Factories of valid VERI*FACTU records shared by the verifactu unit tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.verifactu import (
    Cabecera,
    DetalleDesglose,
    Encadenamiento,
    IDFactura,
    IDFacturaAnulada,
    PersonaFisicaJuridica,
    PersonaFisicaJuridicaES,
    RegistroAlta,
    RegistroAnterior,
    RegistroAnulacion,
    SistemaInformatico,
    fecha_hora_huso,
)

NIF_CLINICA = "B12345674"
NOMBRE_CLINICA = "Clínica Dental Sonrisa, S.L."
ZONA = "Europe/Madrid"

SISTEMA = SistemaInformatico(
    NombreRazon="Cúspide Software S.L.",
    NIF="B87654321",
    NombreSistemaInformatico="Cuspide",
    IdSistemaInformatico="CU",
    Version="1.0.0",
    NumeroInstalacion="clinic-01",
    TipoUsoPosibleSoloVerifactu="S",
    TipoUsoPosibleMultiOT="S",
    IndicadorMultiplesOT="S",
)


def generado(hour: int, minute: int = 0, second: int = 0) -> str:
    moment = datetime(2025, 3, 10, hour, minute, second, tzinfo=ZoneInfo(ZONA))
    return fecha_hora_huso(moment, ZONA)


def alta_f1_mixta(anterior: Any = None, **overrides: Any) -> RegistroAlta:
    """F1 with an exempt E1 line (dental care, art. 20.1.5 LIVA) and a 21% S1 line."""
    data: dict[str, Any] = {
        "IDFactura": IDFactura(
            IDEmisorFactura=NIF_CLINICA,
            NumSerieFactura="A-2025/0001",
            FechaExpedicionFactura=date(2025, 3, 10),
        ),
        "NombreRazonEmisor": NOMBRE_CLINICA,
        "TipoFactura": "F1",
        "DescripcionOperacion": "Endodoncia y blanqueamiento dental",
        "Destinatarios": (PersonaFisicaJuridica(NombreRazon="Ana Pérez", NIF="12345678Z"),),
        "Desglose": (
            DetalleDesglose(
                Impuesto="01",
                ClaveRegimen="01",
                OperacionExenta="E1",
                BaseImponibleOimporteNoSujeto=Decimal("250"),
            ),
            DetalleDesglose(
                Impuesto="01",
                ClaveRegimen="01",
                CalificacionOperacion="S1",
                TipoImpositivo=Decimal("21"),
                BaseImponibleOimporteNoSujeto=Decimal("100.10"),
                CuotaRepercutida=Decimal("21.02"),
            ),
        ),
        "CuotaTotal": Decimal("21.02"),
        "ImporteTotal": Decimal("371.12"),
        "Encadenamiento": Encadenamiento.tras(anterior),
        "SistemaInformatico": SISTEMA,
        "FechaHoraHusoGenRegistro": generado(10),
    }
    data.update(overrides)
    return RegistroAlta(**data)


def alta_f2(anterior: Any = None, **overrides: Any) -> RegistroAlta:
    data: dict[str, Any] = {
        "IDFactura": IDFactura(
            IDEmisorFactura=NIF_CLINICA,
            NumSerieFactura="T-2025/0042",
            FechaExpedicionFactura=date(2025, 3, 10),
        ),
        "NombreRazonEmisor": NOMBRE_CLINICA,
        "TipoFactura": "F2",
        "DescripcionOperacion": "Cepillo interdental y colutorio",
        "Desglose": (
            DetalleDesglose(
                ClaveRegimen="01",
                CalificacionOperacion="S1",
                TipoImpositivo=21,
                BaseImponibleOimporteNoSujeto=Decimal("10"),
                CuotaRepercutida=Decimal("2.10"),
            ),
        ),
        "CuotaTotal": Decimal("2.10"),
        "ImporteTotal": Decimal("12.10"),
        "Encadenamiento": Encadenamiento.tras(anterior),
        "SistemaInformatico": SISTEMA,
        "FechaHoraHusoGenRegistro": generado(11),
    }
    data.update(overrides)
    return RegistroAlta(**data)


def alta_r1(rectificada: RegistroAlta, anterior: Any = None) -> RegistroAlta:
    """R1 by differences (TipoRectificativa I) lowering the 21% line of ``rectificada``."""
    return RegistroAlta(
        IDFactura=IDFactura(
            IDEmisorFactura=NIF_CLINICA,
            NumSerieFactura="R-2025/0001",
            FechaExpedicionFactura=date(2025, 3, 12),
        ),
        NombreRazonEmisor=NOMBRE_CLINICA,
        TipoFactura="R1",
        TipoRectificativa="I",
        FacturasRectificadas=(rectificada.IDFactura,),
        DescripcionOperacion="Descuento en blanqueamiento",
        Destinatarios=rectificada.Destinatarios,
        Desglose=(
            DetalleDesglose(
                ClaveRegimen="01",
                CalificacionOperacion="S1",
                TipoImpositivo=21,
                BaseImponibleOimporteNoSujeto=Decimal("-20"),
                CuotaRepercutida=Decimal("-4.20"),
            ),
        ),
        CuotaTotal=Decimal("-4.20"),
        ImporteTotal=Decimal("-24.20"),
        Encadenamiento=Encadenamiento.tras(anterior),
        SistemaInformatico=SISTEMA,
        FechaHoraHusoGenRegistro=generado(12),
    )


def anulacion(
    de: RegistroAlta, anterior: Any, hour: int = 13, **overrides: Any
) -> RegistroAnulacion:
    data: dict[str, Any] = {
        "IDFactura": IDFacturaAnulada(
            IDEmisorFacturaAnulada=de.IDFactura.IDEmisorFactura,
            NumSerieFacturaAnulada=de.IDFactura.NumSerieFactura,
            FechaExpedicionFacturaAnulada=de.IDFactura.FechaExpedicionFactura,
        ),
        "Encadenamiento": Encadenamiento.tras(anterior),
        "SistemaInformatico": SISTEMA,
        "FechaHoraHusoGenRegistro": generado(hour),
    }
    data.update(overrides)
    return RegistroAnulacion(**data)


def cabecera() -> Cabecera:
    return Cabecera(
        ObligadoEmision=PersonaFisicaJuridicaES(NombreRazon=NOMBRE_CLINICA, NIF=NIF_CLINICA)
    )


__all__ = [
    "NIF_CLINICA",
    "RegistroAnterior",
    "alta_f1_mixta",
    "alta_f2",
    "alta_r1",
    "anulacion",
    "generado",
]
