from __future__ import annotations

import pytest

from chalicelib.patients import search
from chalicelib.patients.alerts import compute_alerts
from chalicelib.patients.schemas import MedicalHistory


def test_fold_and_tokens_strip_accents_and_case():
    assert search.fold("Muñoz ÍÑIGO Çelik") == "munoz inigo celik"
    assert search.tokens("María José", "García-López", None, "garcia") == [
        "maria",
        "jose",
        "garcia",
        "lopez",
    ]


def test_normalise_phone_defaults_to_spain_and_rejects_invalid():
    assert search.normalise_phone("600 111 222") == "+34600111222"
    assert search.normalise_phone("+44 20 7946 0958") == "+442079460958"
    with pytest.raises(ValueError):
        search.normalise_phone("123")


def test_no_history_no_alerts():
    assert compute_alerts(None) == []
    assert compute_alerts(MedicalHistory()) == []


def test_alerts_from_allergies_conditions_and_medications():
    h = MedicalHistory.model_validate(
        {
            "allergies": [
                {"substance": "Látex", "severity": "anaphylaxis"},
                {"substance": "Penicilina", "severity": "severe"},
                {"substance": "Polen", "severity": "mild"},
            ],
            "medications": [{"name": "Eliquis 5mg"}, {"name": "Ácido alendrónico 70 mg"}],
            "conditions": {
                "pregnant": True,
                "pregnancy_weeks": 20,
                "smoker": True,
                "latex_allergy": True,
            },
        }
    )
    alerts = compute_alerts(h)
    msgs = [a.message for a in alerts]
    assert "Anaphylaxis risk: Látex" in msgs
    assert "Severe allergy: Penicilina" in msgs
    assert "Allergy: Polen" in msgs
    assert "Anticoagulated" in msgs
    assert any(m.startswith("Bisphosphonates") for m in msgs)
    assert "Pregnant (20 weeks)" in msgs
    assert "Smoker" in msgs
    assert "Latex allergy" not in msgs  # already an allergy entry
    levels = [a.level for a in alerts]
    assert levels == sorted(levels, key=["critical", "warning", "info"].index)


def test_flags_alone_raise_alerts():
    h = MedicalHistory.model_validate({"conditions": {"anticoagulants": True, "diabetes": "type1"}})
    assert [a.code for a in compute_alerts(h)] == ["anticoagulated", "diabetes"]
