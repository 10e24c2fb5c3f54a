"""The chart's vocabulary, pure: FDI teeth (ISO 3950), surfaces, sextants and quadrants, the
dentition a patient's age shows, and the catalogue of finding codes with where each one goes
(ADR 0601, 0602).

Surfaces (one letter each, the Spanish and English charts agree on them):
``M`` mesial, ``D`` distal, ``O`` occlusal (incisal on incisors and canines; ``I`` is read as
``O``), ``V`` vestibular (buccal/labial; ``B`` is read as ``V``), ``L`` lingual (palatal on the
upper arch; ``P`` is read as ``L``) and ``R`` the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from chalicelib.billing import rules
from chalicelib.core.i18n import Text, tr

PERMANENT_TEETH = rules.PERMANENT_TEETH
DECIDUOUS_TEETH = rules.DECIDUOUS_TEETH
TEETH = rules.TEETH

CROWN_SURFACES = ("M", "O", "D", "V", "L")
SURFACES = (*CROWN_SURFACES, "R")
SURFACE_ALIASES = {"B": "V", "P": "L", "I": "O"}

# The arches as a row of the chart, from the patient's right to their left: a bridge or an
# appliance spans consecutive teeth of one row.
ARCHES: tuple[tuple[int, ...], ...] = (
    (18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28),
    (48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38),
    (55, 54, 53, 52, 51, 61, 62, 63, 64, 65),
    (85, 84, 83, 82, 81, 71, 72, 73, 74, 75),
)

# Sextants as the WHO periodontal index (CPI) counts them: 1 = 18-14, 2 = 13-23, 3 = 24-28,
# 4 = 38-34, 5 = 33-43, 6 = 44-48. Deciduous teeth fall in the sextant of their successors.
SEXTANTS: dict[int, frozenset[int]] = {
    1: frozenset({18, 17, 16, 15, 14, 55, 54}),
    2: frozenset({13, 12, 11, 21, 22, 23, 53, 52, 51, 61, 62, 63}),
    3: frozenset({24, 25, 26, 27, 28, 64, 65}),
    4: frozenset({34, 35, 36, 37, 38, 74, 75}),
    5: frozenset({33, 32, 31, 41, 42, 43, 73, 72, 71, 81, 82, 83}),
    6: frozenset({44, 45, 46, 47, 48, 84, 85}),
}
QUADRANTS = (1, 2, 3, 4)  # FDI first digit; deciduous 5-8 are quadrants 1-4

Kind = Literal["condition", "existing"]
Placement = Literal["surfaces", "tooth", "tooth_or_surfaces", "root", "span", "mouth"]
Dentition = Literal["permanent", "mixed", "deciduous"]

MATERIALS = (
    "composite",
    "amalgam",
    "glass_ionomer",
    "ceramic",
    "zirconia",
    "metal_ceramic",
    "metal",
    "gold",
    "temporary",
)


@dataclass(frozen=True)
class Code:
    kind: Kind
    placement: Placement
    materials: bool = False  # takes a material


# The documented catalogue (ADR 0602). "Planned work" is not a code: it is the treatment plan,
# items from the clinic's treatment catalog, drawn on the chart until completed.
CODES: dict[str, Code] = {
    # conditions
    "caries": Code("condition", "surfaces"),
    "fracture": Code("condition", "tooth_or_surfaces"),
    "wear": Code("condition", "surfaces"),
    "missing": Code("condition", "tooth"),
    "impacted": Code("condition", "tooth"),
    "root_remnant": Code("condition", "tooth"),
    "periapical_lesion": Code("condition", "root"),
    "mobility": Code("condition", "tooth"),
    # existing work
    "filling": Code("existing", "surfaces", materials=True),
    "sealant": Code("existing", "surfaces"),
    "inlay": Code("existing", "surfaces", materials=True),
    "crown": Code("existing", "tooth", materials=True),
    "veneer": Code("existing", "tooth", materials=True),
    "implant": Code("existing", "tooth"),
    "root_canal": Code("existing", "root"),
    "post": Code("existing", "root"),
    "bridge": Code("existing", "span", materials=True),
    "orthodontic_appliance": Code("existing", "span"),
}
CodeName = Literal[
    "caries",
    "fracture",
    "wear",
    "missing",
    "impacted",
    "root_remnant",
    "periapical_lesion",
    "mobility",
    "filling",
    "sealant",
    "inlay",
    "crown",
    "veneer",
    "implant",
    "root_canal",
    "post",
    "bridge",
    "orthodontic_appliance",
]
# Conditions a restoration on the same surfaces (or tooth) treats: completing one ends them.
TREATABLE = frozenset({"caries", "fracture", "wear", "periapical_lesion", "root_remnant"})


def normalise_surfaces(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        s = SURFACE_ALIASES.get(v.strip().upper(), v.strip().upper())
        if s not in SURFACES:
            raise ValueError(
                tr(
                    f"unknown surface {v!r}: use M, D, O (or I), V (or B), L (or P) or R (root)",
                    f"superficie desconocida {v!r}: usa M, D, O (o I), V (o B), L (o P) o R (raíz)",
                )
            )
        if s not in out:
            out.append(s)
    return [s for s in SURFACES if s in out]


def tooth_problem(tooth: int) -> Text | None:
    if tooth not in TEETH:
        return tr(
            f"{tooth} is not an FDI tooth (permanent 11-48, deciduous 51-85)",
            f"{tooth} no es una pieza FDI (permanentes 11-48, temporales 51-85)",
        )
    return None


def span_problem(teeth: list[int]) -> Text | None:
    """Why ``teeth`` are not 2-16 consecutive teeth of one arch, or None."""
    for t in teeth:
        if (p := tooth_problem(t)) is not None:
            return p
    for row in ARCHES:
        if all(t in row for t in teeth):
            idx = sorted(row.index(t) for t in teeth)
            if len(idx) >= 2 and len(set(idx)) == len(idx) and idx[-1] - idx[0] == len(idx) - 1:
                return None
            break
    return tr(
        "a span needs at least two consecutive teeth of one arch (e.g. 14, 15, 16)",
        "un tramo necesita al menos dos piezas seguidas de una misma arcada (p. ej. 14, 15, 16)",
    )


def placement_problem(
    code: str, tooth: int | None, teeth: list[int], surfaces: list[str]
) -> tuple[str, Text] | None:
    """(field, why) when the tooth/teeth/surfaces do not fit the code, or None."""
    c = CODES[code]
    if c.placement == "span":
        if tooth is not None:
            return "tooth", tr(
                f"{code} spans teeth: give teeth, not tooth",
                f"{code} abarca varias piezas: indica teeth, no tooth",
            )
        if surfaces:
            return "surfaces", tr(f"{code} takes no surfaces", f"{code} no lleva superficies")
        p = span_problem(teeth)
        return ("teeth", p) if p else None
    if teeth:
        return "teeth", tr(
            f"only a bridge or an appliance spans teeth; {code} is on one tooth",
            f"solo un puente o un aparato abarcan varias piezas; {code} va en una pieza",
        )
    if tooth is None:
        return "tooth", tr("give the tooth (FDI)", "indica la pieza (FDI)")
    if (p := tooth_problem(tooth)) is not None:
        return "tooth", p
    if c.placement == "surfaces":
        if not surfaces or "R" in surfaces:
            return "surfaces", tr(
                f"{code} needs one or more crown surfaces (M, D, O, V, L)",
                f"{code} necesita una o más superficies de la corona (M, D, O, V, L)",
            )
    elif c.placement in ("tooth", "root") and surfaces:
        return "surfaces", tr(
            f"{code} is for the whole {'tooth' if c.placement == 'tooth' else 'root'}: no surfaces",
            f"{code} es para {'toda la pieza' if c.placement == 'tooth' else 'la raíz'}: "
            "sin superficies",
        )
    return None


def region_teeth(
    scope: str, tooth: int | None, sextant: int | None, quadrant: int | None
) -> list[int]:
    """The teeth a plan item covers (for drawing it): its tooth, its sextant's or quadrant's
    permanent teeth, or none for the whole mouth."""
    if tooth is not None:
        return [tooth]
    if scope == "sextant" and sextant:
        return sorted(t for t in SEXTANTS[sextant] if t in PERMANENT_TEETH)
    if scope == "quadrant" and quadrant:
        return [quadrant * 10 + i for i in range(1, 9)]
    return []


def region_problem(
    scope: str,
    tooth: int | None,
    surfaces: list[str],
    sextant: int | None,
    quadrant: int | None,
) -> tuple[str, Text] | None:
    """(field, why) when a plan item's placement does not fit its treatment's scope."""
    crown = [s for s in surfaces if s != "R"]
    if len(crown) != len(surfaces):
        return "surfaces", tr(
            "a treatment's surfaces are crown surfaces (M, D, O, V, L)",
            "las superficies de un tratamiento son de la corona (M, D, O, V, L)",
        )
    problem = rules.check_placement(scope, tooth, crown)
    if problem:
        surface_field = (scope == "surface" and tooth is not None) or (crown and tooth is None)
        return ("surfaces" if surface_field and tooth in TEETH else "tooth"), problem
    if scope == "sextant" and sextant is None:
        return "sextant", tr(
            "this treatment is per sextant: give the sextant (1-6)",
            "este tratamiento es por sextante: indica el sextante (1-6)",
        )
    if scope == "quadrant" and quadrant is None:
        return "quadrant", tr(
            "this treatment is per quadrant: give the quadrant (1-4)",
            "este tratamiento es por cuadrante: indica el cuadrante (1-4)",
        )
    if sextant is not None and scope != "sextant":
        return "sextant", tr(
            "only a treatment per sextant takes a sextant",
            "solo un tratamiento por sextante lleva sextante",
        )
    if quadrant is not None and scope != "quadrant":
        return "quadrant", tr(
            "only a treatment per quadrant takes a quadrant",
            "solo un tratamiento por cuadrante lleva cuadrante",
        )
    return None


def region_label(scope: str, sextant: int | None, quadrant: int | None, lang: str) -> str:
    if scope == "sextant" and sextant:
        return f"{'Sextante' if lang == 'es' else 'Sextant'} {sextant}"
    if scope == "quadrant" and quadrant:
        return f"{'Cuadrante' if lang == 'es' else 'Quadrant'} {quadrant}"
    return ""


def dentition_for(date_of_birth: str | None, on: date) -> Dentition:
    """Deciduous before 6, mixed from 6 to 12 (the first permanent molars erupt around 6 and
    the last deciduous teeth are lost around 12), permanent from 13."""
    if not date_of_birth:
        return "permanent"
    try:
        dob = date.fromisoformat(date_of_birth)
    except ValueError:
        return "permanent"
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    if age < 6:
        return "deciduous"
    if age <= 12:
        return "mixed"
    return "permanent"
