"""Spanish billing rules, pure: default VAT types with their AEAT classification, FDI teeth
and surfaces, and the choice between a full (F1) and a simplified (F2) invoice (ADR 0503).

F1/F2 (Real Decreto 1619/2012, Reglamento de facturación): a simplified invoice may be issued
when the total, VAT included, is at most 400 € (art. 4.1.a), or at most 3,000 € for the
operations art. 4.2 lists (retail sales, hospitality, hairdressing, transport, ...: not dental
care, so a clinic opts in per invoice, ``art4_2``, only for such a sale). A customer who gives
a tax id gets a full invoice: VERI*FACTU F2 records carry no Destinatarios (AEAT validation
3.1.3.13), and a full invoice is always allowed. A full invoice must name the customer with
their NIF (art. 6.1.d); without one the issue is refused naming the missing field. Rectifying
invoices: R5 rectifies a simplified invoice, R1-R4 the rest (art. 15; LIVA arts. 80 and 89).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from chalicelib.core.i18n import tr

Classification = Literal["S1", "S2", "N1", "N2", "E1", "E2", "E3", "E4", "E5", "E6"]
EXEMPT = frozenset({"E1", "E2", "E3", "E4", "E5", "E6"})
NOT_SUBJECT = frozenset({"N1", "N2"})

SIMPLIFIED_LIMIT = Decimal("400.00")
SIMPLIFIED_LIMIT_ART4_2 = Decimal("3000.00")

# code -> (name_es, name_en, rate, classification)
DEFAULT_VAT_TYPES: dict[str, tuple[str, str, Decimal, str]] = {
    "EXENTO_SANITARIO": (
        "Exento: asistencia sanitaria (art. 20.Uno.5º LIVA)",
        "Exempt: healthcare (LIVA art. 20.One.5)",
        Decimal("0"),
        "E1",
    ),
    "IVA21": ("IVA general 21%", "General VAT 21%", Decimal("21"), "S1"),
    "IVA10": ("IVA reducido 10%", "Reduced VAT 10%", Decimal("10"), "S1"),
    "IVA4": ("IVA superreducido 4%", "Super-reduced VAT 4%", Decimal("4"), "S1"),
}
DEFAULT_VAT_CODE = "EXENTO_SANITARIO"

# FDI two-digit notation: permanent 11-18, 21-28, 31-38, 41-48; deciduous 51-55 ... 81-85.
PERMANENT_TEETH = frozenset(q * 10 + t for q in (1, 2, 3, 4) for t in range(1, 9))
DECIDUOUS_TEETH = frozenset(q * 10 + t for q in (5, 6, 7, 8) for t in range(1, 6))
TEETH = PERMANENT_TEETH | DECIDUOUS_TEETH
# Mesial, Occlusal (incisal on anteriors), Distal, Vestibular/Buccal, Lingual/Palatal.
SURFACES = ("M", "O", "D", "V", "L")
SURFACE_ALIASES = {"B": "V", "P": "L", "I": "O"}

Scope = Literal["tooth", "surface", "sextant", "quadrant", "mouth"]
REGION_SCOPES = ("sextant", "quadrant")


#: The IVA rates a VERI*FACTU record accepts for a taxed (S1) line on today's dates (AEAT
#: validation 3.1.3.15.1; ``verifactu.rules._tipos_iva_admitidos`` also knows the past ones:
#: 5 % until 30/09/2024, 2 % and 7.5 % in the last quarter of 2024). A test keeps both equal.
AEAT_S1_RATES = (Decimal(4), Decimal(10), Decimal(21))
_ALLOWED_VAT = (
    "VERI*FACTU accepts a taxed type (S1) at 4 %, 10 % or 21 %; an exempt type (E1-E6, e.g. "
    "E1 for healthcare under art. 20 LIVA), a not-subject type (N1, N2) or a reverse-charge "
    "type (S2), these at rate 0",
    "VERI*FACTU admite un tipo sujeto (S1) al 4 %, 10 % o 21 %; un tipo exento (E1-E6, p. ej. "
    "E1 para la asistencia sanitaria del art. 20 LIVA), no sujeto (N1, N2) o con inversión del "
    "sujeto pasivo (S2), estos al tipo 0",
)


def classification_ok(classification: str, rate: Decimal) -> str | None:
    """Why a (classification, rate) pair is wrong, or None: the pair must be one a VERI*FACTU
    record can express, so that no invoice built from it is refused at issue."""
    if classification == "S1" and rate <= 0:
        return tr(
            f"S1 (taxable) needs a rate above 0. {_ALLOWED_VAT[0]}.",
            f"S1 (sujeta) necesita un tipo mayor que 0. {_ALLOWED_VAT[1]}.",
        )
    if classification == "S1" and rate not in AEAT_S1_RATES:
        shown = f"{rate.normalize():f}"
        return tr(
            f"{shown} % is not a VAT rate a VERI*FACTU record can carry. {_ALLOWED_VAT[0]}.",
            f"el {shown} % no es un tipo de IVA que admita un registro VERI*FACTU. "
            f"{_ALLOWED_VAT[1]}.",
        )
    if classification in EXEMPT | NOT_SUBJECT | {"S2"} and rate != 0:
        return tr(
            f"{classification} lines carry no VAT: the rate must be 0. {_ALLOWED_VAT[0]}.",
            f"las líneas {classification} no llevan IVA: el tipo debe ser 0. {_ALLOWED_VAT[1]}.",
        )
    return None


def normalise_surfaces(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        s = SURFACE_ALIASES.get(v.strip().upper(), v.strip().upper())
        if s not in SURFACES:
            raise ValueError(
                tr(
                    f"unknown surface {v!r}: use M, O, D, V (or B), L (or P)",
                    f"superficie desconocida {v!r}: usa M, O, D, V (o B), L (o P)",
                )
            )
        if s not in out:
            out.append(s)
    return [s for s in SURFACES if s in out]


def check_placement(scope: str, tooth: int | None, surfaces: list[str]) -> str | None:
    """Why a line's tooth/surfaces do not fit the treatment's scope, or None."""
    if tooth is not None and tooth not in TEETH:
        return tr(
            f"{tooth} is not an FDI tooth (permanent 11-48, deciduous 51-85)",
            f"{tooth} no es una pieza FDI (permanentes 11-48, temporales 51-85)",
        )
    if scope == "tooth" and tooth is None:
        return tr(
            "this treatment is per tooth: give the tooth (FDI)",
            "este tratamiento es por pieza: indica la pieza (FDI)",
        )
    if scope == "surface":
        if tooth is None:
            return tr(
                "this treatment is per surface: give the tooth (FDI)",
                "este tratamiento es por superficie: indica la pieza (FDI)",
            )
        if not surfaces:
            return tr(
                "this treatment is per surface: give at least one surface",
                "este tratamiento es por superficie: indica al menos una superficie",
            )
    if scope != "surface" and surfaces:
        return tr(
            "surfaces only apply to treatments whose scope is 'surface'",
            "las superficies solo se aplican a tratamientos con scope 'surface'",
        )
    if scope == "mouth" and tooth is not None:
        return tr(
            "this treatment is for the whole mouth: no tooth",
            "este tratamiento es para toda la boca: sin pieza",
        )
    if scope in REGION_SCOPES and tooth is not None:
        # A sextant or quadrant line names its region in its description (ADR 0604).
        return tr(
            f"this treatment is per {scope}: no tooth",
            f"este tratamiento es por {'sextante' if scope == 'sextant' else 'cuadrante'}: "
            "sin pieza",
        )
    return None


def invoice_type(
    total: Decimal, customer_tax_id: str | None, *, art4_2: bool = False
) -> Literal["F1", "F2"]:
    """F2 (simplified) when within the limit and the customer gives no tax id; F1 otherwise."""
    if customer_tax_id:
        return "F1"
    limit = SIMPLIFIED_LIMIT_ART4_2 if art4_2 else SIMPLIFIED_LIMIT
    return "F2" if total <= limit else "F1"


def rectifying_type(original_type: str, code: str) -> str:
    """TipoFactura of a rectifying invoice: R5 for a simplified original, else R1-R4."""
    if original_type in ("F2", "R5"):
        return "R5"
    return code
