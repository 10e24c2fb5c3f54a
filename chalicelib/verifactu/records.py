"""Registros de facturación (alta and anulación) as immutable pydantic models.

Field names are the AEAT element names of SuministroInformacion.xsd, in schema order, so a
record reads like its XML. Every value is stored as the exact text that goes into the XML and
into the huella: amounts, rates and dates given as ``Decimal``/``int``/``date`` are formatted
once on construction (``format.py``); text given as ``str`` must already be canonical. A record
computes its own ``Huella`` when none is given and refuses a given one that does not match its
fields, so a stored record that was tampered with cannot be loaded silently.

Besides the XSD constraints, the models enforce the AEAT business validations that would make
the AEAT reject a record (AEAT_validaciones_errores v1.2.2, section 3.1.3 / 3.1.4; the
numbers in the error messages refer to it) and two stricter rules of ours: CuotaTotal and
ImporteTotal must equal the sums of the desglose exactly (the AEAT tolerates +/-10 EUR with
"AceptadoConErrores"), and amounts never have more than two decimals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from .format import (
    AMOUNT_RE,
    FECHA_HORA_HUSO_RE,
    RATE_RE,
    format_amount,
    format_fecha,
    format_fecha_hora_huso,
    format_rate,
    parse_fecha,
    parse_fecha_hora_huso,
)
from .huella import HUELLA_RE, huella_alta, huella_anulacion

__all__ = [
    "ClaveRegistro",
    "DetalleDesglose",
    "Encadenamiento",
    "IDFactura",
    "IDFacturaAnulada",
    "IDOtro",
    "ImporteRectificacion",
    "PersonaFisicaJuridica",
    "PersonaFisicaJuridicaES",
    "RegistroAlta",
    "RegistroAnterior",
    "RegistroAnulacion",
    "RegistroFacturacion",
    "SistemaInformatico",
    "fecha_hora_huso",
]

# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


def _amount(value: Any) -> Any:
    if isinstance(value, str):
        if not AMOUNT_RE.match(value):
            raise ValueError(f"amount text must be canonical (e.g. '123.10'), got {value!r}")
        return value
    try:
        return format_amount(value)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _rate(value: Any) -> Any:
    if isinstance(value, str):
        if not RATE_RE.match(value):
            raise ValueError(f"rate text must be canonical (e.g. '21.00'), got {value!r}")
        return value
    try:
        return format_rate(value)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _fecha(value: Any) -> Any:
    if isinstance(value, str):
        parse_fecha(value)  # also rejects 31-02-2025
        return value
    try:
        return format_fecha(value)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _fecha_hora_huso(value: Any) -> Any:
    if isinstance(value, str):
        if not FECHA_HORA_HUSO_RE.match(value):
            raise ValueError(
                "FechaHoraHusoGenRegistro must look like 2024-01-01T19:20:30+01:00; "
                "build it with fecha_hora_huso(moment, time_zone)"
            )
        parse_fecha_hora_huso(value)
        return value
    raise ValueError("FechaHoraHusoGenRegistro must be text; use fecha_hora_huso()")


def _no_control(value: Any) -> Any:
    if isinstance(value, str) and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def _num_serie(value: Any) -> Any:
    # 3.1.3.1: ASCII 32-126 only, and none of " ' < > = ; also what the QR URL allows.
    if isinstance(value, str):
        for ch in value:
            if not 32 <= ord(ch) <= 126 or ch in "\"'<>=":
                raise ValueError(f"character {ch!r} is not allowed in NumSerieFactura")
    return value


Importe = Annotated[str, BeforeValidator(_amount)]
"""ImporteSgn12.2Type, canonical: ``-?\\d{1,12}\\.\\d{2}``."""
Tipo = Annotated[str, BeforeValidator(_rate)]
"""Tipo2.2Type, canonical: ``\\d{1,3}\\.\\d{2}``."""
Fecha = Annotated[str, BeforeValidator(_fecha)]
"""``fecha``: dd-mm-yyyy."""
FechaHoraHuso = Annotated[str, BeforeValidator(_fecha_hora_huso)]
NIFType = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{9}$")]
NumSerie = Annotated[
    str, StringConstraints(min_length=1, max_length=60), BeforeValidator(_num_serie)
]
HuellaText = Annotated[str, StringConstraints(pattern=HUELLA_RE.pattern)]
SiNo = Literal["S", "N"]


def _text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        BeforeValidator(_no_control),
    ]


Text15 = _text(15)
Text16 = _text(16)
Text20 = _text(20)
Text30 = _text(30)
Text50 = _text(50)
Text60 = _text(60)
Text100 = _text(100)
Text120 = _text(120)
Text500 = _text(500)

TipoFacturaType = Literal["F1", "F2", "F3", "R1", "R2", "R3", "R4", "R5"]
CalificacionOperacionType = Literal["S1", "S2", "N1", "N2"]
OperacionExentaType = Literal["E1", "E2", "E3", "E4", "E5", "E6"]
ImpuestoType = Literal["01", "02", "03", "05"]
ClaveRegimenType = Literal[
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "11",
    "14",
    "15",
    "17",
    "18",
    "19",
    "20",
    "21",
]

_RECTIFICATIVAS = frozenset({"R1", "R2", "R3", "R4", "R5"})
_CON_DESTINATARIO = frozenset({"F1", "F3", "R1", "R2", "R3", "R4"})
_SIN_DESTINATARIO = frozenset({"F2", "R5"})
_SIN_VALIDACION_TOTALES = frozenset({"03", "05", "06", "08", "09"})  # validations 16 and 17
_FECHA_MINIMA = date(2024, 10, 28)  # 3.1.3.1: entry into force of the Orden
_MACRODATO = Decimal("100000000.00")  # validation 10
_LIMITE_SIMPLIFICADA = Decimal("3000.00")  # 15.8 (RD 1619/2012 art. 4.1)
_TOLERANCIA_CUOTA = Decimal("10.00")  # 15.7
_MARGEN_GENERACION = timedelta(minutes=1)  # Orden HAC/1177/2024 art. 7.i) 2.º


def _tipos_iva_admitidos(fecha: date) -> frozenset[Decimal]:
    """Validation 15.1: TipoImpositivo allowed for IVA with CalificacionOperacion S1."""
    tipos = {Decimal(0), Decimal(4), Decimal(10), Decimal(21)}
    if date(2022, 7, 1) <= fecha <= date(2024, 9, 30):
        tipos.add(Decimal(5))
    if date(2024, 10, 1) <= fecha <= date(2024, 12, 31):
        tipos.update({Decimal(2), Decimal("7.5")})
    return frozenset(tipos)


def fecha_hora_huso(moment: datetime, time_zone: str) -> str:
    """FechaHoraHusoGenRegistro of ``moment`` in the clinic's IANA zone (whole seconds)."""
    return format_fecha_hora_huso(moment, time_zone)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------
