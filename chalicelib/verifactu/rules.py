"""The AEAT's business validations of a registro de facturación, as one table.

Source: "Validaciones y errores" v1.2.2 (AEAT_validaciones_errores, 2026-04-08), section 3.1
(3.1.3 alta, 3.1.4 anulación, 3.1.5 SistemaInformatico), and the error codes of the web
service (AEAT_errores.properties). ``RULES`` lists every rule that can be checked before a
record is sent: each row cites the document's number (``ref``), the AEAT error code(s) it
prevents, and what a receptionist reads, in English and Spanish. ``check(record, context)``
returns the rules a record breaks; ``enforce`` turns them into a 422 before the record is
chained (issue, annulment, subsanación), so nothing the AEAT would reject is ever written.

What the models already guarantee (the XSD: types, lengths, lists, ``choice`` groups; the
huella) is listed in ``BY_CONSTRUCTION``; what only the AEAT can know (its census, its
registers, its clock) in ``LEFT_TO_AEAT``. docs/adr/0208-verifactu-aeat-validations.md.

The rules that depend on "la fecha actual" use the AEAT's date, the date in Madrid when the
record is generated (``Context.at``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from chalicelib.core import validators
from chalicelib.core.errors import Unprocessable
from chalicelib.core.i18n import tr

from .format import parse_fecha, parse_fecha_hora_huso
from .records import (
    DetalleDesglose,
    IDOtro,
    PersonaFisicaJuridica,
    RegistroAlta,
    RegistroAnulacion,
    RegistroFacturacion,
)

AEAT_ZONE = ZoneInfo("Europe/Madrid")  # the AEAT's "fecha actual"

RECTIFICATIVAS = frozenset({"R1", "R2", "R3", "R4", "R5"})
CON_DESTINATARIO = frozenset({"F1", "F3", "R1", "R2", "R3", "R4"})
SIN_DESTINATARIO = frozenset({"F2", "R5"})
FECHA_MINIMA = date(2024, 10, 28)  # 3.1.3.1: entry into force of Orden HAC/1177/2024
MACRODATO = Decimal("100000000.00")  # 3.1.3.10
LIMITE_SIMPLIFICADA = Decimal("3000.00")  # 15.8; RD 1619/2012 art. 4.1 (no +10 EUR margin)
TOLERANCIA = Decimal("10.00")  # 15.7
SIN_VALIDACION_TOTALES = frozenset({"03", "05", "06", "08", "09"})  # 16 and 17
PENDIENTE_DEVENGO = frozenset({"14", "15"})  # 3.1.3.1 / 3.1.3.7
L8A = frozenset(
    {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "14", "15", "17", "18"}
    | {"19", "20"}
)  # DsRegistro list L8A (IVA)
L8B = frozenset(
    {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "14", "15", "17", "18"}
    | {"19"}
)  # DsRegistro list L8B (IGIC)
IGIC_EXTRA = frozenset({"20", "21"})  # 15.6 and 15.6.11
IPSI_CLAVES = frozenset({"01", "08", "11", "18", "19", "20"})  # 15.6
RECARGOS_S1 = frozenset(
    Decimal(v) for v in ("0", "0.26", "0.5", "0.62", "1", "1.4", "1.75", "5.2")
)  # 15.3

# Nota (1) of section 3.1.5: the structure of an EU VAT number (NIF-IVA) per country.
NIF_IVA = {
    "DE": r"\d{9}",
    "AT": r"[0-9A-Z]{9}",
    "BE": r"\d{10}",
    "CY": r"[0-9A-Z]{9}",
    "CZ": r"\d{8,10}",
    "HR": r"\d{11}",
    "DK": r"\d{8}",
    "SK": r"\d{10}",
    "SI": r"\d{8}",
    "EE": r"\d{9}",
    "FI": r"\d{8}",
    "FR": r"[0-9A-Z]{11}",
    "EL": r"\d{9}",
    "GB": r"[0-9A-Z]{5}|[0-9A-Z]{9}|[0-9A-Z]{12}",
    "XI": r"[0-9A-Z]{5}|[0-9A-Z]{9}|[0-9A-Z]{12}",
    "NL": r"[0-9A-Z]{12}",
    "HU": r"\d{8}",
    "IT": r"\d{11}",
    "IE": r"[0-9A-Z]{8,9}",
    "LV": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "MT": r"\d{8}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "SE": r"\d{12}",
    "BG": r"\d{9,10}",
    "RO": r"[1-9]\d{1,9}",
}


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the record: the NIF of the ObligadoEmision (the chain's
    issuer) and the moment the record is generated."""

    obligado: str
    at: datetime

    @property
    def today(self) -> date:
        return self.at.astimezone(AEAT_ZONE).date()


@dataclass(frozen=True)
class Finding:
    field: str
    params: dict[str, Any]


