"""Safety alerts computed from a medical history (pure; unit-tested).

Alerts are what no screen may miss: they are returned on every patient read, to everyone who
can see the patient, even to roles that cannot read the full history.
"""

from __future__ import annotations

from chalicelib.patients.schemas import Alert, MedicalHistory
from chalicelib.patients.search import fold

# Active ingredients and brand names seen on Spanish prescriptions.
ANTICOAGULANTS = (
    "acenocumarol",
    "sintrom",
    "warfarin",
    "aldocumar",
    "apixaban",
    "eliquis",
    "rivaroxaban",
    "xarelto",
    "dabigatran",
    "pradaxa",
    "edoxaban",
    "lixiana",
    "heparin",
    "enoxaparin",
    "clexane",
)
ANTIPLATELETS = ("clopidogrel", "plavix", "ticagrelor", "brilique", "prasugrel", "adiro")
BISPHOSPHONATES = (
    "alendron",
    "risedron",
    "ibandron",
    "zoledron",
    "pamidron",
    "fosamax",
    "actonel",
    "bonviva",
    "zometa",
    "aclasta",
    "denosumab",
    "prolia",
    "xgeva",
)

_LEVEL_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _mentions(history: MedicalHistory, needles: tuple[str, ...]) -> bool:
    names = [fold(m.name) for m in history.medications]
    return any(n in name for name in names for n in needles)


def compute_alerts(history: MedicalHistory | None) -> list[Alert]:
    if history is None:
        return []
    out: list[Alert] = []
    c = history.conditions

    def add(code: str, level: str, message: str) -> None:
        out.append(Alert(code=code, level=level, message=message))  # type: ignore[arg-type]

    for a in history.allergies:
        if a.severity == "anaphylaxis":
            add("allergy_anaphylaxis", "critical", f"Anaphylaxis risk: {a.substance}")
        elif a.severity == "severe":
            add("allergy_severe", "critical", f"Severe allergy: {a.substance}")
        else:
            add("allergy", "warning", f"Allergy: {a.substance}")
    if c.latex_allergy and not any("latex" in fold(a.substance) for a in history.allergies):
        add("allergy_latex", "critical", "Latex allergy")
    if c.anticoagulants or _mentions(history, ANTICOAGULANTS):
        add("anticoagulated", "critical", "Anticoagulated")
    if c.antiplatelets or _mentions(history, ANTIPLATELETS):
        add("antiplatelets", "warning", "Antiplatelet therapy")
    if c.bleeding_disorder:
        add("bleeding_disorder", "critical", "Bleeding disorder")
    if c.bisphosphonates or _mentions(history, BISPHOSPHONATES):
        add("bisphosphonates", "critical", "Bisphosphonates / antiresorptives (osteonecrosis risk)")
    if c.head_neck_radiotherapy:
        add("radiotherapy", "critical", "Head and neck radiotherapy (osteoradionecrosis risk)")
    if c.endocarditis_risk:
        add("endocarditis_risk", "critical", "Endocarditis risk: antibiotic prophylaxis")
    if c.pacemaker:
        add("pacemaker", "warning", "Pacemaker")
    if c.heart_disease:
        add("heart_disease", "warning", "Heart disease")
    if c.pregnant:
        weeks = f" ({c.pregnancy_weeks} weeks)" if c.pregnancy_weeks else ""
        add("pregnant", "warning", f"Pregnant{weeks}")
    if c.diabetes != "none":
        label = {"type1": "type 1", "type2": "type 2", "gestational": "gestational"}[c.diabetes]
        add("diabetes", "warning", f"Diabetes ({label})")
    if c.immunosuppressed:
        add("immunosuppressed", "warning", "Immunosuppressed")
    if c.epilepsy:
        add("epilepsy", "warning", "Epilepsy")
    if c.hypertension:
        add("hypertension", "info", "Hypertension")
    if c.asthma:
        add("asthma", "info", "Asthma")
    if c.infectious_disease:
        add("infectious_disease", "warning", "Infectious disease: take precautions")
    if c.breastfeeding:
        add("breastfeeding", "info", "Breastfeeding")
    if c.smoker:
        add("smoker", "info", "Smoker")
    return sorted(out, key=lambda a: _LEVEL_ORDER[a.level])