# Parties and system
# ---------------------------------------------------------------------------------------------


class IDOtro(_Model):
    """IDOtroType: a non-NIF identifier (foreign VAT id, passport, ...)."""

    CodigoPais: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    IDType: Literal["02", "03", "04", "05", "06", "07"]
    ID: Text20


_IDOtro = IDOtro


class PersonaFisicaJuridicaES(_Model):
    """PersonaFisicaJuridicaESType: name and Spanish NIF (ObligadoEmision, Representante)."""

    NombreRazon: Text120
    NIF: NIFType


class PersonaFisicaJuridica(_Model):
    """PersonaFisicaJuridicaType: name and either NIF or IDOtro (Destinatarios, Tercero)."""

    NombreRazon: Text120
    NIF: NIFType | None = None
    IDOtro: _IDOtro | None = None

    @model_validator(mode="after")
    def _nif_xor_idotro(self) -> PersonaFisicaJuridica:
        if (self.NIF is None) == (self.IDOtro is None):
            raise ValueError("exactly one of NIF or IDOtro is required")
        return self


class SistemaInformatico(_Model):
    """SistemaInformaticoType: the invoicing software that generated the record."""

    NombreRazon: Text120
    NIF: NIFType | None = None
    IDOtro: _IDOtro | None = None
    NombreSistemaInformatico: Text30
    IdSistemaInformatico: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2}$")]
    Version: Text50
    NumeroInstalacion: Text100
    TipoUsoPosibleSoloVerifactu: SiNo
    TipoUsoPosibleMultiOT: SiNo
    IndicadorMultiplesOT: SiNo

    @model_validator(mode="after")
    def _nif_xor_idotro(self) -> SistemaInformatico:
        if (self.NIF is None) == (self.IDOtro is None):
            raise ValueError("3.1.5: exactly one of NIF or IDOtro is required")
        return self


