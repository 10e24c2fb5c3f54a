"""Registros de facturación (alta and anulación) as immutable pydantic models.

Field names are the AEAT element names of SuministroInformacion.xsd, in schema order, so a
record reads like its XML. Every value is stored as the exact text that goes into the XML and
into the huella: amounts, rates and dates given as ``Decimal``/``int``/``date`` are formatted
once on construction (``format.py``); text given as ``str`` must already be canonical. A record
computes its own ``Huella`` when none is given and refuses a given one that does not match its
fields, so a stored record that was tampered with cannot be loaded silently.

The models enforce the XSD (types, lengths, lists, choice groups) and that amounts never have
more than two decimals. The AEAT's business validations (AEAT_validaciones_errores v1.2.2,
section 3.1) are one table in ``rules.py``, checked before a record is chained: a record that
exists as a model is well formed, not necessarily acceptable to the AEAT.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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


Importe = Annotated[str, BeforeValidator(_amount)]
"""ImporteSgn12.2Type, canonical: ``-?\\d{1,12}\\.\\d{2}``."""
Tipo = Annotated[str, BeforeValidator(_rate)]
"""Tipo2.2Type, canonical: ``\\d{1,3}\\.\\d{2}``."""
Fecha = Annotated[str, BeforeValidator(_fecha)]
"""``fecha``: dd-mm-yyyy."""
FechaHoraHuso = Annotated[str, BeforeValidator(_fecha_hora_huso)]
NIFType = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{9}$")]
NumSerie = Annotated[str, StringConstraints(min_length=1, max_length=60)]
"""The characters the AEAT accepts (3.1.3.1) are checked by rules.py."""
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

_MARGEN_GENERACION = timedelta(minutes=1)  # Orden HAC/1177/2024 art. 7.i) 2.º


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
    def _choice(self) -> DetalleDesglose:
        # The XSD's choice; every business rule of the line is in rules.py.
        if (self.CalificacionOperacion is None) == (self.OperacionExenta is None):
            raise ValueError("exactly one of CalificacionOperacion or OperacionExenta")
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
    def _huella(self) -> RegistroAlta:
        # The AEAT's business rules are checked by rules.py before a record is chained.
        self._check_huella()
        return self

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
    def _huella(self) -> RegistroAnulacion:
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
