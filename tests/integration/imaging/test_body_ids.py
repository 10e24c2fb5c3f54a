"""Ids in request bodies are resolved within the caller's clinic (issue 20): clinic B, on its
own patient, naming clinic A's appointment, treatment, images or patient gets a 4xx and
nothing is stored (nor shown in B's audit log).

Routes checked (each body id): POST /patients/{id}/images and /xrays (``appointment_id``,
``treatment_id``), PATCH /patients/{id}/images/{image_id} (the same), POST
/patients/{id}/images/pairs (``before_id``, ``after_id``), POST /bridge/inbox/{id}/assign
(``patient_id``), POST /bridge/device/captures (``patient_id``, ``patient_number``).
POST /patients/{id}/documents takes no id in its body (its patient is the path's, covered by
test_access.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.billing.conftest import Billing
from tests.integration.bridge.conftest import capture_body, register
from tests.integration.imaging.conftest import image_body
from tests.integration.imaging.helpers import audit_actions
from tests.integration.patients.helpers import create_patient


@pytest.fixture
def a_ids(api: Any, clinic: Any) -> dict[str, str]:
    """Clinic A's appointment (of its patient) and catalog treatment."""
    ag = make_agenda(api, clinic)
    appt = booked(api, ag, at(ag.monday, "10:00"))
    treatment = Billing(api, clinic.admin_token).treatment("IMGX", "10.00")
    return {
        "patient_id": ag.patient_id,
        "appointment_id": appt["appointment_id"],
        "treatment_id": treatment,
    }


def _images(api: Any, token: str, pid: str) -> list[dict]:
    r = api.get(f"/patients/{pid}/images", token=token)
    assert r.status == 200, r.body
    return r.json()["data"]["items"]


def _field(r: Any) -> str:
    return r.json()["errors"][0]["field"]


@pytest.mark.parametrize("route", ["images", "xrays"])
@pytest.mark.parametrize("field", ["appointment_id", "treatment_id"])
def test_creating_an_image_with_another_clinics_ids_is_422_and_stores_nothing(
    api, clinic, other_clinic, a_ids, route, field
):
    b = other_clinic.admin_token
    pid = create_patient(api, b)["patient_id"]
    kind = "photo" if route == "images" else "xray"
    r = api.post(
        f"/patients/{pid}/{route}", image_body(kind, b"x", **{field: a_ids[field]}), token=b
    )
    assert r.status == 422, r.body
    assert _field(r) == field
    assert _images(api, b, pid) == []
    r = api.get("/audit?entity_type=image", token=b)
    assert a_ids[field].encode() not in r.body


def test_own_ids_are_accepted_and_another_patients_appointment_is_not(api, clinic, a_ids):
    a = clinic.admin_token
    r = api.post(
        f"/patients/{a_ids['patient_id']}/images",
        image_body(
            "photo",
            b"x",
            appointment_id=a_ids["appointment_id"],
            treatment_id=a_ids["treatment_id"],
        ),
        token=a,
    )
    assert r.status == 201, r.body
    img = r.json()["data"]["image"]
    assert (img["appointment_id"], img["treatment_id"]) == (
        a_ids["appointment_id"],
        a_ids["treatment_id"],
    )
    # The same clinic's appointment, but of another patient: not this image's.
    other = create_patient(api, a)["patient_id"]
    r = api.post(
        f"/patients/{other}/images",
        image_body("photo", b"x", appointment_id=a_ids["appointment_id"]),
        token=a,
    )
    assert r.status == 422 and _field(r) == "appointment_id"
    r = api.post(
        f"/patients/{other}/images", image_body("photo", b"x", treatment_id="NOPE"), token=a
    )
    assert r.status == 422 and _field(r) == "treatment_id"
    r = api.post(
        f"/patients/{other}/images",
        image_body("photo", b"x", treatment_id="NOPE"),
        token=a,
        headers={"Accept-Language": "es"},
    )
    assert "tratamiento" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize("field", ["appointment_id", "treatment_id"])
def test_editing_an_image_to_another_clinics_ids_is_422_and_changes_nothing(
    api, clinic, other_clinic, a_ids, field
):
    b = other_clinic.admin_token
    pid = create_patient(api, b)["patient_id"]
    r = api.post(f"/patients/{pid}/images", image_body("photo", b"x"), token=b)
    assert r.status == 201, r.body
    iid = r.json()["data"]["image"]["image_id"]
    r = api.patch(f"/patients/{pid}/images/{iid}", {field: a_ids[field]}, token=b)
    assert r.status == 422, r.body
    assert _field(r) == field
    img = api.get(f"/patients/{pid}/images/{iid}", token=b).json()["data"]
    assert img[field] is None
    assert "image.updated" not in [a["action"] for a in audit_actions(api, b, "image", iid)]
    # clearing one is always fine
    r = api.patch(f"/patients/{pid}/images/{iid}", {field: None}, token=b)
    assert r.status == 200, r.body


def test_a_pair_of_another_clinics_images_is_422(api, clinic, other_clinic, start_upload):
    before = start_upload("photo", b"x" * 10)["image"]["image_id"]
    after = start_upload("photo", b"x" * 10)["image"]["image_id"]
    b = other_clinic.admin_token
    pid = create_patient(api, b)["patient_id"]
    mine = api.post(f"/patients/{pid}/images", image_body("photo", b"x"), token=b)
    mine_id = mine.json()["data"]["image"]["image_id"]
    for body, field in (
        ({"before_id": before, "after_id": after}, "before_id"),
        ({"before_id": mine_id, "after_id": after}, "after_id"),
    ):
        r = api.post(f"/patients/{pid}/images/pairs", body, token=b)
        assert r.status == 422, r.body
        assert _field(r) == field
    assert api.get(f"/patients/{pid}/images/pairs", token=b).json()["data"] == []


def test_a_capture_naming_another_clinics_patient_is_not_theirs(api, clinic, other_clinic, a_ids):
    key = register(api, other_clinic.admin_token)["api_key"]
    r = api.post(
        "/bridge/device/captures",
        capture_body(b"explicit", patient_id=a_ids["patient_id"]),
        token=key,
    )
    assert r.status == 422 and _field(r) == "patient_id"
    # Typed at the Bridge as a patient number: matches none of B's patients -> B's inbox.
    r = api.post(
        "/bridge/device/captures",
        capture_body(b"typed", patient_number=a_ids["patient_id"]),
        token=key,
    )
    assert r.status == 201, r.body
    d = r.json()["data"]
    assert d["match"]["patient_id"] is None
    inbox = api.get("/bridge/inbox", token=other_clinic.admin_token).json()["data"]["items"]
    assert [i["image_id"] for i in inbox] == [d["image_id"]]
    # ... and assigning it to A's patient is a 404
    r = api.post(
        f"/bridge/inbox/{d['image_id']}/assign",
        {"patient_id": a_ids["patient_id"]},
        token=other_clinic.admin_token,
    )
    assert r.status == 404, r.body