_SistemaInformatico = SistemaInformatico


# ---------------------------------------------------------------------------------------------
# Identification and chaining
# ---------------------------------------------------------------------------------------------


class IDFactura(_Model):
    """IDFacturaExpedidaType (also IDFacturaARType for rectified/substituted invoices)."""

    IDEmisorFactura: NIFType
    NumSerieFactura: NumSerie
    FechaExpedicionFactura: Fecha


_IDFactura = IDFactura


class IDFacturaAnulada(_Model):
    """IDFacturaExpedidaBajaType: the invoice a registro de anulación cancels."""

    IDEmisorFacturaAnulada: NIFType
    NumSerieFacturaAnulada: NumSerie
    FechaExpedicionFacturaAnulada: Fecha


class RegistroAnterior(_Model):
    """EncadenamientoFacturaAnteriorType: identity and huella of the previous record."""

    IDEmisorFactura: NIFType
    NumSerieFactura: NumSerie
    FechaExpedicionFactura: Fecha
    Huella: HuellaText


_RegistroAnterior = RegistroAnterior


class Encadenamiento(_Model):
    """Either ``PrimerRegistro="S"`` (first record of the chain) or ``RegistroAnterior``."""

    PrimerRegistro: Literal["S"] | None = None
    RegistroAnterior: _RegistroAnterior | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Encadenamiento:
        if (self.PrimerRegistro is None) == (self.RegistroAnterior is None):
            raise ValueError("exactly one of PrimerRegistro or RegistroAnterior is required")
        return self

    @classmethod
    def primer_registro(cls) -> Encadenamiento:
        return cls(PrimerRegistro="S")

    @classmethod
    def tras(cls, anterior: RegistroFacturacion | RegistroAnterior | None) -> Encadenamiento:
        """Chain after ``anterior`` (the chain head), or start the chain if it is None."""
        if anterior is None:
            return cls.primer_registro()
        if isinstance(anterior, RegistroAnterior):
            return cls(RegistroAnterior=anterior)
        return cls(RegistroAnterior=anterior.as_registro_anterior())

    @property
    def huella_anterior(self) -> str:
        """The previous huella as it enters this record's huella ("" for the first one)."""
        return self.RegistroAnterior.Huella if self.RegistroAnterior is not None else ""


_Encadenamiento = Encadenamiento


# ---------------------------------------------------------------------------------------------
# Desglose
# ---------------------------------------------------------------------------------------------


