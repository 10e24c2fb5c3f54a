"""The patient's insurer (company, policy number, holder): optional, editable, sealed at rest,
masked in the audit log and out of reach of another clinic (issue 15)."""

from __future__ import annotations

import pytest

from tests.integration.patients.helpers import create_patient, patient_body
from tests.integration.patients.test_patients import _patient_audit, raw_items

SANITAS = {"company": "Sanitas", "policy_number": "SAN-0099887766", "holder_name": None}


def test_create_with_an_insurer_and_read_it_back(api, clinic):
    r = api.post(
        "/patients",
        patient_body(insurer={"company": " Sanitas ", "policy_number": "SAN-0099887766"}),
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    p = r.json()["data"]
    assert p["insurer"] == SANITAS
    got = api.get(f"/patients/{p['patient_id']}", token=clinic.admin_token).json()["data"]
    assert got["insurer"] == SANITAS


def test_a_patient_without_insurer_is_private(api, clinic):
    p = create_patient(api, clinic.admin_token)
    assert p["insurer"] is None


def test_update_sets_changes_and_clears_the_insurer(api, clinic, published):
    p = create_patient(api, clinic.admin_token)
    url = f"/patients/{p['patient_id']}"
    r = api.patch(url, {"insurer": {"company": "Adeslas"}}, token=clinic.admin_token)
    assert r.status == 200, r.body
    assert r.json()["data"]["insurer"] == {
        "company": "Adeslas",
        "policy_number": None,
        "holder_name": None,
    }
    assert published[-1][1]["changes"] == ["insurer"]
    new = {"company": "DKV", "policy_number": "DKV-12345", "holder_name": "Pedro Pérez"}
    r = api.patch(url, {"insurer": new}, token=clinic.admin_token)
    assert r.json()["data"]["insurer"] == new
    # other edits keep it
    r = api.patch(url, {"profession": "Abogada"}, token=clinic.admin_token)
    assert r.json()["data"]["insurer"] == new
    r = api.patch(url, {"insurer": None}, token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["insurer"] is None
    assert api.get(url, token=clinic.admin_token).json()["data"]["insurer"] is None


@pytest.mark.parametrize(
    ("insurer", "field"),
    [
        ({"policy_number": "123"}, "insurer.company"),
        ({"company": "S"}, "insurer.company"),
        ({"company": "x" * 81}, "insurer.company"),
        ({"company": "Sanitas", "policy_number": "9" * 41}, "insurer.policy_number"),
        ({"company": "Sanitas", "plan": "oro"}, "insurer.plan"),
        ("Sanitas", "insurer"),
    ],
)
def test_bad_insurer_is_422_naming_the_field(api, clinic, insurer, field):
    r = api.post("/patients", patient_body(insurer=insurer), token=clinic.admin_token)
    assert r.status == 422, r.body
    assert field in [e["field"] for e in r.json()["errors"]]
    p = create_patient(api, clinic.admin_token)
    r = api.patch(f"/patients/{p['patient_id']}", {"insurer": insurer}, token=clinic.admin_token)
    assert r.status == 422, r.body
    assert field in [e["field"] for e in r.json()["errors"]]


def test_the_insurer_is_ciphertext_in_the_raw_table_and_masked_in_the_audit(api, clinic):
    p = create_patient(
        api, clinic.admin_token, insurer={"company": "Mapfre", "policy_number": "MPF-55443322"}
    )
    pid = p["patient_id"]
    r = api.patch(
        f"/patients/{pid}",
        {"insurer": {"company": "Asisa", "policy_number": "ASI-11223344"}},
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    items = raw_items(clinic.clinic_id, "")
    blob = repr(items)
    for plain in ("MPF-55443322", "ASI-11223344", "Asisa", "Mapfre"):
        assert plain not in blob
    item = next(i for i in items if i["SK"]["S"] == f"PAT#{pid}")
    assert item["insurer_sealed"]["S"].startswith("v1:")
    entries = _patient_audit(api, clinic, pid)
    updated = next(e for e in entries if e["action"] == "patient.updated")
    assert updated["changes"]["insurer"] == {"before": "***", "after": "***"}
    assert "ASI-11223344" not in repr(entries) and "MPF-55443322" not in repr(entries)


def test_another_clinic_cannot_read_or_set_the_insurer(api, clinic, other_clinic):
    p = create_patient(api, clinic.admin_token, insurer={"company": "Sanitas"})
    url = f"/patients/{p['patient_id']}"
    assert api.get(url, token=other_clinic.admin_token).status == 404
    r = api.patch(url, {"insurer": {"company": "DKV"}}, token=other_clinic.admin_token)
    assert r.status == 404
    got = api.get(url, token=clinic.admin_token).json()["data"]
    assert got["insurer"]["company"] == "Sanitas"