Check = Callable[[Any, Context], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    ref: str  # number in AEAT_validaciones_errores v1.2.2 (a letter for each bullet)
    codes: tuple[str, ...]  # AEAT error codes the rule prevents
    applies_to: Literal["alta", "anulacion", "both"]
    check: Check
    en: str
    es: str


@dataclass(frozen=True)
class Violation:
    rule: Rule
    finding: Finding

    @property
    def message(self) -> str:
        p = self.finding.params
        return tr(self.rule.en.format(**p), self.rule.es.format(**p))

    def as_error(self) -> dict[str, Any]:
        return {
            "field": self.finding.field,
            "rule": self.rule.ref,
            "aeat_codes": list(self.rule.codes),
            "message": self.message,
        }


# --- helpers ---------------------------------------------------------------------------------


def _dmy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _expedicion(r: RegistroAlta) -> date:
    return parse_fecha(r.IDFactura.FechaExpedicionFactura)


def _operacion(r: RegistroAlta) -> date | None:
    return parse_fecha(r.FechaOperacion) if r.FechaOperacion else None


def _fecha_devengo(r: RegistroAlta) -> date:
    """FechaOperacion, or FechaExpedicionFactura when there is none (15.1, 15.3, nota 1)."""
    return _operacion(r) or _expedicion(r)


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _iva(linea: DetalleDesglose) -> bool:
    return linea.Impuesto in (None, "01")


def _iva_igic(linea: DetalleDesglose) -> bool:
    return linea.Impuesto in (None, "01", "03")


def _lineas(r: RegistroAlta) -> Iterator[tuple[int, DetalleDesglose]]:
    return enumerate(r.Desglose, start=1)


def _all_devengo_pendiente(r: RegistroAlta) -> bool:
    """Every IVA/IGIC line has ClaveRegimen 14 or 15 (3.1.3.1 and 3.1.3.7)."""
    return all(ln.ClaveRegimen in PENDIENTE_DEVENGO for ln in r.Desglose if _iva_igic(ln))


def _destinatarios(r: RegistroAlta) -> Iterator[tuple[str, PersonaFisicaJuridica]]:
    for n, d in enumerate(r.Destinatarios or (), start=1):
        yield f"Destinatarios[{n}]", d


def _otros(r: RegistroAlta) -> Iterator[tuple[str, IDOtro]]:
    for where, d in _destinatarios(r):
        if d.IDOtro is not None:
            yield f"{where}.IDOtro", d.IDOtro


def _one(cond: bool, field: str, **params: Any) -> Iterator[Finding]:
    if cond:
        yield Finding(field, params)


def _nif_iva_ok(otro: IDOtro, fecha: date) -> bool:
    """Nota (1): the ID starts with a member state's code and has that state's structure
    (upper case only); the BREXIT dates for GB/XI."""
    ident = otro.ID
    prefix, number = ident[:2], ident[2:]
    pattern = NIF_IVA.get(prefix)
    if pattern is None or not re.fullmatch(pattern, number):
        return False
    if prefix == "XI" and fecha < date(2021, 1, 1):
        return False
    return not (prefix == "GB" and fecha >= date(2021, 2, 1))


def _nif_persona_fisica(nif: str) -> bool:
    return validators.valid_dni(nif) or validators.valid_nie(nif)


# --- 3.1.3 RegistroAlta ----------------------------------------------------------------------


def _emisor_es_obligado(r: RegistroFacturacion, ctx: Context) -> Iterator[Finding]:
    field = (
        "IDFactura.IDEmisorFactura"
        if isinstance(r, RegistroAlta)
        else "IDFactura.IDEmisorFacturaAnulada"
    )
    yield from _one(r.id_emisor != ctx.obligado, field, nif=r.id_emisor, obligado=ctx.obligado)


def _expedicion_no_futura(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    exp = _expedicion(r)
    yield from _one(exp > ctx.today, "IDFactura.FechaExpedicionFactura", fecha=_dmy(exp))


def _expedicion_veinte_anos(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    exp, minimo = _expedicion(r), _years_before(ctx.today, 20)
    yield from _one(
        exp < minimo, "IDFactura.FechaExpedicionFactura", fecha=_dmy(exp), minimo=_dmy(minimo)
    )


def _expedicion_antes_de_operacion(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    op, exp = _operacion(r), _expedicion(r)
    yield from _one(
        op is not None and exp < op and not _all_devengo_pendiente(r),
        "FechaOperacion",
        operacion=_dmy(op) if op else "",
        expedicion=_dmy(exp),
    )


def _expedicion_minima(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    exp = _expedicion(r)
    yield from _one(exp < FECHA_MINIMA, "IDFactura.FechaExpedicionFactura", fecha=_dmy(exp))


def _num_serie_caracteres(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    num = r.IDFactura.NumSerieFactura
    bad = [ch for ch in num if not 32 <= ord(ch) <= 126 or ch in "\"'<>="]
    yield from _one(
        bool(bad), "IDFactura.NumSerieFactura", numero=num, caracter=f"«{bad[0]}»" if bad else ""
    )


def _rechazo_previo_x(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(r.RechazoPrevio == "X" and r.Subsanacion != "S", "RechazoPrevio")


def _rechazo_previo_s(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(r.RechazoPrevio == "S" and r.Subsanacion != "S", "RechazoPrevio")


def _tipo_rectificativa(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        (r.TipoFactura in RECTIFICATIVAS) != (r.TipoRectificativa is not None),
        "TipoRectificativa",
        tipo=r.TipoFactura,
    )


def _facturas_rectificadas(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.FacturasRectificadas is not None and r.TipoFactura not in RECTIFICATIVAS,
        "FacturasRectificadas",
        tipo=r.TipoFactura,
    )


def _facturas_sustituidas(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.FacturasSustituidas is not None and r.TipoFactura != "F3",
        "FacturasSustituidas",
        tipo=r.TipoFactura,
    )


def _importe_rectificacion(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        (r.TipoRectificativa == "S") != (r.ImporteRectificacion is not None),
        "ImporteRectificacion",
    )


def _operacion_veinte_anos(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    op, minimo = _operacion(r), _years_before(ctx.today, 20)
    yield from _one(
        op is not None and op < minimo,
        "FechaOperacion",
        fecha=_dmy(op) if op else "",
        minimo=_dmy(minimo),
    )


def _operacion_ano_siguiente(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    op, maximo = _operacion(r), date(ctx.today.year + 1, 12, 31)
    yield from _one(op is not None and op > maximo, "FechaOperacion", fecha=_dmy(op) if op else "")


def _operacion_futura(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    op = _operacion(r)
    yield from _one(
        op is not None and op > ctx.today and not _all_devengo_pendiente(r),
        "FechaOperacion",
        fecha=_dmy(op) if op else "",
        hoy=_dmy(ctx.today),
    )


def _simplificada_7273(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.FacturaSimplificadaArt7273 == "S" and r.TipoFactura not in CON_DESTINATARIO,
        "FacturaSimplificadaArt7273",
        tipo=r.TipoFactura,
    )


def _sin_identif_61d(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.FacturaSinIdentifDestinatarioArt61d == "S" and r.TipoFactura not in SIN_DESTINATARIO,
        "FacturaSinIdentifDestinatarioArt61d",
        tipo=r.TipoFactura,
    )


def _macrodato_obligatorio(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        abs(Decimal(r.ImporteTotal)) >= MACRODATO and r.Macrodato != "S",
        "Macrodato",
        importe=r.ImporteTotal,
    )


def _macrodato_solo_grandes(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        abs(Decimal(r.ImporteTotal)) < MACRODATO and r.Macrodato == "S",
        "Macrodato",
        importe=r.ImporteTotal,
    )


def _emitida_por_tercero(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(r.EmitidaPorTerceroODestinatario == "T" and r.Tercero is None, "Tercero")


def _emitida_por_destinatario(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.EmitidaPorTerceroODestinatario == "D" and not r.Destinatarios, "Destinatarios"
    )


def _tercero_solo_con_t(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(r.Tercero is not None and r.EmitidaPorTerceroODestinatario != "T", "Tercero")


def _tercero_distinto(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    t = r.Tercero
    yield from _one(t is not None and ctx.obligado == t.NIF, "Tercero.NIF", nif=ctx.obligado)


def _tercero_no_censado(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    t = r.Tercero
    yield from _one(
        t is not None and t.IDOtro is not None and t.IDOtro.IDType == "07", "Tercero.IDOtro"
    )


def _tercero_es_pasaporte(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    t = r.Tercero
    otro = t.IDOtro if t is not None else None
    yield from _one(
        otro is not None and otro.CodigoPais == "ES" and otro.IDType != "03",
        "Tercero.IDOtro.IDType",
        tipo=otro.IDType if otro else "",
    )


def _tercero_nif_iva(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    t = r.Tercero
    otro = t.IDOtro if t is not None else None
    yield from _one(
        otro is not None and otro.IDType == "02" and not _nif_iva_ok(otro, _fecha_devengo(r)),
        "Tercero.IDOtro.ID",
        id=otro.ID if otro else "",
    )


def _destinatarios_obligatorios(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.TipoFactura in CON_DESTINATARIO and not r.Destinatarios,
        "Destinatarios",
        tipo=r.TipoFactura,
    )


def _destinatarios_prohibidos(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(
        r.TipoFactura in SIN_DESTINATARIO and bool(r.Destinatarios),
        "Destinatarios",
        tipo=r.TipoFactura,
    )


def _codigo_pais_obligatorio(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    """Error 1111: CodigoPais is required unless IDType is 02 (NIF-IVA) (3.1.3.12-13)."""
    otros = list(_otros(r))
    if r.Tercero is not None and r.Tercero.IDOtro is not None:
        otros.append(("Tercero.IDOtro", r.Tercero.IDOtro))
    for where, otro in otros:
        if otro.IDType != "02" and otro.CodigoPais is None:
            yield Finding(f"{where}.CodigoPais", {"id": otro.ID})


def _no_censado_es(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, otro in _otros(r):
        if otro.IDType == "07" and otro.CodigoPais != "ES":
            yield Finding(f"{where}.CodigoPais", {"pais": otro.CodigoPais or ""})


def _es_solo_pasaporte_o_no_censado(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, otro in _otros(r):
        if otro.CodigoPais == "ES" and otro.IDType not in ("03", "07"):
            yield Finding(f"{where}.IDType", {"tipo": otro.IDType})


def _nif_iva_estructura(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, otro in _otros(r):
        if otro.IDType == "02" and not _nif_iva_ok(otro, _fecha_devengo(r)):
            yield Finding(f"{where}.ID", {"id": otro.ID})


def _nif_iva_tipo_factura(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, otro in _otros(r):
        if otro.IDType == "02" and r.TipoFactura not in CON_DESTINATARIO:
            yield Finding(f"{where}.IDType", {"tipo": r.TipoFactura})


def _destinatario_distinto(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, d in _destinatarios(r):
        if d.NIF is not None and ctx.obligado == d.NIF:
            yield Finding(f"{where}.NIF", {"nif": d.NIF})


def _destinatario_nif_formato(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, d in _destinatarios(r):
        if d.NIF is not None and not validators.valid_spanish_nif(d.NIF):
            yield Finding(f"{where}.NIF", {"nif": d.NIF, "nombre": d.NombreRazon})


def _no_censado_persona_fisica(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for where, otro in _otros(r):
        if otro.IDType == "07" and not _nif_persona_fisica(otro.ID):
            yield Finding(f"{where}.ID", {"id": otro.ID})


def _r3_destinatarios(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    if r.TipoFactura == "R3":
        for where, otro in _otros(r):
            if otro.IDType != "07":
                yield Finding(f"{where}.IDType", {"tipo": otro.IDType})


def _r2_destinatarios(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    if r.TipoFactura == "R2":
        for where, otro in _otros(r):
            if otro.IDType not in ("02", "07"):
                yield Finding(f"{where}.IDType", {"tipo": otro.IDType})


def _cupon(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    yield from _one(r.Cupon == "S" and r.TipoFactura not in ("R1", "R5"), "Cupon")


# --- 15 Desglose ---------------------------------------------------------------------------


def _tipos_iva_admitidos(fecha: date) -> frozenset[Decimal]:
    tipos = {Decimal(0), Decimal(4), Decimal(10), Decimal(21)}
    if date(2022, 7, 1) <= fecha <= date(2024, 9, 30):
        tipos.add(Decimal(5))
    if date(2024, 10, 1) <= fecha <= date(2024, 12, 31):
        tipos.update({Decimal(2), Decimal("7.5")})
    return frozenset(tipos)


def _tipo_impositivo(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    fecha = _fecha_devengo(r)
    for n, ln in _lineas(r):
        s1 = _iva(ln) and ln.CalificacionOperacion == "S1" and ln.TipoImpositivo is not None
        if s1 and Decimal(ln.TipoImpositivo or "0") not in _tipos_iva_admitidos(fecha):
            yield Finding(
                f"Desglose[{n}].TipoImpositivo",
                {"linea": n, "tipo": ln.TipoImpositivo, "fecha": _dmy(fecha)},
            )


def _base_a_coste(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.BaseImponibleACoste is not None and not (
            ln.ClaveRegimen == "06" or ln.Impuesto in ("02", "05")
        ):
            yield Finding(f"Desglose[{n}].BaseImponibleACoste", {"linea": n})


def _recargos_admitidos(tipo: Decimal, fecha: date) -> frozenset[Decimal] | None:
    """15.3: TipoRecargoEquivalencia allowed for an IVA S1 rate on that date (None: any of
    the general list)."""
    oct_dic_2024 = date(2024, 10, 1) <= fecha <= date(2024, 12, 31)
    if tipo == 21:
        return frozenset({Decimal("5.2"), Decimal("1.75")})
    if tipo == 10:
        return frozenset({Decimal("1.4")})
    if tipo == Decimal("7.5"):
        return frozenset({Decimal(1)}) if oct_dic_2024 else frozenset()
    if tipo == 5:
        if fecha <= date(2022, 12, 31):
            return frozenset({Decimal("0.5")})
        if fecha <= date(2024, 9, 30):
            return frozenset({Decimal("0.62")})
        return frozenset()
    if tipo == 4:
        return frozenset({Decimal("0.5")})
    if tipo == 2:
        return frozenset({Decimal("0.26")}) if oct_dic_2024 else frozenset()
    if tipo == 0:
        if date(2023, 1, 1) <= fecha <= date(2024, 9, 30):
            return frozenset({Decimal(0)})
        if fecha >= date(2024, 10, 1):
            return frozenset({Decimal("0.26")})
    return None


def _tipo_recargo(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    fecha = _fecha_devengo(r)
    for n, ln in _lineas(r):
        if (
            not (_iva(ln) and ln.CalificacionOperacion == "S1")
            or ln.TipoRecargoEquivalencia is None
        ):
            continue
        recargo = Decimal(ln.TipoRecargoEquivalencia)
        admitidos = RECARGOS_S1
        if ln.TipoImpositivo is not None:
            especificos = _recargos_admitidos(Decimal(ln.TipoImpositivo), fecha)
            if especificos is not None:
                admitidos = especificos
        if recargo not in admitidos:
            yield Finding(
                f"Desglose[{n}].TipoRecargoEquivalencia",
                {"linea": n, "recargo": ln.TipoRecargoEquivalencia, "tipo": ln.TipoImpositivo},
            )


def _recargo_solo_s1(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        has = ln.TipoRecargoEquivalencia is not None or ln.CuotaRecargoEquivalencia is not None
        if has and ln.CalificacionOperacion != "S1":
            yield Finding(f"Desglose[{n}].TipoRecargoEquivalencia", {"linea": n})


def _recargo_juntos(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if (ln.TipoRecargoEquivalencia is None) != (ln.CuotaRecargoEquivalencia is None):
            yield Finding(f"Desglose[{n}].CuotaRecargoEquivalencia", {"linea": n})


def _s2_tipo_factura(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.CalificacionOperacion == "S2" and r.TipoFactura not in CON_DESTINATARIO:
            yield Finding(
                f"Desglose[{n}].CalificacionOperacion", {"linea": n, "tipo": r.TipoFactura}
            )


def _s2_cero(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.CalificacionOperacion == "S2" and (
            ln.TipoImpositivo is None
            or Decimal(ln.TipoImpositivo) != 0
            or ln.CuotaRepercutida is None
            or Decimal(ln.CuotaRepercutida) != 0
        ):
            yield Finding(f"Desglose[{n}].CuotaRepercutida", {"linea": n})


def _no_sujeta_sin_cuotas(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        cuotas = (
            ln.TipoImpositivo,
            ln.CuotaRepercutida,
            ln.TipoRecargoEquivalencia,
            ln.CuotaRecargoEquivalencia,
        )
        if (
            ln.CalificacionOperacion in ("N1", "N2")
            and _iva(ln)
            and any(v is not None for v in cuotas)
        ):
            yield Finding(f"Desglose[{n}].TipoImpositivo", {"linea": n})


def _exenta_e2_e3(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if _iva_igic(ln) and ln.ClaveRegimen == "01" and ln.OperacionExenta in ("E2", "E3"):
            yield Finding(
                f"Desglose[{n}].OperacionExenta", {"linea": n, "causa": ln.OperacionExenta}
            )


def _exenta_sin_cuotas(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        cuotas = (
            ln.TipoImpositivo,
            ln.CuotaRepercutida,
            ln.TipoRecargoEquivalencia,
            ln.CuotaRecargoEquivalencia,
        )
        if ln.OperacionExenta is not None and any(v is not None for v in cuotas):
            yield Finding(f"Desglose[{n}].TipoImpositivo", {"linea": n})


def _exenta_e5_idotro(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    e5 = any(_iva(ln) and ln.OperacionExenta == "E5" for ln in r.Desglose)
    if e5:
        for where, d in _destinatarios(r):
            if d.IDOtro is None:
                yield Finding(f"{where}.NIF", {"nif": d.NIF})


def _clave_solo_con_impuesto(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.ClaveRegimen is not None and ln.Impuesto not in (None, "01", "02", "03"):
            yield Finding(f"Desglose[{n}].ClaveRegimen", {"linea": n})


def _clave_obligatoria(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.ClaveRegimen is None and ln.Impuesto in (None, "01", "02", "03"):
            yield Finding(f"Desglose[{n}].ClaveRegimen", {"linea": n})


def _clave_en_lista(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        clave = ln.ClaveRegimen
        if clave is None:
            continue
        allowed = {
            None: L8A,
            "01": L8A,
            "02": IPSI_CLAVES,  # an error from 01-01-2027, a warning before
            "03": L8B | IGIC_EXTRA,
        }.get(ln.Impuesto)
        if allowed is not None and clave not in allowed:
            yield Finding(f"Desglose[{n}].ClaveRegimen", {"linea": n, "clave": clave})


def _clave_linea(clave: str, bad: Callable[[DetalleDesglose, RegistroAlta], bool]) -> Check:
    """A rule on IVA/IGIC lines with ``ClaveRegimen == clave`` (15.6.x)."""

    def check(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
        for n, ln in _lineas(r):
            if _iva_igic(ln) and ln.ClaveRegimen == clave and bad(ln, r):
                yield Finding(f"Desglose[{n}].ClaveRegimen", {"linea": n, "clave": clave})

    return check


def _clave_14_fecha(ln: DetalleDesglose, r: RegistroAlta) -> bool:
    op = _operacion(r)
    return op is None or op <= _expedicion(r)


def _clave_14_destinatarios(ln: DetalleDesglose, r: RegistroAlta) -> bool:
    return any(d.NIF is None or d.NIF[:1] not in "PQSV" for d in r.Destinatarios or ())


def _igic_20(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.Impuesto == "03" and ln.ClaveRegimen == "20" and ln.CalificacionOperacion != "N2":
            yield Finding(f"Desglose[{n}].CalificacionOperacion", {"linea": n})


def _cuota_solo_s1(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.CalificacionOperacion != "S1" and ln.CuotaRepercutida not in (None, "0.00"):
            yield Finding(f"Desglose[{n}].CuotaRepercutida", {"linea": n})


def _s1_tipo_y_cuota(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln in _lineas(r):
        if ln.CalificacionOperacion == "S1" and (
            ln.TipoImpositivo is None or ln.CuotaRepercutida is None
        ):
            yield Finding(f"Desglose[{n}].CuotaRepercutida", {"linea": n})


def _sin_control_cuota(r: RegistroAlta) -> bool:
    return r.TipoRectificativa == "I" or r.TipoFactura in ("R2", "R3")


def _s1_lineas_controladas(r: RegistroAlta) -> Iterator[tuple[int, DetalleDesglose, Decimal]]:
    if _sin_control_cuota(r):
        return
    for n, ln in _lineas(r):
        if ln.CalificacionOperacion == "S1" and ln.CuotaRepercutida is not None:
            base = Decimal(ln.BaseImponibleACoste or ln.BaseImponibleOimporteNoSujeto)
            yield n, ln, base


def _cuota_signo(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln, base in _s1_lineas_controladas(r):
        cuota = Decimal(ln.CuotaRepercutida or "0")
        if (base < 0 < cuota) or (cuota < 0 < base):
            yield Finding(f"Desglose[{n}].CuotaRepercutida", {"linea": n})


def _cuota_tipo(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    for n, ln, base in _s1_lineas_controladas(r):
        if ln.TipoImpositivo is None:
            continue
        cuota = Decimal(ln.CuotaRepercutida or "0")
        esperada = base * Decimal(ln.TipoImpositivo) / 100
        if abs(cuota - esperada) > TOLERANCIA:
            yield Finding(
                f"Desglose[{n}].CuotaRepercutida",
                {"linea": n, "cuota": ln.CuotaRepercutida, "esperada": f"{esperada:.2f}"},
            )


def _limite_simplificada(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    limitada = r.TipoFactura == "F2" and not (
        r.NumRegistroAcuerdoFacturacion or r.FacturaSinIdentifDestinatarioArt61d == "S"
    )
    total = sum(
        (
            Decimal(ln.BaseImponibleOimporteNoSujeto) + Decimal(ln.CuotaRepercutida or "0")
            for ln in r.Desglose
        ),
        Decimal(0),
    )
    yield from _one(limitada and total > LIMITE_SIMPLIFICADA, "ImporteTotal", total=f"{total:.2f}")


def _totales_controlados(r: RegistroAlta) -> bool:
    return not ({ln.ClaveRegimen for ln in r.Desglose} & SIN_VALIDACION_TOTALES)


def _cuota_total(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    suma = sum((ln.cuota for ln in r.Desglose), Decimal(0))
    yield from _one(
        _totales_controlados(r) and Decimal(r.CuotaTotal) != suma,
        "CuotaTotal",
        total=r.CuotaTotal,
        suma=f"{suma:.2f}",
    )


def _importe_total(r: RegistroAlta, ctx: Context) -> Iterator[Finding]:
    suma = sum((ln.importe for ln in r.Desglose), Decimal(0))
    yield from _one(
        _totales_controlados(r) and Decimal(r.ImporteTotal) != suma,
        "ImporteTotal",
        total=r.ImporteTotal,
        suma=f"{suma:.2f}",
    )


def _generado_no_futuro(r: RegistroFacturacion, ctx: Context) -> Iterator[Finding]:
    generado = parse_fecha_hora_huso(r.FechaHoraHusoGenRegistro)
    yield from _one(
        generado > ctx.at, "FechaHoraHusoGenRegistro", generado=r.FechaHoraHusoGenRegistro
    )


# --- 3.1.4 RegistroAnulacion and 3.1.5 SistemaInformatico ------------------------------------


def _generado_por_y_generador(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    yield from _one((r.GeneradoPor is None) != (r.Generador is None), "GeneradoPor")


def _generador_distinto(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    g = r.Generador
    yield from _one(g is not None and ctx.obligado == g.NIF, "Generador.NIF", nif=ctx.obligado)


def _generador_nif_iva(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    otro = r.Generador.IDOtro if r.Generador is not None else None
    fecha = parse_fecha(r.IDFactura.FechaExpedicionFacturaAnulada)
    yield from _one(
        otro is not None and otro.IDType == "02" and not _nif_iva_ok(otro, fecha),
        "Generador.IDOtro.ID",
        id=otro.ID if otro else "",
    )


def _generador_por_emisor(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    g = r.Generador
    yield from _one(r.GeneradoPor == "E" and g is not None and g.NIF is None, "Generador.NIF")


def _generador_destinatario_es(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    otro = r.Generador.IDOtro if r.Generador is not None else None
    yield from _one(
        r.GeneradoPor == "D"
        and otro is not None
        and otro.CodigoPais == "ES"
        and otro.IDType not in ("03", "07"),
        "Generador.IDOtro.IDType",
        tipo=otro.IDType if otro else "",
    )


def _generador_tercero_es(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    otro = r.Generador.IDOtro if r.Generador is not None else None
    yield from _one(
        r.GeneradoPor == "T"
        and otro is not None
        and otro.CodigoPais == "ES"
        and otro.IDType != "03",
        "Generador.IDOtro.IDType",
        tipo=otro.IDType if otro else "",
    )


def _generador_tercero_no_censado(r: RegistroAnulacion, ctx: Context) -> Iterator[Finding]:
    otro = r.Generador.IDOtro if r.Generador is not None else None
    yield from _one(
        r.GeneradoPor == "T" and otro is not None and otro.IDType == "07",
        "Generador.IDOtro.IDType",
    )


def _sistema_es_pasaporte(r: RegistroFacturacion, ctx: Context) -> Iterator[Finding]:
    otro = r.SistemaInformatico.IDOtro
    yield from _one(
        otro is not None and otro.CodigoPais == "ES" and otro.IDType != "03",
        "SistemaInformatico.IDOtro.IDType",
    )


def _sistema_no_censado(r: RegistroFacturacion, ctx: Context) -> Iterator[Finding]:
    otro = r.SistemaInformatico.IDOtro
    yield from _one(otro is not None and otro.IDType == "07", "SistemaInformatico.IDOtro.IDType")


def _sistema_nif_iva(r: RegistroFacturacion, ctx: Context) -> Iterator[Finding]:
    otro = r.SistemaInformatico.IDOtro
    fecha = ctx.today
    yield from _one(
        otro is not None and otro.IDType == "02" and not _nif_iva_ok(otro, fecha),
        "SistemaInformatico.IDOtro.ID",
    )


_LINE = "Line {linea} of the tax breakdown: "
_LINEA = "Línea {linea} del desglose de impuestos: "

# fmt: off
RULES: tuple[Rule, ...] = (
    # 3.1.3.1 IDFactura
    Rule("3.1.3.1.a", ("1108",), "alta", _emisor_es_obligado,
         "The invoice's issuer NIF {nif} is not the NIF this clinic sends to the AEAT ({obligado}); check the clinic's tax details.",
         "El NIF emisor de la factura {nif} no es el NIF con el que la clínica remite a la AEAT ({obligado}); revisa los datos fiscales de la clínica."),
    Rule("3.1.3.1.b", ("1112",), "alta", _expedicion_no_futura,
         "The issue date {fecha} is in the future; an invoice is issued with today's date or an earlier one.",
         "La fecha de expedición {fecha} es futura; una factura se expide con la fecha de hoy o una anterior."),
    Rule("3.1.3.1.c", ("1133",), "alta", _expedicion_veinte_anos,
         "The issue date {fecha} is more than 20 years ago; the AEAT accepts issue dates from {minimo}.",
         "La fecha de expedición {fecha} es de hace más de 20 años; la AEAT admite fechas de expedición desde el {minimo}."),
    Rule("3.1.3.1.d", ("1146",), "alta", _expedicion_antes_de_operacion,
         "The operation date {operacion} is after the issue date {expedicion}: a treatment is invoiced once it has been carried out. Set the operation date on or before {expedicion}, or leave it empty.",
         "La fecha de operación {operacion} es posterior a la de expedición {expedicion}: un tratamiento se factura una vez realizado. Pon una fecha de operación igual o anterior al {expedicion}, o déjala vacía."),
    Rule("3.1.3.1.e", ("1152",), "alta", _expedicion_minima,
         "The issue date {fecha} is before 28/10/2024, when VERI*FACTU came into force; it cannot be registered.",
         "La fecha de expedición {fecha} es anterior al 28/10/2024, entrada en vigor de VERI*FACTU; no se puede registrar."),
    Rule("3.1.3.1.f", ("1130", "1287"), "alta", _num_serie_caracteres,
         "The invoice number {numero} contains a character the AEAT does not accept {caracter}; series and numbers may use letters without accents, digits and symbols other than quotes, < > and =.",
         "El número de factura {numero} contiene un carácter que la AEAT no admite {caracter}; las series y números pueden usar letras sin tilde, cifras y símbolos que no sean comillas, < > ni =."),
    # 3.1.3.2 RechazoPrevio
    Rule("3.1.3.2.a", ("1153",), "alta", _rechazo_previo_x,
         "A correction after a rejection (RechazoPrevio X) must be marked as a subsanación.",
         "Una corrección tras un rechazo (RechazoPrevio X) debe marcarse como subsanación."),
    Rule("3.1.3.2.b", ("1161",), "alta", _rechazo_previo_s,
         "A correction after a rejected correction (RechazoPrevio S) must be marked as a subsanación.",
         "Una corrección tras una subsanación rechazada (RechazoPrevio S) debe marcarse como subsanación."),
    # 3.1.3.3 - 3.1.3.6 rectifying invoices
    Rule("3.1.3.3", ("1114", "1115"), "alta", _tipo_rectificativa,
         "Invoice type {tipo}: only rectifying invoices say whether they rectify by substitution or by differences, and they must say it.",
         "Factura de tipo {tipo}: solo las rectificativas indican si rectifican por sustitución o por diferencias, y deben indicarlo."),
    Rule("3.1.3.4", ("1117",), "alta", _facturas_rectificadas,
         "Invoice type {tipo} cannot list rectified invoices; only rectifying invoices (R1 to R5) can.",
         "Una factura de tipo {tipo} no puede indicar facturas rectificadas; solo las rectificativas (R1 a R5)."),
    Rule("3.1.3.5", ("1116",), "alta", _facturas_sustituidas,
         "Invoice type {tipo} cannot list substituted simplified invoices; only an F3 invoice can.",
         "Una factura de tipo {tipo} no puede indicar facturas simplificadas sustituidas; solo una factura F3."),
    Rule("3.1.3.6", ("1118", "1119"), "alta", _importe_rectificacion,
         "A rectifying invoice by substitution must state the rectified base and VAT, and only such an invoice may.",
         "Una rectificativa por sustitución debe indicar la base y la cuota rectificadas, y solo ella puede indicarlas."),
    # 3.1.3.7 FechaOperacion
    Rule("3.1.3.7.a", ("1134",), "alta", _operacion_veinte_anos,
         "The operation date {fecha} is more than 20 years ago; the AEAT accepts operation dates from {minimo}. Check the operation date.",
         "La fecha de operación {fecha} es de hace más de 20 años; la AEAT admite fechas de operación desde el {minimo}. Revisa la fecha de operación."),
    Rule("3.1.3.7.b", ("1125",), "alta", _operacion_ano_siguiente,
         "The operation date {fecha} is later than the end of next year; check the operation date.",
         "La fecha de operación {fecha} es posterior al final del año que viene; revisa la fecha de operación."),
    Rule("3.1.3.7.c", ("1125", "1173"), "alta", _operacion_futura,
         "The operation date {fecha} is in the future (today is {hoy}): a treatment is invoiced once it has been carried out. Correct the operation date, or issue the invoice on or after {fecha}.",
         "La fecha de operación {fecha} es futura (hoy es {hoy}): un tratamiento se factura una vez realizado. Corrige la fecha de operación o emite la factura a partir del {fecha}."),
    # 3.1.3.8 - 3.1.3.10
    Rule("3.1.3.8", ("1183",), "alta", _simplificada_7273,
         "Invoice type {tipo} cannot be marked as a simplified invoice under articles 7.2 and 7.3.",
         "Una factura de tipo {tipo} no puede marcarse como simplificada de los artículos 7.2 y 7.3."),
    Rule("3.1.3.9", ("1185",), "alta", _sin_identif_61d,
         "Invoice type {tipo} cannot be marked as issued without identifying the customer (art. 6.1.d); only F2 and R5 can.",
         "Una factura de tipo {tipo} no puede marcarse como emitida sin identificar al destinatario (art. 6.1.d); solo F2 y R5."),
    Rule("3.1.3.10.a", ("1139",), "alta", _macrodato_obligatorio,
         "An invoice of {importe} (100,000,000.00 or more) must be flagged as Macrodato.",
         "Una factura de {importe} (100.000.000,00 o más) debe marcarse como Macrodato."),
    Rule("3.1.3.10.b", ("1138",), "alta", _macrodato_solo_grandes,
         "Only invoices of 100,000,000.00 or more are flagged as Macrodato; this one is {importe}.",
         "Solo las facturas de 100.000.000,00 o más se marcan como Macrodato; esta es de {importe}."),
    # 3.1.3.11 - 3.1.3.12 issued by a third party
    Rule("3.1.3.11.a", ("1186",), "alta", _emitida_por_tercero,
         "An invoice issued by a third party must identify that third party.",
         "Una factura emitida por un tercero debe identificar a ese tercero."),
    Rule("3.1.3.11.b", ("1158",), "alta", _emitida_por_destinatario,
         "An invoice issued by its recipient must identify the recipient.",
         "Una factura emitida por el destinatario debe identificar al destinatario."),
    Rule("3.1.3.12.a", ("1187", "1155"), "alta", _tercero_solo_con_t,
         "A third party can only be given on an invoice issued by that third party.",
         "Solo se indica un tercero en una factura emitida por ese tercero."),
    Rule("3.1.3.12.b", ("1188",), "alta", _tercero_distinto,
         "The third party issuing the invoice cannot be the clinic itself ({nif}).",
         "El tercero que emite la factura no puede ser la propia clínica ({nif})."),
    Rule("3.1.3.12.c", ("1211",), "alta", _tercero_no_censado,
         "A third party issuing the invoice cannot be identified as 'not registered' (No censado).",
         "Un tercero que emite la factura no puede identificarse como 'No censado'."),
    Rule("3.1.3.12.d", ("1232",), "alta", _tercero_es_pasaporte,
         "A third party with a Spanish non-NIF document must be identified by passport (type 03), not type {tipo}.",
         "Un tercero con un documento español que no es NIF debe identificarse con pasaporte (tipo 03), no con el tipo {tipo}."),
    Rule("3.1.3.12.e", ("1103",), "alta", _tercero_nif_iva,
         "The third party's EU VAT number {id} does not have the structure of its country's VAT numbers.",
         "El NIF-IVA del tercero {id} no tiene la estructura de los NIF-IVA de su país."),
    # 3.1.3.13 Destinatarios
    Rule("3.1.3.13.a", ("1189",), "alta", _destinatarios_obligatorios,
         "A full invoice ({tipo}) must identify the customer: record the patient's DNI/NIE or passport (or the payer's NIF), or issue a simplified invoice.",
         "Una factura completa ({tipo}) debe identificar al destinatario: registra el DNI/NIE o pasaporte del paciente (o el NIF del pagador), o emite una factura simplificada."),
    Rule("3.1.3.13.b", ("1190",), "alta", _destinatarios_prohibidos,
         "A simplified invoice ({tipo}) cannot identify the customer; issue a full invoice instead.",
         "Una factura simplificada ({tipo}) no puede identificar al destinatario; emite una factura completa."),
    Rule("3.1.3.13.c", ("1111",), "alta", _codigo_pais_obligatorio,
         "The customer's identity document {id} is not a Spanish DNI/NIE, so the AEAT needs the country that issued it: record the patient's country in their address (or their DNI/NIE if they have one).",
         "El documento de identidad del destinatario {id} no es un DNI/NIE español, así que la AEAT necesita el país que lo expidió: registra el país en la dirección del paciente (o su DNI/NIE si lo tiene)."),
    Rule("3.1.3.13.d", ("1126",), "alta", _no_censado_es,
         "A customer identified as 'not registered' (No censado) must have Spain as country, not {pais}.",
         "Un destinatario identificado como 'No censado' debe tener España como país, no {pais}."),
    Rule("3.1.3.13.e", ("1126", "1234"), "alta", _es_solo_pasaporte_o_no_censado,
         "The customer's identity document is Spanish but is neither a DNI/NIE nor a passport (type {tipo}); the AEAT does not accept it. Record the patient's DNI or NIE, or their passport, on the patient's record.",
         "El documento de identidad del destinatario es español pero no es DNI/NIE ni pasaporte (tipo {tipo}); la AEAT no lo admite. Registra el DNI o NIE del paciente, o su pasaporte, en la ficha del paciente."),
    Rule("3.1.3.13.f", ("1103", "1122", "1254", "1255"), "alta", _nif_iva_estructura,
         "The customer's EU VAT number {id} does not have the structure of its country's VAT numbers; check it.",
         "El NIF-IVA del destinatario {id} no tiene la estructura de los NIF-IVA de su país; revísalo."),
    Rule("3.1.3.13.g", ("1156",), "alta", _nif_iva_tipo_factura,
         "A customer identified by EU VAT number needs a full invoice, not type {tipo}.",
         "Un destinatario identificado con NIF-IVA requiere una factura completa, no de tipo {tipo}."),
    Rule("3.1.3.13.h", ("1193",), "alta", _destinatario_distinto,
         "The customer cannot be the clinic itself ({nif}).",
         "El destinatario no puede ser la propia clínica ({nif})."),
    Rule("3.1.3.13.i", ("1123", "1290"), "alta", _destinatario_nif_formato,
         "The NIF {nif} of {nombre} is not valid (its control letter does not match); correct it on the patient's or payer's record.",
         "El NIF {nif} de {nombre} no es válido (la letra de control no coincide); corrígelo en la ficha del paciente o del pagador."),
    Rule("3.1.3.13.j", ("1131",), "alta", _no_censado_persona_fisica,
         "A customer identified as 'not registered' (No censado) must carry a natural person's NIF, not {id}.",
         "Un destinatario 'No censado' debe llevar el NIF de una persona física, no {id}."),
    Rule("3.1.3.13.k", ("1191",), "alta", _r3_destinatarios,
         "A rectifying invoice R3 identifies its customer by NIF only (document type {tipo} is not accepted).",
         "Una rectificativa R3 identifica al destinatario solo con NIF (no se admite el documento de tipo {tipo})."),
    Rule("3.1.3.13.l", ("1192",), "alta", _r2_destinatarios,
         "A rectifying invoice R2 identifies its customer by NIF or EU VAT number only (document type {tipo} is not accepted).",
         "Una rectificativa R2 identifica al destinatario solo con NIF o NIF-IVA (no se admite el documento de tipo {tipo})."),
    Rule("3.1.3.14", ("1157",), "alta", _cupon,
         "Only rectifying invoices R1 and R5 can be flagged as a coupon or discount.",
         "Solo las rectificativas R1 y R5 pueden marcarse como cupón o descuento."),
    # 15 Desglose
    Rule("3.1.3.15.1", ("1124", "1194", "1235", "1236"), "alta", _tipo_impositivo,
         _LINE + "VAT rate {tipo} % is not a Spanish VAT rate on {fecha}; use 0, 4, 10 or 21 %.",
         _LINEA + "el tipo de IVA {tipo} % no es un tipo vigente el {fecha}; usa 0, 4, 10 o 21 %."),
    Rule("3.1.3.15.2", ("1257",), "alta", _base_a_coste,
         _LINE + "a cost base is only used in the advanced group of entities regime (06), IPSI or other taxes.",
         _LINEA + "la base a coste solo se usa en el régimen de grupo de entidades (06), IPSI u otros impuestos."),
    Rule("3.1.3.15.3.a", ("1127", "1160", "1162", "1163", "1164", "1165", "1166", "1167", "1168", "1169", "1170", "1277"), "alta", _tipo_recargo,
         _LINE + "equivalence surcharge {recargo} % is not allowed with VAT {tipo} %.",
         _LINEA + "el recargo de equivalencia {recargo} % no se admite con un IVA del {tipo} %."),
    Rule("3.1.3.15.3.b", ("1281",), "alta", _recargo_solo_s1,
         _LINE + "an equivalence surcharge only applies to taxed lines (S1).",
         _LINEA + "el recargo de equivalencia solo se aplica a líneas sujetas y no exentas (S1)."),
    Rule("3.1.3.15.3.c", ("1284",), "alta", _recargo_juntos,
         _LINE + "the equivalence surcharge needs both its rate and its amount.",
         _LINEA + "el recargo de equivalencia necesita su tipo y su cuota."),
    Rule("3.1.3.15.4.a", ("1197",), "alta", _s2_tipo_factura,
         _LINE + "reverse charge (S2) needs a full invoice, not type {tipo}.",
         _LINEA + "la inversión del sujeto pasivo (S2) requiere factura completa, no de tipo {tipo}."),
    Rule("3.1.3.15.4.b", ("1198",), "alta", _s2_cero,
         _LINE + "with reverse charge (S2) the VAT rate and VAT amount must both be 0.",
         _LINEA + "con inversión del sujeto pasivo (S2) el tipo y la cuota de IVA deben ser 0."),
    Rule("3.1.3.15.4.c", ("1237",), "alta", _no_sujeta_sin_cuotas,
         _LINE + "a line not subject to VAT (N1/N2) carries no VAT rate or amount.",
         _LINEA + "una línea no sujeta a IVA (N1/N2) no lleva tipo ni cuota de IVA."),
    Rule("3.1.3.15.5.a", ("1199",), "alta", _exenta_e2_e3,
         _LINE + "exemption {causa} (exports) does not apply under the general regime.",
         _LINEA + "la exención {causa} (exportaciones) no se aplica en el régimen general."),
    Rule("3.1.3.15.5.b", ("1238",), "alta", _exenta_sin_cuotas,
         _LINE + "an exempt line (e.g. dental care, art. 20 LIVA) carries no VAT rate or amount.",
         _LINEA + "una línea exenta (p. ej. asistencia sanitaria, art. 20 LIVA) no lleva tipo ni cuota de IVA."),
    Rule("3.1.3.15.5.1", ("1289",), "alta", _exenta_e5_idotro,
         "An exemption E5 (intra-EU supply) requires the customer to be identified by a foreign document, not by the Spanish NIF {nif}.",
         "La exención E5 (entrega intracomunitaria) requiere identificar al destinatario con un documento extranjero, no con el NIF español {nif}."),
    Rule("3.1.3.15.6.a", ("1260",), "alta", _clave_solo_con_impuesto,
         _LINE + "a tax regime key is only given for VAT, IPSI or IGIC.",
         _LINEA + "la clave de régimen solo se indica para IVA, IPSI o IGIC."),
    Rule("3.1.3.15.6.b", ("1245", "2009"), "alta", _clave_obligatoria,
         _LINE + "the tax regime key is missing.",
         _LINEA + "falta la clave de régimen."),
    Rule("3.1.3.15.6.c", ("1246",), "alta", _clave_en_lista,
         _LINE + "tax regime key {clave} does not exist for this tax.",
         _LINEA + "la clave de régimen {clave} no existe para este impuesto."),
    Rule("3.1.3.15.6.1", ("1286",), "alta", _clave_linea("02", lambda ln, r: ln.OperacionExenta is None),
         _LINE + "an export (key {clave}) is always exempt.",
         _LINEA + "una exportación (clave {clave}) es siempre exenta."),
    Rule("3.1.3.15.6.2", ("1200",), "alta", _clave_linea("03", lambda ln, r: ln.CalificacionOperacion not in (None, "S1")),
         _LINE + "the second-hand goods regime (key {clave}) only allows S1 or exempt lines.",
         _LINEA + "el régimen de bienes usados (clave {clave}) solo admite líneas S1 o exentas."),
    Rule("3.1.3.15.6.3", ("1201",), "alta", _clave_linea("04", lambda ln, r: ln.CalificacionOperacion not in (None, "S2")),
         _LINE + "investment gold (key {clave}) only allows reverse charge (S2) or exempt lines.",
         _LINEA + "el oro de inversión (clave {clave}) solo admite inversión del sujeto pasivo (S2) o líneas exentas."),
    Rule("3.1.3.15.6.4", ("1202",), "alta", _clave_linea("06", lambda ln, r: r.TipoFactura in ("F2", "F3", "R5") or ln.BaseImponibleACoste is None),
         _LINE + "the group of entities regime (key {clave}) needs a full invoice and a cost base.",
         _LINEA + "el régimen de grupo de entidades (clave {clave}) requiere factura completa y base a coste."),
    Rule("3.1.3.15.6.5", ("1203",), "alta", _clave_linea("07", lambda ln, r: ln.CalificacionOperacion in ("S2", "N1", "N2") or ln.OperacionExenta in ("E2", "E3", "E4", "E5")),
         _LINE + "the cash accounting regime (key {clave}) does not allow this classification or exemption.",
         _LINEA + "el criterio de caja (clave {clave}) no admite esta calificación o exención."),
    Rule("3.1.3.15.6.6", ("1252",), "alta", _clave_linea("08", lambda ln, r: ln.CalificacionOperacion != "N2"),
         _LINE + "key {clave} (IPSI/IGIC operations) must be classified as not subject by place of supply (N2).",
         _LINEA + "la clave {clave} (operaciones sujetas a IPSI/IGIC) debe calificarse como no sujeta por localización (N2)."),
    Rule("3.1.3.15.6.7", ("1205",), "alta", _clave_linea("10", lambda ln, r: ln.CalificacionOperacion != "N1" or r.TipoFactura != "F1" or any(d.NIF is None for d in r.Destinatarios or ())),
         _LINE + "collection on behalf of third parties (key {clave}) needs an F1 invoice, classification N1 and customers identified by NIF.",
         _LINEA + "el cobro por cuenta de terceros (clave {clave}) requiere factura F1, calificación N1 y destinatarios con NIF."),
    Rule("3.1.3.15.6.8", ("1206",), "alta", _clave_linea("11", lambda ln, r: _iva(ln) and ln.TipoImpositivo is not None and Decimal(ln.TipoImpositivo) != 21),
         _LINE + "business premises rental (key {clave}) is taxed at 21 %.",
         _LINEA + "el arrendamiento de local de negocio (clave {clave}) tributa al 21 %."),
    Rule("3.1.3.15.6.9.a", ("1147",), "alta", _clave_linea("14", _clave_14_fecha),
         _LINE + "VAT pending accrual (key {clave}) needs an operation date after the issue date.",
         _LINEA + "el IVA pendiente de devengo (clave {clave}) requiere una fecha de operación posterior a la de expedición."),
    Rule("3.1.3.15.6.9.b", ("1149",), "alta", _clave_linea("14", _clave_14_destinatarios),
         _LINE + "key {clave} is only for public administrations (NIF starting with P, Q, S or V).",
         _LINEA + "la clave {clave} es solo para administraciones públicas (NIF que empieza por P, Q, S o V)."),
    Rule("3.1.3.15.6.9.c", ("1148",), "alta", _clave_linea("14", lambda ln, r: r.TipoFactura not in ("F1", "R1", "R2", "R3", "R4")),
         _LINE + "key {clave} needs an F1 invoice or a rectifying R1 to R4.",
         _LINEA + "la clave {clave} requiere una factura F1 o una rectificativa R1 a R4."),
    Rule("3.1.3.15.6.10", ("1293",), "alta", _igic_20,
         _LINE + "IGIC key 20 (IPSI operations) must be classified N2.",
         _LINEA + "la clave 20 del IGIC (operaciones sujetas al IPSI) debe calificarse N2."),
    Rule("3.1.3.15.7.a", ("1207",), "alta", _cuota_solo_s1,
         _LINE + "only a taxed line (S1) can carry a VAT amount.",
         _LINEA + "solo una línea sujeta y no exenta (S1) puede llevar cuota de IVA."),
    Rule("3.1.3.15.7.b", ("1208", "1209"), "alta", _s1_tipo_y_cuota,
         _LINE + "a taxed line (S1) needs its VAT rate and VAT amount.",
         _LINEA + "una línea sujeta (S1) necesita su tipo y su cuota de IVA."),
    Rule("3.1.3.15.7.c", ("1143", "1140"), "alta", _cuota_signo,
         _LINE + "the VAT amount and the base must have the same sign.",
         _LINEA + "la cuota de IVA y la base deben tener el mismo signo."),
    Rule("3.1.3.15.7.d", ("1142", "1144"), "alta", _cuota_tipo,
         _LINE + "the VAT amount {cuota} does not match the base and rate (expected about {esperada}).",
         _LINEA + "la cuota de IVA {cuota} no corresponde a la base y el tipo (se esperaba unos {esperada})."),
    Rule("3.1.3.15.8", ("1150",), "alta", _limite_simplificada,
         "A simplified invoice cannot exceed 3,000.00 (this one is {total}); issue a full invoice with the patient's identity document.",
         "Una factura simplificada no puede superar 3.000,00 (esta es de {total}); emite una factura completa con el documento de identidad del paciente."),
    # 16 - 17 totals: the AEAT accepts +/-10 EUR with errors; we require them exact
    Rule("3.1.3.16", ("1216", "2006"), "alta", _cuota_total,
         "The invoice's total VAT {total} is not the sum of its lines' VAT ({suma}).",
         "La cuota total de la factura {total} no es la suma de las cuotas de sus líneas ({suma})."),
    Rule("3.1.3.17", ("1210", "2005"), "alta", _importe_total,
         "The invoice's total {total} is not the sum of its lines ({suma}).",
         "El importe total de la factura {total} no es la suma de sus líneas ({suma})."),
    # 20 / 3.1.4.6: never ahead of the clock (the AEAT warns with 2004)
    Rule("3.1.3.20", ("2004",), "both", _generado_no_futuro,
         "The record's generation time {generado} is ahead of the system clock; try again.",
         "La hora de generación del registro {generado} va por delante del reloj del sistema; inténtalo de nuevo."),
    # 3.1.4 RegistroAnulacion
    Rule("3.1.4.1", ("1108",), "anulacion", _emisor_es_obligado,
         "The cancelled invoice's issuer NIF {nif} is not the NIF this clinic sends to the AEAT ({obligado}).",
         "El NIF emisor de la factura anulada {nif} no es el NIF con el que la clínica remite a la AEAT ({obligado})."),
    Rule("3.1.4.2", ("1224",), "anulacion", _generado_por_y_generador,
         "Who generated the cancellation and their identity go together: give both or neither.",
         "Quién generó la anulación y su identificación van juntos: indica ambos o ninguno."),
    Rule("3.1.4.3.a", ("1259",), "anulacion", _generador_distinto,
         "Whoever generated the cancellation for the clinic cannot be the clinic itself ({nif}).",
         "Quien genera la anulación por cuenta de la clínica no puede ser la propia clínica ({nif})."),
    Rule("3.1.4.3.b", ("1103",), "anulacion", _generador_nif_iva,
         "The generator's EU VAT number {id} does not have the structure of its country's VAT numbers.",
         "El NIF-IVA del generador {id} no tiene la estructura de los NIF-IVA de su país."),
    Rule("3.1.4.3.c", ("1227",), "anulacion", _generador_por_emisor,
         "A cancellation generated by the issuer must identify the generator by NIF.",
         "Una anulación generada por el emisor debe identificar al generador con NIF."),
    Rule("3.1.4.3.d", ("1230",), "anulacion", _generador_destinatario_es,
         "A customer generating the cancellation with a Spanish document must use a passport (03) or 'not registered' (07), not type {tipo}.",
         "Un destinatario que genera la anulación con un documento español debe usar pasaporte (03) o 'No censado' (07), no el tipo {tipo}."),
    Rule("3.1.4.3.e", ("1232",), "anulacion", _generador_tercero_es,
         "A third party generating the cancellation with a Spanish document must use a passport (03), not type {tipo}.",
         "Un tercero que genera la anulación con un documento español debe usar pasaporte (03), no el tipo {tipo}."),
    Rule("3.1.4.3.f", ("1229",), "anulacion", _generador_tercero_no_censado,
         "A third party generating the cancellation cannot be 'not registered' (07).",
         "Un tercero que genera la anulación no puede ser 'No censado' (07)."),
    # 3.1.5 SistemaInformatico (what the XSD does not already enforce)
    Rule("3.1.5.a", ("1232",), "both", _sistema_es_pasaporte,
         "The software producer with a Spanish non-NIF document must be identified by passport (03).",
         "El productor del sistema con un documento español que no es NIF debe identificarse con pasaporte (03)."),
    Rule("3.1.5.b", ("1221",), "both", _sistema_no_censado,
         "The software producer cannot be identified as 'not registered' (07).",
         "El productor del sistema no puede identificarse como 'No censado' (07)."),
    Rule("3.1.5.c", ("1222",), "both", _sistema_nif_iva,
         "The software producer's EU VAT number does not have its country's structure.",
         "El NIF-IVA del productor del sistema no tiene la estructura de su país."),
)
# fmt: on

BY_CONSTRUCTION: dict[str, str] = {
    "3.1.1.1-2": "ObligadoEmision/Representante NIF format: NIFType in the Cabecera model",
    "3.1.1.3": "FechaFinVeriFactu: never sent (the clinic does not leave VERI*FACTU through us)",
    "3.1.1.4": "Incidencia: only ever sent by this VERI*FACTU system (ADR 0207)",
    "3.1.1.5": "RefRequerimiento: never sent (not a NO VERI*FACTU system)",
    "3.1.2.1": "alta and anulación in separate RegistroFactura occurrences: xml.build_reg_factu",
    "3.1.3.12.f/13.m/3.1.4.3.g/3.1.5": "NIF xor IDOtro: the XSD choice, enforced by the models",
    "3.1.3.12.g/13.n": "CodigoPais optional for IDType 02: the model allows it",
    "3.1.3.15.5 (L10)": "OperacionExenta values: the model's Literal (E1-E6)",
    "3.1.3.15.6.11": "IGIC key 21: part of _clave_en_lista (3.1.3.15.6.c)",
    "3.1.3.18/3.1.4.4": "previous huella format: RegistroAnterior.Huella pattern",
    "3.1.3.19/3.1.4.5/3.1.5": "IdSistemaInformatico, NombreSistemaInformatico, TipoUso*: model",
    "3.1.3.23/3.1.4.7": "huella: computed by the model, a wrong one refused (huella.py)",
    "1195/1196": "CalificacionOperacion xor OperacionExenta: the XSD choice, DetalleDesglose",
}

LEFT_TO_AEAT: dict[str, str] = {
    "3.1.1.1-2": "the ObligadoEmision/Representante NIF is registered in the AEAT census",
    "3.1.3.4/3.1.3.5": "the NIF of rectified/substituted invoices is in the census (1154)",
    "3.1.3.12/3.1.3.13/3.1.4.3": "a Tercero/Destinatario/Generador NIF or NIF-IVA is "
    "registered (census, VIES) (1109, 1110, 1121, 2001)",
    "3.1.3.15.6.9": "a public administration's NIF is registered (1149, census part)",
    "3.1.3.20/3.1.4.6": "the AEAT's own clock and margin (2004): we check against ours",
    "3.1.3.21/22": "NumRegistroAcuerdoFacturacion / IdAcuerdoSistemaInformatico exist at the "
    "AEAT (never sent by us)",
    "6 (anexo)": "which alta/anulación operations are admissible depends on what the AEAT holds "
    "(3000-3004); we follow our own records' state (ADR 0207) and the answer",
}


def check(record: RegistroFacturacion, context: Context) -> list[Violation]:
    """Every rule of ``RULES`` that ``record`` breaks, in table order."""
    kind = "alta" if isinstance(record, RegistroAlta) else "anulacion"
    out: list[Violation] = []
    for rule in RULES:
        if rule.applies_to in (kind, "both"):
            out.extend(Violation(rule, f) for f in rule.check(record, context))
    return out


def enforce(record: RegistroFacturacion, context: Context) -> None:
    """Raise a 422 naming every rule ``record`` breaks, in the caller's language."""
    violations = check(record, context)
    if not violations:
        return
    first = violations[0].message
    raise Unprocessable(
        tr(
            f"The AEAT would reject this VERI*FACTU record: {first}",
            f"La AEAT rechazaría este registro VERI*FACTU: {first.es}",
        ),
        errors=[v.as_error() for v in violations],
        code="VERIFACTU_RULE",
    )