class DetalleDesglose(_Model):
    """DetalleType: one tax breakdown line (at most 12 per invoice)."""

    Impuesto: ImpuestoType | None = None
    ClaveRegimen: ClaveRegimenType | None = None
    CalificacionOperacion: CalificacionOperacionType | None = None
    OperacionExenta: OperacionExentaType | None = None
    TipoImpositivo: Tipo | None = None
    BaseImponibleOimporteNoSujeto: Importe
    BaseImponibleACoste: Importe | None = None
    CuotaRepercutida: Importe | None = None
    TipoRecargoEquivalencia: Tipo | None = None
    CuotaRecargoEquivalencia: Importe | None = None

    @property
    def es_iva(self) -> bool:
        """Impuesto "01" (IVA) or not given, which the AEAT reads as IVA."""
        return self.Impuesto in (None, "01")

    @property
    def cuota(self) -> Decimal:
        """CuotaRepercutida + CuotaRecargoEquivalencia of this line (validation 16)."""
        return Decimal(self.CuotaRepercutida or "0") + Decimal(self.CuotaRecargoEquivalencia or "0")

    @property
    def importe(self) -> Decimal:
        """Base + cuotas of this line (validation 17)."""
        return Decimal(self.BaseImponibleOimporteNoSujeto) + self.cuota

    @model_validator(mode="after")
    def _coherent(self) -> DetalleDesglose:
        if (self.CalificacionOperacion is None) == (self.OperacionExenta is None):
            raise ValueError("exactly one of CalificacionOperacion or OperacionExenta")
        iva_igic = self.Impuesto in (None, "01", "03")
        if self.Impuesto == "05" and self.ClaveRegimen is not None:
            raise ValueError("15.6: ClaveRegimen is not allowed with Impuesto 05")
        if self.Impuesto != "05" and self.ClaveRegimen is None:
            raise ValueError("15.6: ClaveRegimen is required")
        cuotas = (
            self.TipoImpositivo,
            self.CuotaRepercutida,
            self.TipoRecargoEquivalencia,
            self.CuotaRecargoEquivalencia,
        )
        if (self.TipoRecargoEquivalencia is None) != (self.CuotaRecargoEquivalencia is None):
            raise ValueError("TipoRecargoEquivalencia and CuotaRecargoEquivalencia go together")
        if self.OperacionExenta is not None:
            if any(v is not None for v in cuotas):
                raise ValueError("15.5: an exempt line has no TipoImpositivo or cuotas")
            if iva_igic and self.ClaveRegimen == "01" and self.OperacionExenta in ("E2", "E3"):
                raise ValueError("15.5: E2/E3 are not allowed with ClaveRegimen 01")
        calificacion = self.CalificacionOperacion
        if calificacion in ("N1", "N2") and self.es_iva and any(v is not None for v in cuotas):
            raise ValueError("15.4: N1/N2 lines have no TipoImpositivo or cuotas")
        if calificacion == "S2" and (
            self.TipoImpositivo is None
            or Decimal(self.TipoImpositivo) != 0
            or self.CuotaRepercutida is None
            or Decimal(self.CuotaRepercutida) != 0
        ):
            raise ValueError("15.4: S2 requires TipoImpositivo 0 and CuotaRepercutida 0")
        if calificacion == "S1" and (self.TipoImpositivo is None or self.CuotaRepercutida is None):
            raise ValueError("15.7: S1 requires TipoImpositivo and CuotaRepercutida")
        if calificacion != "S1" and self.CuotaRepercutida not in (None, "0.00"):
            raise ValueError("15.7: CuotaRepercutida can only be non-zero on S1 lines")
        if self.BaseImponibleACoste is not None and not (
            self.ClaveRegimen == "06" or self.Impuesto in ("02", "05")
        ):
            raise ValueError("15.2: BaseImponibleACoste only with ClaveRegimen 06 or IPSI/Otros")
        if iva_igic:
            if self.ClaveRegimen == "02" and self.OperacionExenta is None:
                raise ValueError("15.6.1: ClaveRegimen 02 requires OperacionExenta")
            if self.ClaveRegimen == "03" and calificacion not in (None, "S1"):
                raise ValueError("15.6.2: ClaveRegimen 03 only with S1")
            if self.ClaveRegimen == "04" and calificacion not in (None, "S2"):
                raise ValueError("15.6.3: ClaveRegimen 04 only with S2 or exempt")
            if self.ClaveRegimen == "06" and self.BaseImponibleACoste is None:
                raise ValueError("15.6.4: ClaveRegimen 06 requires BaseImponibleACoste")
            if self.ClaveRegimen == "07" and (
                calificacion in ("S2", "N1", "N2")
                or self.OperacionExenta in ("E2", "E3", "E4", "E5")
            ):
                raise ValueError("15.6.5: not allowed with ClaveRegimen 07")
            if self.ClaveRegimen == "08" and calificacion != "N2":
                raise ValueError("15.6.6: ClaveRegimen 08 requires N2")
            if self.ClaveRegimen == "10" and calificacion != "N1":
                raise ValueError("15.6.7: ClaveRegimen 10 requires N1")
        if (
            self.es_iva
            and self.ClaveRegimen == "11"
            and self.TipoImpositivo is not None
            and Decimal(self.TipoImpositivo) != 21
        ):
            raise ValueError("15.6.8: ClaveRegimen 11 only with TipoImpositivo 21")
        return self


