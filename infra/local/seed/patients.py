"""Demo patients of Clínica Demo (and two in Clínica Norte): realistic Spanish names, contact
details, valid DNI/NIE, medical histories that raise alerts, and a minor with a guardian.
Created through the patients service, so index items, encryption, audit and events are real."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from chalicelib.patients import schemas, service
from infra.local.seed.context import DemoContext

_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

# first, last, second last, birth date, gender, profession, city
PEOPLE: list[tuple[str, str, str | None, str, str, str | None, str]] = [
    ("María", "García", "López", "1978-04-12", "female", "Profesora", "Madrid"),
    ("José Luis", "Fernández", "Martín", "1965-11-03", "male", "Taxista", "Madrid"),
    ("Lucía", "Martínez", "Sánchez", "1992-07-21", "female", "Enfermera", "Getafe"),
    ("Antonio", "Rodríguez", "Pérez", "1950-02-08", "male", "Jubilado", "Madrid"),
    ("Carmen", "Gómez", "Ruiz", "1983-09-30", "female", "Abogada", "Alcobendas"),
    ("Javier", "Hernández", "Díaz", "1988-01-17", "male", "Ingeniero", "Madrid"),
    ("Isabel", "Jiménez", "Moreno", "1971-06-05", "female", "Administrativa", "Leganés"),
    ("Manuel", "Muñoz", "Álvarez", "1959-12-24", "male", "Electricista", "Madrid"),
    ("Ana", "Romero", "Navarro", "1996-03-14", "female", "Diseñadora", "Madrid"),
    ("Francisco", "Torres", "Domínguez", "1947-08-29", "male", "Jubilado", "Móstoles"),
    ("Laura", "Vázquez", "Ramos", "1985-05-02", "female", "Farmacéutica", "Madrid"),
    ("David", "Gil", "Serrano", "1990-10-11", "male", "Cocinero", "Madrid"),
    ("Pilar", "Blanco", "Molina", "1962-01-26", "female", "Comerciante", "Alcorcón"),
    ("Sergio", "Castro", "Ortega", "1999-07-07", "male", "Estudiante", "Madrid"),
    ("Rocío", "Delgado", "Rubio", "1987-12-19", "female", "Periodista", "Madrid"),
    ("Álvaro", "Morales", "Ortiz", "1975-03-03", "male", "Arquitecto", "Pozuelo"),
    ("Elena", "Suárez", "Castillo", "1969-09-09", "female", "Funcionaria", "Madrid"),
    ("Pablo", "Iglesias", "Santos", "1980-11-22", "male", "Comercial", "Madrid"),
    ("Marta", "Prieto", "Guerrero", "1993-02-28", "female", "Fisioterapeuta", "Madrid"),
    ("Íñigo", "Etxeberria", "Zubizarreta", "1974-06-16", "male", "Economista", "Madrid"),
    ("Nuria", "Cano", "Peña", "1957-04-01", "female", "Jubilada", "Getafe"),
    ("Adrián", "Vidal", "Cruz", "2001-08-13", "male", "Estudiante", "Madrid"),
    ("Sofía", "Ibáñez", "León", "1998-10-30", "female", "Dependienta", "Madrid"),
    ("Raúl", "Núñez", "Herrera", "1968-05-25", "male", "Conductor", "Fuenlabrada"),
]

HISTORIES: dict[int, dict[str, Any]] = {
    0: {"allergies": [{"substance": "Penicilina", "severity": "severe", "reaction": "Urticaria"}]},
    1: {
        "medications": [{"name": "Sintrom 4 mg", "frequency": "según pauta INR"}],
        "systemic_diseases": [{"name": "Fibrilación auricular"}],
        "conditions": {"hypertension": True},
    },
    3: {
        "medications": [{"name": "Ácido alendrónico 70 mg", "frequency": "semanal"}],
        "systemic_diseases": [{"name": "Osteoporosis"}],
        "conditions": {"diabetes": "type2"},
    },
    4: {"conditions": {"pregnant": True, "pregnancy_weeks": 22}},
    5: {"conditions": {"smoker": True}},
    7: {
        "medications": [{"name": "Metformina 850 mg"}, {"name": "Adiro 100 mg"}],
        "conditions": {"diabetes": "type2", "antiplatelets": True, "heart_disease": True},
    },
    9: {
        "conditions": {"pacemaker": True, "endocarditis_risk": True, "anticoagulants": True},
        "surgical_history": [{"procedure": "Sustitución valvular aórtica", "year": 2015}],
    },
    10: {
        "allergies": [{"substance": "Látex", "severity": "anaphylaxis"}],
        "conditions": {"latex_allergy": True},
    },
    12: {
        "allergies": [{"substance": "Ibuprofeno", "severity": "moderate"}],
        "conditions": {"asthma": True},
    },
    16: {
        "conditions": {"head_neck_radiotherapy": True},
        "systemic_diseases": [{"name": "Carcinoma de laringe (remisión)"}],
    },
    20: {"medications": [{"name": "Eliquis 5 mg"}], "conditions": {"hypertension": True}},
}


# Insurers common in Spanish dental clinics; None is a private patient. Chosen by position (not by
# ``rnd``) so adding them left every other seeded value as it was.
INSURERS: list[tuple[str, str] | None] = [
    ("Sanitas", "SAN"),
    ("Adeslas", "ADE"),
    None,
    ("DKV", "DKV"),
    ("Asisa", "ASI"),
    None,
    ("Mapfre", "MAP"),
]


def _insurer(i: int) -> dict[str, Any] | None:
    choice = INSURERS[i % len(INSURERS)]
    if choice is None:
        return None
    company, prefix = choice
    return {"company": company, "policy_number": f"{prefix}-{4_100_000 + i * 7919:08d}"}


def _dni(rnd: random.Random) -> str:
    n = rnd.randint(10_000_000, 79_999_999)
    return f"{n}{_LETTERS[n % 23]}"


def _nie(rnd: random.Random) -> str:
    prefix = rnd.choice("XYZ")
    digits = rnd.randint(1_000_000, 9_999_999)
    n = int(f"{'XYZ'.index(prefix)}{digits}")
    return f"{prefix}{digits}{_LETTERS[n % 23]}"


def _body(i: int, person: tuple, rnd: random.Random) -> schemas.PatientIn:
    first, last, second, dob, gender, profession, city = person
    user = f"{first.split()[0]}.{last}".lower().translate(str.maketrans("áéíóúñ", "aeioun"))
    nid = (
        {"type": "nie", "number": _nie(rnd)} if i % 9 == 8 else {"type": "dni", "number": _dni(rnd)}
    )
    mobile = f"+346{rnd.randint(10_000_000, 99_999_999)}"
    return schemas.PatientIn.model_validate(
        {
            "first_name": first,
            "last_name": last,
            "second_last_name": second,
            "date_of_birth": dob,
            "gender": gender,
            "profession": profession,
            "national_id": nid,
            "email": f"{user}@example.com",
            "phone": mobile,
            "whatsapp": mobile if i % 3 else None,
            "preferred_channel": "whatsapp" if i % 3 else "email",
            "language": "es",
            "address": {
                "line1": f"Calle {rnd.choice(['Alcalá', 'Atocha', 'Serrano', 'Toledo'])} "
                f"{rnd.randint(1, 180)}",
                "city": city,
                "postal_code": f"28{rnd.randint(1, 99):03d}",
                "province": "Madrid",
            },
            "emergency_contact": {
                "name": "Contacto familiar",
                "phone": f"+346{rnd.randint(10_000_000, 99_999_999)}",
                "relationship": "familiar",
            }
            if i % 4 == 0
            else None,
            "insurer": _insurer(i),
        }
    )


def seed(ctx: DemoContext) -> list[str]:
    """Create the demo patients; returns the active Clínica Demo patient ids."""
    rnd = random.Random(2026)  # noqa: S311 - demo data
    reception = ctx.demo["receptionist"]
    dentist = ctx.demo["dentist"]
    ids = []
    for i, person in enumerate(PEOPLE):
        p = service.create(reception, _body(i, person, rnd))
        ids.append(p.patient_id)
        if i in HISTORIES:
            service.put_medical(
                dentist, p.patient_id, schemas.MedicalHistory.model_validate(HISTORIES[i])
            )
    # A minor, with her mother as legal guardian and an allergy alert.
    child_dob = date(date.today().year - 9, 5, 18).isoformat()
    minor = service.create(
        reception,
        schemas.PatientIn.model_validate(
            {
                "first_name": "Paula",
                "last_name": "García",
                "second_last_name": "Fernández",
                "date_of_birth": child_dob,
                "gender": "female",
                "preferred_channel": "whatsapp",
                "legal_guardian": {
                    "name": "María García López",
                    "relationship": "madre",
                    "phone": "+34611223344",
                    "email": "maria.garcia@example.com",
                },
            }
        ),
    )
    service.put_medical(
        dentist,
        minor.patient_id,
        schemas.MedicalHistory.model_validate(
            {"allergies": [{"substance": "Amoxicilina", "severity": "severe"}]}
        ),
    )
    ids.append(minor.patient_id)
    # One archived patient, to try include_archived (not booked by the agenda seed).
    archived = ids.pop(23)
    service.set_archived(ctx.demo["admin"], archived, True)
    # Clínica Norte has its own patients (tenant isolation: Demo never sees them).
    for i, person in enumerate(
        [
            ("Ane", "Etxebarria", "Goikoetxea", "1984-02-11", "female", "Médica", "Bilbao"),
            ("Mikel", "Urrutia", "Agirre", "1977-09-04", "male", "Pescador", "Getxo"),
        ]
    ):
        service.create(ctx.norte["admin"], _body(i + 1, person, rnd))
    return ids
