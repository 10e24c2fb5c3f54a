"""The demo seed registers the demo Bridge device with its documented key and leaves captures
in the inbox (one nobody's, one ambiguous, a two-file study) that the worker renders."""

from __future__ import annotations

from collections import Counter

from infra.local.seed import bridge as bridge_seed
from infra.local.seed.context import DEMO_DEVICE_KEY, DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.patients.helpers import create_patient


def test_demo_device_and_inbox(api, clinic, worker):
    t = clinic.admin_token
    a = create_patient(api, t, first_name="Ana", last_name="Alba", date_of_birth="1980-01-02")
    b = create_patient(api, t, first_name="Bea", last_name="Bravo", date_of_birth="1990-05-06")
    api.post("/agenda/cabinets", {"name": "Gabinete 1", "position": 0}, token=t)
    ctx = DemoContext(
        demo_clinic_id=clinic.clinic_id,
        norte_clinic_id="-",
        demo={"admin": admin_principal(clinic)},
    )
    bridge_seed.seed(ctx)
    worker.drain_all(wait_s=300)

    [device] = api.get("/bridge/devices", token=t).json()["data"]
    assert device["name"] == "Sensor Gabinete 1" and device["cabinet_id"]
    assert DEMO_DEVICE_KEY.startswith(f"cbk_{device['key_prefix']}.")
    r = api.post("/bridge/device/heartbeat", {"client_version": "demo"}, token=DEMO_DEVICE_KEY)
    assert r.status == 200 and r.json()["data"]["device_id"] == device["device_id"]

    items = api.get("/bridge/inbox", token=t).json()["data"]["items"]
    assert {i["status"] for i in items} == {"ready"}, [i["reason"] for i in items]
    assert Counter(i["match"]["reason"] for i in items) == {"no_match": 3, "ambiguous": 1}
    [amb] = [i for i in items if i["match"]["reason"] == "ambiguous"]
    assert set(amb["match"]["candidates"]) == {a["patient_id"], b["patient_id"]}
    assert amb["hints"]["dicom_patient_name"]
    study = [i for i in items if i["study_uid"] and i["filename"].startswith("IM")]
    assert len(study) == 2 and len({i["study_uid"] for i in study}) == 1
    r = api.post(
        f"/bridge/inbox/{study[0]['image_id']}/assign", {"patient_id": a["patient_id"]}, token=t
    )
    assert r.status == 200, r.body
    studies = api.get(f"/patients/{a['patient_id']}/studies", token=t).json()["data"]
    assert [s["image_count"] for s in studies] == [2]