class ImporteRectificacion(_Model):
    """DesgloseRectificacionType: amounts replaced by a substitutive rectifying invoice."""

    BaseRectificada: Importe
    CuotaRectificada: Importe
    CuotaRecargoRectificado: Importe | None = None


_ImporteRectificacion = ImporteRectificacion


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

ClaveRegistro = tuple[str, str, str, Literal["Alta", "Anulacion"]]
"""(IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura, TipoOperacion): how the AEAT
response (RespuestaLinea) identifies a record."""


class RegistroAlta(_Model):
    """RegistroFacturacionAltaType. Leave ``Huella`` out to have it computed."""

    IDVersion: Literal["1.0"] = "1.0"
    IDFactura: _IDFactura
    RefExterna: Text60 | None = None
    NombreRazonEmisor: Text120
    Subsanacion: SiNo | None = None
    RechazoPrevio: Literal["N", "S", "X"] | None = None
    TipoFactura: TipoFacturaType
    TipoRectificativa: Literal["S", "I"] | None = None
    FacturasRectificadas: tuple[_IDFactura, ...] | None = Field(None, min_length=1, max_length=1000)
    FacturasSustituidas: tuple[_IDFactura, ...] | None = Field(None, min_length=1, max_length=1000)
    ImporteRectificacion: _ImporteRectificacion | None = None
    FechaOperacion: Fecha | None = None
    DescripcionOperacion: Text500
    FacturaSimplificadaArt7273: SiNo | None = None
    FacturaSinIdentifDestinatarioArt61d: SiNo | None = None
    Macrodato: SiNo | None = None
    EmitidaPorTerceroODestinatario: Literal["D", "T"] | None = None
    Tercero: PersonaFisicaJuridica | None = None
    Destinatarios: tuple[PersonaFisicaJuridica, ...] | None = Field(
        None, min_length=1, max_length=1000
    )
    Cupon: SiNo | None = None
    Desglose: tuple[DetalleDesglose, ...] = Field(min_length=1, max_length=12)
    CuotaTotal: Importe
    ImporteTotal: Importe
    Encadenamiento: _Encadenamiento
    SistemaInformatico: _SistemaInformatico
    FechaHoraHusoGenRegistro: FechaHoraHuso
    NumRegistroAcuerdoFacturacion: Text15 | None = None
    IdAcuerdoSistemaInformatico: Text16 | None = None
    TipoHuella: Literal["01"] = "01"
    Huella: str = Field(default="", description="computed when left empty")

    # -- views used by the huella, the chain, the QR and the response matching ---------------

    def huella_fields(self) -> dict[str, str]:
        """The AEAT fields of the huella (document section 3 a), as stored in this record."""
        return {
            "IDEmisorFactura": self.IDFactura.IDEmisorFactura,
            "NumSerieFactura": self.IDFactura.NumSerieFactura,
            "FechaExpedicionFactura": self.IDFactura.FechaExpedicionFactura,
            "TipoFactura": self.TipoFactura,
            "CuotaTotal": self.CuotaTotal,
            "ImporteTotal": self.ImporteTotal,
            "Huella": self.Encadenamiento.huella_anterior,
            "FechaHoraHusoGenRegistro": self.FechaHoraHusoGenRegistro,
        }

    def as_registro_anterior(self) -> RegistroAnterior:
        """How the next record of the chain refers to this one."""
        return RegistroAnterior(
            IDEmisorFactura=self.IDFactura.IDEmisorFactura,
            NumSerieFactura=self.IDFactura.NumSerieFactura,
            FechaExpedicionFactura=self.IDFactura.FechaExpedicionFactura,
            Huella=self.Huella,
        )

    @property
    def clave(self) -> ClaveRegistro:
        return (
            self.IDFactura.IDEmisorFactura,
            self.IDFactura.NumSerieFactura,
            self.IDFactura.FechaExpedicionFactura,
            "Alta",
        )

    @property
    def id_emisor(self) -> str:
        return self.IDFactura.IDEmisorFactura

    def qr_url(self, environment: str) -> str:
        """ValidarQR URL of this invoice, from the same texts as the record."""
        from .qr import qr_url

        return qr_url(
            self.IDFactura.IDEmisorFactura,
            self.IDFactura.NumSerieFactura,
            self.IDFactura.FechaExpedicionFactura,
            self.ImporteTotal,
            environment,
        )

    # -- validation ---------------------------------------------------------------------------

    @model_validator(mode="after")
    def _business_rules(self) -> RegistroAlta:
        tipo = self.TipoFactura
        fecha_expedicion = parse_fecha(self.IDFactura.FechaExpedicionFactura)
        if fecha_expedicion < _FECHA_MINIMA:
            raise ValueError("3.1.3.1: FechaExpedicionFactura before 28-10-2024")
        if self.RechazoPrevio in ("S", "X") and self.Subsanacion != "S":
            raise ValueError("3.1.3.2: RechazoPrevio S/X requires Subsanacion S")
        if (tipo in _RECTIFICATIVAS) != (self.TipoRectificativa is not None):
            raise ValueError("3.1.3.3: TipoRectificativa is required exactly for R1-R5")
        if self.FacturasRectificadas is not None and tipo not in _RECTIFICATIVAS:
            raise ValueError("3.1.3.4: FacturasRectificadas only for R1-R5")
        if self.FacturasSustituidas is not None and tipo != "F3":
            raise ValueError("3.1.3.5: FacturasSustituidas only for F3")
        if (self.TipoRectificativa == "S") != (self.ImporteRectificacion is not None):
            raise ValueError("3.1.3.6: ImporteRectificacion is required exactly when S")
        if self.FacturaSimplificadaArt7273 == "S" and tipo not in _CON_DESTINATARIO:
            raise ValueError("3.1.3.8: FacturaSimplificadaArt7273 S only for F1, F3, R1-R4")
        if self.FacturaSinIdentifDestinatarioArt61d == "S" and tipo not in _SIN_DESTINATARIO:
            raise ValueError("3.1.3.9: FacturaSinIdentifDestinatarioArt61d S only for F2, R5")
        importe_total = Decimal(self.ImporteTotal)
        if abs(importe_total) >= _MACRODATO and self.Macrodato != "S":
            raise ValueError("3.1.3.10: Macrodato S is required from 100,000,000.00")
        if self.EmitidaPorTerceroODestinatario == "T" and self.Tercero is None:
            raise ValueError("3.1.3.11: EmitidaPorTerceroODestinatario T requires Tercero")
        if self.EmitidaPorTerceroODestinatario == "D" and self.Destinatarios is None:
            raise ValueError("3.1.3.11: EmitidaPorTerceroODestinatario D requires Destinatarios")
        if self.Tercero is not None and self.EmitidaPorTerceroODestinatario != "T":
            raise ValueError("3.1.3.12: Tercero only with EmitidaPorTerceroODestinatario T")
        if tipo in _CON_DESTINATARIO and not self.Destinatarios:
            raise ValueError(f"3.1.3.13: {tipo} requires Destinatarios")
        if tipo in _SIN_DESTINATARIO and self.Destinatarios:
            raise ValueError(f"3.1.3.13: {tipo} cannot have Destinatarios")
        if self.Cupon == "S" and tipo not in ("R1", "R5"):
            raise ValueError("3.1.3.14: Cupon S only for R1 and R5")
        self._check_desglose(fecha_expedicion)
        self._check_totales()
        self._check_huella()
        return self

    def _check_desglose(self, fecha_expedicion: date) -> None:
        tipo = self.TipoFactura
        fecha = (
            parse_fecha(self.FechaOperacion) if self.FechaOperacion is not None else None
        ) or fecha_expedicion
        sin_control_cuota = self.TipoRectificativa == "I" or tipo in ("R2", "R3")
        for n, linea in enumerate(self.Desglose, start=1):
            where = f"Desglose line {n}"
            calificacion = linea.CalificacionOperacion
            if calificacion == "S2" and tipo not in _CON_DESTINATARIO:
                raise ValueError(f"15.4 ({where}): S2 only for F1, F3, R1-R4")
            if linea.ClaveRegimen == "06" and tipo in ("F2", "F3", "R5"):
                raise ValueError(f"15.6.4 ({where}): ClaveRegimen 06 not for F2, F3, R5")
            if linea.ClaveRegimen == "10" and (
                tipo != "F1" or any(d.NIF is None for d in self.Destinatarios or ())
            ):
                raise ValueError(f"15.6.7 ({where}): ClaveRegimen 10 needs F1 and NIFs")
            if calificacion != "S1" or linea.TipoImpositivo is None:
                continue
            tipo_impositivo = Decimal(linea.TipoImpositivo)
            if linea.es_iva and tipo_impositivo not in _tipos_iva_admitidos(fecha):
                raise ValueError(
                    f"15.1 ({where}): TipoImpositivo {linea.TipoImpositivo} not allowed"
                )
            if sin_control_cuota or linea.CuotaRepercutida is None:
                continue
            base = Decimal(linea.BaseImponibleACoste or linea.BaseImponibleOimporteNoSujeto)
            cuota = Decimal(linea.CuotaRepercutida)
            if (base < 0 < cuota) or (cuota < 0 < base):
                raise ValueError(f"15.7 ({where}): CuotaRepercutida and base differ in sign")
            if abs(cuota - base * tipo_impositivo / 100) > _TOLERANCIA_CUOTA:
                raise ValueError(f"15.7 ({where}): CuotaRepercutida does not match the rate")

    def _check_totales(self) -> None:
        claves = {linea.ClaveRegimen for linea in self.Desglose}
        simplificada_limitada = self.TipoFactura == "F2" and not (
            self.NumRegistroAcuerdoFacturacion or self.FacturaSinIdentifDestinatarioArt61d == "S"
        )
        total_lineas = sum((linea.importe for linea in self.Desglose), Decimal(0))
        if simplificada_limitada and total_lineas > _LIMITE_SIMPLIFICADA:
            raise ValueError("15.8: a simplified invoice (F2) cannot exceed 3,000.00")
        if claves & _SIN_VALIDACION_TOTALES:
            return
        cuota_total = sum((linea.cuota for linea in self.Desglose), Decimal(0))
        if Decimal(self.CuotaTotal) != cuota_total:
            raise ValueError(f"16: CuotaTotal {self.CuotaTotal} != sum of cuotas {cuota_total}")
        importe_total = sum((linea.importe for linea in self.Desglose), Decimal(0))
        if Decimal(self.ImporteTotal) != importe_total:
            raise ValueError(
                f"17: ImporteTotal {self.ImporteTotal} != sum of the desglose {importe_total}"
            )

    def _check_huella(self) -> None:
        expected = huella_alta(self.huella_fields())
        if not self.Huella:
            object.__setattr__(self, "Huella", expected)  # frozen: set once, here
        elif self.Huella != expected:
            raise ValueError("Huella does not match the record's fields")


