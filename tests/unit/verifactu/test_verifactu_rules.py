"""Every rule of the AEAT rule table (rules.RULES): one record that breaks it, one that does not.

The "good" record of each case passes the whole table, not only its own rule, so a case proves
the rule fires on exactly the difference between the two records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from verifactu_factories import NIF_CLINICA, SISTEMA, generado

from chalicelib.core.errors import Unprocessable
from chalicelib.core.i18n import render
from chalicelib.verifactu import rules
from chalicelib.verifactu.records import (
    DetalleDesglose,
    Encadenamiento,
    IDFactura,
    IDFacturaAnulada,
    IDOtro,
    ImporteRectificacion,
    PersonaFisicaJuridica,
    RegistroAlta,
    RegistroAnulacion,
    SistemaInformatico,
)

MADRID = ZoneInfo("Europe/Madrid")
AT = datetime(2025, 3, 10, 14, 0, tzinfo=MADRID)  # the records are generated at 10:00-13:00
AAPP = "Q2826000H"  # a public administration's NIF (clave 14)
OTRA = "A58818501"  # a valid NIF that is not the clinic's


# --- builders ----------------------------------------------------------------------------------


def linea(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Impuesto": "01",
        "ClaveRegimen": "01",
        "CalificacionOperacion": "S1",
        "TipoImpositivo": Decimal(21),
        "BaseImponibleOimporteNoSujeto": Decimal(100),
        "CuotaRepercutida": Decimal(21),
    }
    data.update(kw)
    return data


def exenta(causa: str = "E1", **kw: Any) -> dict[str, Any]:
    base = {"CalificacionOperacion": None, "OperacionExenta": causa}
    return linea(**{**base, "TipoImpositivo": None, "CuotaRepercutida": None, **kw})


def no_sujeta(calificacion: str = "N1", **kw: Any) -> dict[str, Any]:
    base = {"CalificacionOperacion": calificacion}
    return linea(**{**base, "TipoImpositivo": None, "CuotaRepercutida": None, **kw})


def s2(**kw: Any) -> dict[str, Any]:
    return linea(
        **{"CalificacionOperacion": "S2", "TipoImpositivo": 0, "CuotaRepercutida": 0, **kw}
    )


def idf(
    fecha: date = date(2025, 3, 10), num: str = "A-2025/0001", emisor: str = NIF_CLINICA
) -> IDFactura:
    return IDFactura(IDEmisorFactura=emisor, NumSerieFactura=num, FechaExpedicionFactura=fecha)


def nif(n: str = "12345678Z") -> PersonaFisicaJuridica:
    return PersonaFisicaJuridica(NombreRazon="Ana Pérez", NIF=n)


def otro(tipo: str, pais: str | None, ident: str) -> PersonaFisicaJuridica:
    return PersonaFisicaJuridica(
        NombreRazon="Anne Dupont", IDOtro=IDOtro(IDType=tipo, CodigoPais=pais, ID=ident)
    )


def alta(lineas: list[dict[str, Any]] | None = None, **kw: Any) -> RegistroAlta:
    detalle = tuple(DetalleDesglose(**ln) for ln in (lineas or [linea()]))
    data: dict[str, Any] = {
        "IDFactura": idf(),
        "NombreRazonEmisor": "Clínica Dental Sonrisa, S.L.",
        "TipoFactura": "F1",
        "DescripcionOperacion": "Endodoncia",
        "Destinatarios": (nif(),),
        "Desglose": detalle,
        "CuotaTotal": sum((d.cuota for d in detalle), Decimal(0)),
        "ImporteTotal": sum((d.importe for d in detalle), Decimal(0)),
        "Encadenamiento": Encadenamiento.primer_registro(),
        "SistemaInformatico": SISTEMA,
        "FechaHoraHusoGenRegistro": generado(10),
    }
    if kw.get("TipoFactura") in ("F2", "R5") and "Destinatarios" not in kw:
        data["Destinatarios"] = None
    data.update(kw)
    return RegistroAlta(**data)


def sistema(persona: IDOtro) -> SistemaInformatico:
    return SISTEMA.model_copy(update={"NIF": None, "IDOtro": persona})


def anul(**kw: Any) -> RegistroAnulacion:
    data: dict[str, Any] = {
        "IDFactura": IDFacturaAnulada(
            IDEmisorFacturaAnulada=NIF_CLINICA,
            NumSerieFacturaAnulada="A-2025/0001",
            FechaExpedicionFacturaAnulada=date(2025, 3, 10),
        ),
        "Encadenamiento": Encadenamiento.primer_registro(),
        "SistemaInformatico": SISTEMA,
        "FechaHoraHusoGenRegistro": generado(13),
    }
    data.update(kw)
    return RegistroAnulacion(**data)


def generador(tipo: str, pais: str | None, ident: str) -> PersonaFisicaJuridica:
    return otro(tipo, pais, ident)


def r(tipo: str, modo: str = "I", **kw: Any) -> RegistroAlta:
    return alta(TipoFactura=tipo, TipoRectificativa=modo, **kw)


@dataclass
class Case:
    bad: Callable[[], rules.RegistroFacturacion]
    good: Callable[[], rules.RegistroFacturacion]
    at_bad: datetime = AT
    at_good: datetime = AT
    also: set[str] = field(default_factory=set)  # other rules the bad record cannot avoid


FR_VAT = "FR12345678901"
IGIC_7 = {"Impuesto": "03", "TipoImpositivo": 7, "CuotaRepercutida": 7}  # Canarias

CASES: dict[str, Case] = {
    "3.1.3.1.a": Case(lambda: alta(IDFactura=idf(emisor=OTRA)), alta),
    "3.1.3.1.b": Case(lambda: alta(IDFactura=idf(date(2025, 3, 11))), alta),
    "3.1.3.1.c": Case(
        alta,
        alta,
        at_bad=datetime(2045, 3, 11, 12, tzinfo=MADRID),
        at_good=datetime(2045, 3, 10, 12, tzinfo=MADRID),
    ),
    "3.1.3.1.d": Case(
        lambda: alta(IDFactura=idf(date(2025, 3, 5)), FechaOperacion=date(2025, 3, 8)),
        lambda: alta(IDFactura=idf(date(2025, 3, 5)), FechaOperacion=date(2025, 3, 5)),
    ),
    "3.1.3.1.e": Case(
        lambda: alta(IDFactura=idf(date(2024, 10, 27))),
        lambda: alta(IDFactura=idf(date(2024, 10, 28))),
    ),
    "3.1.3.1.f": Case(
        lambda: alta(IDFactura=idf(num="A<1")), lambda: alta(IDFactura=idf(num="A-1/2 x"))
    ),
    "3.1.3.2.a": Case(
        lambda: alta(RechazoPrevio="X"), lambda: alta(Subsanacion="S", RechazoPrevio="X")
    ),
    "3.1.3.2.b": Case(
        lambda: alta(RechazoPrevio="S", Subsanacion="N"),
        lambda: alta(Subsanacion="S", RechazoPrevio="S"),
    ),
    "3.1.3.3": Case(lambda: alta(TipoFactura="R1"), lambda: r("R1")),
    "3.1.3.4": Case(
        lambda: alta(FacturasRectificadas=(idf(num="A-0"),)),
        lambda: r("R1", FacturasRectificadas=(idf(num="A-0"),)),
    ),
    "3.1.3.5": Case(
        lambda: alta(FacturasSustituidas=(idf(num="T-0"),)),
        lambda: alta(TipoFactura="F3", FacturasSustituidas=(idf(num="T-0"),)),
    ),
    "3.1.3.6": Case(
        lambda: r("R1", "S"),
        lambda: r(
            "R1",
            "S",
            ImporteRectificacion=ImporteRectificacion(
                BaseRectificada=Decimal(100), CuotaRectificada=Decimal(21)
            ),
        ),
    ),
    "3.1.3.7.a": Case(
        lambda: alta(FechaOperacion=date(2005, 3, 9)),
        lambda: alta(FechaOperacion=date(2005, 3, 10)),
    ),
    "3.1.3.7.b": Case(
        lambda: alta(
            [linea(ClaveRegimen="14")], Destinatarios=(nif(AAPP),), FechaOperacion=date(2027, 1, 1)
        ),
        lambda: alta(
            [linea(ClaveRegimen="14")],
            Destinatarios=(nif(AAPP),),
            FechaOperacion=date(2026, 12, 31),
        ),
    ),
    "3.1.3.7.c": Case(
        lambda: alta(FechaOperacion=date(2025, 3, 11)),
        lambda: alta(FechaOperacion=date(2025, 3, 10)),
        also={"3.1.3.1.d"},
    ),
    "3.1.3.8": Case(
        lambda: alta(TipoFactura="F2", FacturaSimplificadaArt7273="S"),
        lambda: alta(FacturaSimplificadaArt7273="S"),
    ),
    "3.1.3.9": Case(
        lambda: alta(FacturaSinIdentifDestinatarioArt61d="S"),
        lambda: alta(TipoFactura="F2", FacturaSinIdentifDestinatarioArt61d="S"),
    ),
    "3.1.3.10.a": Case(
        lambda: alta(
            [linea(BaseImponibleOimporteNoSujeto=Decimal(10**8), CuotaRepercutida=21 * 10**6)]
        ),
        lambda: alta(
            [linea(BaseImponibleOimporteNoSujeto=Decimal(10**8), CuotaRepercutida=21 * 10**6)],
            Macrodato="S",
        ),
    ),
    "3.1.3.10.b": Case(lambda: alta(Macrodato="S"), lambda: alta(Macrodato="N")),
    "3.1.3.11.a": Case(
        lambda: alta(EmitidaPorTerceroODestinatario="T"),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=nif(OTRA)),
    ),
    "3.1.3.11.b": Case(
        lambda: alta(TipoFactura="F2", EmitidaPorTerceroODestinatario="D"),
        lambda: alta(EmitidaPorTerceroODestinatario="D"),
    ),
    "3.1.3.12.a": Case(
        lambda: alta(Tercero=nif(OTRA)),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=nif(OTRA)),
    ),
    "3.1.3.12.b": Case(
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=nif(NIF_CLINICA)),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=nif(OTRA)),
    ),
    "3.1.3.12.c": Case(
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("07", "ES", "12345678Z")),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("03", "ES", "PAB123")),
        also={"3.1.3.12.d"},
    ),
    "3.1.3.12.d": Case(
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("04", "ES", "ID123")),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("03", "ES", "ID123")),
    ),
    "3.1.3.12.e": Case(
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("02", None, "FR123")),
        lambda: alta(EmitidaPorTerceroODestinatario="T", Tercero=otro("02", None, FR_VAT)),
    ),
    "3.1.3.13.a": Case(lambda: alta(Destinatarios=None), alta),
    "3.1.3.13.b": Case(
        lambda: alta(TipoFactura="F2", Destinatarios=(nif(),)), lambda: alta(TipoFactura="F2")
    ),
    "3.1.3.13.c": Case(
        lambda: alta(Destinatarios=(otro("06", None, "X-778"),)),
        lambda: alta(Destinatarios=(otro("06", "FR", "X-778"),)),
    ),
    "3.1.3.13.d": Case(
        lambda: alta(Destinatarios=(otro("07", "FR", "12345678Z"),)),
        lambda: alta(Destinatarios=(otro("07", "ES", "12345678Z"),)),
    ),
    "3.1.3.13.e": Case(
        lambda: alta(Destinatarios=(otro("06", "ES", "X-778"),)),
        lambda: alta(Destinatarios=(otro("03", "ES", "X-778"),)),
    ),
    "3.1.3.13.f": Case(
        lambda: alta(Destinatarios=(otro("02", None, "DE12345"),)),
        lambda: alta(Destinatarios=(otro("02", None, "DE123456789"),)),
    ),
    "3.1.3.13.g": Case(
        lambda: alta(TipoFactura="F2", Destinatarios=(otro("02", None, FR_VAT),)),
        lambda: alta(Destinatarios=(otro("02", None, FR_VAT),)),
        also={"3.1.3.13.b"},
    ),
    "3.1.3.13.h": Case(lambda: alta(Destinatarios=(nif(NIF_CLINICA),)), alta),
    "3.1.3.13.i": Case(lambda: alta(Destinatarios=(nif("12345678A"),)), alta),
    "3.1.3.13.j": Case(
        lambda: alta(Destinatarios=(otro("07", "ES", NIF_CLINICA),)),
        lambda: alta(Destinatarios=(otro("07", "ES", "12345678Z"),)),
    ),
    "3.1.3.13.k": Case(
        lambda: r("R3", Destinatarios=(otro("03", "FR", "P123"),)),
        lambda: r("R3", Destinatarios=(otro("07", "ES", "12345678Z"),)),
    ),
    "3.1.3.13.l": Case(
        lambda: r("R2", Destinatarios=(otro("03", "FR", "P123"),)),
        lambda: r("R2", Destinatarios=(otro("02", None, FR_VAT),)),
    ),
    "3.1.3.14": Case(lambda: alta(Cupon="S"), lambda: r("R1", Cupon="S")),
    "3.1.3.15.1": Case(
        lambda: alta([linea(TipoImpositivo=Decimal("7.5"), CuotaRepercutida=Decimal("7.5"))]),
        lambda: alta([linea(TipoImpositivo=10, CuotaRepercutida=10)]),
    ),
    "3.1.3.15.2": Case(
        lambda: alta([linea(BaseImponibleACoste=Decimal(100))]),
        lambda: alta([linea(Impuesto="05", ClaveRegimen=None, BaseImponibleACoste=Decimal(100))]),
    ),
    "3.1.3.15.3.a": Case(
        lambda: alta(
            [
                linea(
                    TipoImpositivo=10,
                    CuotaRepercutida=10,
                    TipoRecargoEquivalencia=Decimal("5.2"),
                    CuotaRecargoEquivalencia=Decimal("5.2"),
                )
            ]
        ),
        lambda: alta(
            [
                linea(
                    TipoImpositivo=10,
                    CuotaRepercutida=10,
                    TipoRecargoEquivalencia=Decimal("1.4"),
                    CuotaRecargoEquivalencia=Decimal("1.4"),
                )
            ]
        ),
    ),
    "3.1.3.15.3.b": Case(
        lambda: alta([s2(TipoRecargoEquivalencia=0, CuotaRecargoEquivalencia=0)]),
        lambda: alta([s2()]),
    ),
    "3.1.3.15.3.c": Case(
        lambda: alta([linea(TipoRecargoEquivalencia=Decimal("5.2"))]),
        lambda: alta(
            [linea(TipoRecargoEquivalencia=Decimal("5.2"), CuotaRecargoEquivalencia=Decimal("5.2"))]
        ),
    ),
    "3.1.3.15.4.a": Case(lambda: alta([s2()], TipoFactura="F2"), lambda: alta([s2()])),
    "3.1.3.15.4.b": Case(lambda: alta([s2(TipoImpositivo=21)]), lambda: alta([s2()])),
    "3.1.3.15.4.c": Case(lambda: alta([no_sujeta(TipoImpositivo=21)]), lambda: alta([no_sujeta()])),
    "3.1.3.15.5.a": Case(
        lambda: alta([exenta("E2")]), lambda: alta([exenta("E2", ClaveRegimen="02")])
    ),
    "3.1.3.15.5.b": Case(lambda: alta([exenta(TipoImpositivo=21)]), lambda: alta([exenta()])),
    "3.1.3.15.5.1": Case(
        lambda: alta([exenta("E5")]),
        lambda: alta([exenta("E5")], Destinatarios=(otro("02", None, FR_VAT),)),
    ),
    "3.1.3.15.6.a": Case(
        lambda: alta([linea(Impuesto="05")]),
        lambda: alta([linea(Impuesto="05", ClaveRegimen=None)]),
    ),
    "3.1.3.15.6.b": Case(lambda: alta([linea(ClaveRegimen=None)]), alta),
    "3.1.3.15.6.c": Case(
        lambda: alta([linea(ClaveRegimen="21")]),
        lambda: alta([linea(**IGIC_7, ClaveRegimen="21")]),
    ),
    "3.1.3.15.6.1": Case(
        lambda: alta([linea(ClaveRegimen="02")]),
        lambda: alta([exenta("E2", ClaveRegimen="02")]),
    ),
    "3.1.3.15.6.2": Case(
        lambda: alta([s2(ClaveRegimen="03")]), lambda: alta([linea(ClaveRegimen="03")])
    ),
    "3.1.3.15.6.3": Case(
        lambda: alta([linea(ClaveRegimen="04")]), lambda: alta([s2(ClaveRegimen="04")])
    ),
    "3.1.3.15.6.4": Case(
        lambda: alta([linea(ClaveRegimen="06")]),
        lambda: alta([linea(ClaveRegimen="06", BaseImponibleACoste=Decimal(100))]),
    ),
    "3.1.3.15.6.5": Case(
        lambda: alta([no_sujeta(ClaveRegimen="07")]), lambda: alta([linea(ClaveRegimen="07")])
    ),
    "3.1.3.15.6.6": Case(
        lambda: alta([no_sujeta("N1", ClaveRegimen="08")]),
        lambda: alta([no_sujeta("N2", ClaveRegimen="08")]),
    ),
    "3.1.3.15.6.7": Case(
        lambda: alta([no_sujeta("N2", ClaveRegimen="10")]),
        lambda: alta([no_sujeta("N1", ClaveRegimen="10")]),
    ),
    "3.1.3.15.6.8": Case(
        lambda: alta([linea(ClaveRegimen="11", TipoImpositivo=10, CuotaRepercutida=10)]),
        lambda: alta([linea(ClaveRegimen="11")]),
    ),
    "3.1.3.15.6.9.a": Case(
        lambda: alta([linea(ClaveRegimen="14")], Destinatarios=(nif(AAPP),)),
        lambda: alta(
            [linea(ClaveRegimen="14")],
            Destinatarios=(nif(AAPP),),
            FechaOperacion=date(2025, 6, 1),
        ),
    ),
    "3.1.3.15.6.9.b": Case(
        lambda: alta([linea(ClaveRegimen="14")], FechaOperacion=date(2025, 6, 1)),
        lambda: alta(
            [linea(ClaveRegimen="14")],
            Destinatarios=(nif(AAPP),),
            FechaOperacion=date(2025, 6, 1),
        ),
    ),
    "3.1.3.15.6.9.c": Case(
        lambda: alta(
            [linea(ClaveRegimen="14")],
            TipoFactura="F3",
            Destinatarios=(nif(AAPP),),
            FechaOperacion=date(2025, 6, 1),
        ),
        lambda: alta(
            [linea(ClaveRegimen="14")],
            Destinatarios=(nif(AAPP),),
            FechaOperacion=date(2025, 6, 1),
        ),
    ),
    "3.1.3.15.6.10": Case(
        lambda: alta([linea(**IGIC_7, ClaveRegimen="20")]),
        lambda: alta([no_sujeta("N2", Impuesto="03", ClaveRegimen="20")]),
    ),
    "3.1.3.15.7.a": Case(
        lambda: alta([no_sujeta(Impuesto="03", CuotaRepercutida=5)]),
        lambda: alta([no_sujeta(Impuesto="03")]),
    ),
    "3.1.3.15.7.b": Case(lambda: alta([linea(CuotaRepercutida=None)]), alta),
    "3.1.3.15.7.c": Case(
        lambda: alta(
            [
                linea(
                    BaseImponibleOimporteNoSujeto=Decimal(1),
                    CuotaRepercutida=Decimal("-0.21"),
                )
            ]
        ),
        lambda: alta(
            [linea(BaseImponibleOimporteNoSujeto=Decimal(1), CuotaRepercutida=Decimal("0.21"))]
        ),
    ),
    "3.1.3.15.7.d": Case(lambda: alta([linea(CuotaRepercutida=40)]), alta),
    "3.1.3.15.8": Case(
        lambda: alta(
            [linea(BaseImponibleOimporteNoSujeto=2500, CuotaRepercutida=525)], TipoFactura="F2"
        ),
        lambda: alta(
            [linea(BaseImponibleOimporteNoSujeto=2400, CuotaRepercutida=504)], TipoFactura="F2"
        ),
    ),
    "3.1.3.16": Case(lambda: alta(CuotaTotal=Decimal("21.01")), alta, also={"3.1.3.17"}),
    "3.1.3.17": Case(lambda: alta(ImporteTotal=Decimal("121.01")), alta),
    "3.1.3.20": Case(
        lambda: alta(FechaHoraHusoGenRegistro=generado(15)),
        lambda: alta(FechaHoraHusoGenRegistro=generado(14)),
    ),
    "3.1.4.1": Case(
        lambda: anul(
            IDFactura=IDFacturaAnulada(
                IDEmisorFacturaAnulada=OTRA,
                NumSerieFacturaAnulada="A-1",
                FechaExpedicionFacturaAnulada=date(2025, 3, 10),
            )
        ),
        anul,
    ),
    "3.1.4.2": Case(
        lambda: anul(GeneradoPor="E"), lambda: anul(GeneradoPor="E", Generador=nif(OTRA))
    ),
    "3.1.4.3.a": Case(
        lambda: anul(GeneradoPor="E", Generador=nif(NIF_CLINICA)),
        lambda: anul(GeneradoPor="E", Generador=nif(OTRA)),
    ),
    "3.1.4.3.b": Case(
        lambda: anul(GeneradoPor="D", Generador=generador("02", None, "IT123")),
        lambda: anul(GeneradoPor="D", Generador=generador("02", None, "IT12345678901")),
    ),
    "3.1.4.3.c": Case(
        lambda: anul(GeneradoPor="E", Generador=generador("03", "FR", "P1")),
        lambda: anul(GeneradoPor="E", Generador=nif(OTRA)),
    ),
    "3.1.4.3.d": Case(
        lambda: anul(GeneradoPor="D", Generador=generador("04", "ES", "ID1")),
        lambda: anul(GeneradoPor="D", Generador=generador("03", "ES", "ID1")),
    ),
    "3.1.4.3.e": Case(
        lambda: anul(GeneradoPor="T", Generador=generador("04", "ES", "ID1")),
        lambda: anul(GeneradoPor="T", Generador=generador("03", "ES", "ID1")),
    ),
    "3.1.4.3.f": Case(
        lambda: anul(GeneradoPor="T", Generador=generador("07", "FR", "12345678Z")),
        lambda: anul(GeneradoPor="T", Generador=generador("03", "FR", "P1")),
    ),
    "3.1.5.a": Case(
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="04", CodigoPais="ES", ID="S1"))),
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="03", CodigoPais="ES", ID="S1"))),
    ),
    "3.1.5.b": Case(
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="07", CodigoPais="FR", ID="S1"))),
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="03", CodigoPais="FR", ID="S1"))),
    ),
    "3.1.5.c": Case(
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="02", ID="FR1"))),
        lambda: alta(SistemaInformatico=sistema(IDOtro(IDType="02", ID=FR_VAT))),
    ),
}


def refs(record: rules.RegistroFacturacion, at: datetime) -> set[str]:
    return {v.rule.ref for v in rules.check(record, rules.Context(obligado=NIF_CLINICA, at=at))}


def test_every_rule_of_the_table_has_a_case() -> None:
    assert set(CASES) == {rule.ref for rule in rules.RULES}
    assert len({rule.ref for rule in rules.RULES}) == len(rules.RULES)


@pytest.mark.parametrize("ref", sorted(CASES))
def test_rule_breaks_on_the_bad_record_and_not_on_the_good_one(ref: str) -> None:
    case = CASES[ref]
    broken = refs(case.bad(), case.at_bad)
    assert ref in broken
    assert broken <= {ref} | case.also, f"{ref} also broke {broken - {ref} - case.also}"
    assert refs(case.good(), case.at_good) == set()


@pytest.mark.parametrize("ref", sorted(CASES))
def test_every_message_reads_in_both_languages(ref: str) -> None:
    case = CASES[ref]
    ctx = rules.Context(obligado=NIF_CLINICA, at=case.at_bad)
    violation = next(v for v in rules.check(case.bad(), ctx) if v.rule.ref == ref)
    error = violation.as_error()
    en, es = render(error["message"], "en"), render(error["message"], "es")
    assert en and es and en != es
    assert "{" not in en and "{" not in es  # every placeholder filled
    assert error["rule"] == ref and error["aeat_codes"] == list(violation.rule.codes)
    assert error["field"]


def test_enforce_refuses_with_every_broken_rule_in_the_callers_language() -> None:
    record = alta(
        [linea(TipoImpositivo=Decimal("7.5"), CuotaRepercutida=Decimal("7.5"))],
        FechaOperacion=date(2001, 5, 4),
    )
    with pytest.raises(Unprocessable) as raised:
        rules.enforce(record, rules.Context(obligado=NIF_CLINICA, at=AT))
    err = raised.value
    assert err.code == "VERIFACTU_RULE"
    assert [e["rule"] for e in err.errors] == ["3.1.3.7.a", "3.1.3.15.1"]
    assert "04/05/2001" in render(err.message, "en")
    assert render(err.message, "es").startswith("La AEAT rechazaría este registro VERI*FACTU")
    assert rules.enforce(alta(), rules.Context(obligado=NIF_CLINICA, at=AT)) is None


@pytest.mark.parametrize(
    ("record", "rule", "codes"),
    [
        # the three invoices of issue 14, as billing maps them
        (lambda: alta(Destinatarios=(otro("06", "ES", "AB-1234"),)), "3.1.3.13.e", "1126"),
        (lambda: alta(FechaOperacion=date(2025, 6, 1)), "3.1.3.7.c", "1125"),
        (lambda: alta(FechaOperacion=date(2001, 6, 1)), "3.1.3.7.a", "1134"),
    ],
)
def test_the_records_the_aeat_rejected_are_refused(
    record: Callable[[], RegistroAlta], rule: str, codes: str
) -> None:
    violations = rules.check(record(), rules.Context(obligado=NIF_CLINICA, at=AT))
    assert rule in {v.rule.ref for v in violations}
    assert any(codes in v.rule.codes for v in violations)


def test_vat_numbers_follow_the_brexit_dates() -> None:
    xi = otro("02", None, "XI123456789")
    gb = otro("02", None, "GB123456789")
    assert "3.1.3.13.f" not in refs(alta(Destinatarios=(xi,)), AT)
    assert "3.1.3.13.f" in refs(alta(Destinatarios=(gb,)), AT)  # GB only before 02-2021
    assert "3.1.3.13.f" in refs(alta(Destinatarios=(otro("02", None, "fr12345678901"),)), AT)


def test_rates_allowed_by_date() -> None:
    assert rules._tipos_iva_admitidos(date(2024, 11, 1)) >= {Decimal(2), Decimal("7.5")}
    assert Decimal(5) in rules._tipos_iva_admitidos(date(2023, 1, 1))
    assert Decimal(5) not in rules._tipos_iva_admitidos(date(2025, 1, 1))


def test_the_table_cites_what_it_leaves_to_the_aeat() -> None:
    assert rules.LEFT_TO_AEAT and rules.BY_CONSTRUCTION
    for rule in rules.RULES:
        assert rule.codes and all(c.isdigit() and len(c) == 4 for c in rule.codes)