class RegistroAnulacion(_Model):
    """RegistroFacturacionAnulacionType. Leave ``Huella`` out to have it computed."""

    IDVersion: Literal["1.0"] = "1.0"
    IDFactura: IDFacturaAnulada
    RefExterna: Text60 | None = None
    SinRegistroPrevio: SiNo | None = None
    RechazoPrevio: SiNo | None = None
    GeneradoPor: Literal["E", "D", "T"] | None = None
    Generador: PersonaFisicaJuridica | None = None
    Encadenamiento: _Encadenamiento
    SistemaInformatico: _SistemaInformatico
    FechaHoraHusoGenRegistro: FechaHoraHuso
    TipoHuella: Literal["01"] = "01"
    Huella: str = Field(default="", description="computed when left empty")

    def huella_fields(self) -> dict[str, str]:
        """The AEAT fields of the huella (document section 3 b), as stored in this record."""
        return {
            "IDEmisorFacturaAnulada": self.IDFactura.IDEmisorFacturaAnulada,
            "NumSerieFacturaAnulada": self.IDFactura.NumSerieFacturaAnulada,
            "FechaExpedicionFacturaAnulada": self.IDFactura.FechaExpedicionFacturaAnulada,
            "Huella": self.Encadenamiento.huella_anterior,
            "FechaHoraHusoGenRegistro": self.FechaHoraHusoGenRegistro,
        }

    def as_registro_anterior(self) -> RegistroAnterior:
        return RegistroAnterior(
            IDEmisorFactura=self.IDFactura.IDEmisorFacturaAnulada,
            NumSerieFactura=self.IDFactura.NumSerieFacturaAnulada,
            FechaExpedicionFactura=self.IDFactura.FechaExpedicionFacturaAnulada,
            Huella=self.Huella,
        )

    @property
    def clave(self) -> ClaveRegistro:
        return (
            self.IDFactura.IDEmisorFacturaAnulada,
            self.IDFactura.NumSerieFacturaAnulada,
            self.IDFactura.FechaExpedicionFacturaAnulada,
            "Anulacion",
        )

    @property
    def id_emisor(self) -> str:
        return self.IDFactura.IDEmisorFacturaAnulada

    @model_validator(mode="after")
    def _business_rules(self) -> RegistroAnulacion:
        if (self.GeneradoPor is None) != (self.Generador is None):
            raise ValueError("3.1.4.2-3: GeneradoPor and Generador go together")
        if self.GeneradoPor == "E" and self.Generador is not None and self.Generador.NIF is None:
            raise ValueError("3.1.4.3: GeneradoPor E requires the Generador's NIF")
        expected = huella_anulacion(self.huella_fields())
        if not self.Huella:
            object.__setattr__(self, "Huella", expected)  # frozen: set once, here
        elif self.Huella != expected:
            raise ValueError("Huella does not match the record's fields")
        return self


RegistroFacturacion = RegistroAlta | RegistroAnulacion


def check_generation_order(anterior: str, nuevo: str) -> None:
    """Orden HAC/1177/2024 art. 7.i) 2.º: the previous record's FechaHoraHusoGenRegistro may
    not be more than one minute later than the new one's. Raises ``ValueError`` otherwise."""
    if parse_fecha_hora_huso(anterior) - parse_fecha_hora_huso(nuevo) > _MARGEN_GENERACION:
        raise ValueError(
            f"FechaHoraHusoGenRegistro {nuevo} is more than one minute before the previous "
            f"record's {anterior}; check the system clock"
        )


__all__ += ["check_generation_order"]
