"""The demo seed uploads real-looking files through the service and S3, and the worker renders
every one of them: the showcase patient's photo series, pairs, panoramic, periapicals of tooth
11 over time, a JPEG-LS bite-wing and a CBCT volume, a consent and a referral; the second
patient's periapical from another practice is flagged as someone else's."""

from __future__ import annotations

from collections import Counter

from infra.local.seed import imaging as imaging_seed
from infra.local.seed.context import DemoContext
from tests.integration.conftest import admin_principal
from tests.integration.patients.helpers import create_patient


def test_demo_seed_is_rendered_by_the_worker(api, clinic, patient, worker):
    second = create_patient(api, clinic.admin_token, first_name="Zoe", last_name="Zamora")
    who = admin_principal(clinic)
    ctx = DemoContext(demo_clinic_id=clinic.clinic_id, norte_clinic_id="-", demo={"dentist": who})
    imaging_seed.seed(ctx)
    t = clinic.admin_token

    def pending() -> list[str]:
        out = []
        for p in (patient, second):
            url = f"/patients/{p['patient_id']}/images?limit=100"
            items = api.get(url, token=t).json()["data"]["items"]
            out += [i["filename"] for i in items if i["status"] in ("pending", "processing")]
        return out

    # A delivery that failed (a loaded machine) comes back and is handled again: wait for what
    # matters, every image rendered, not for a count of messages.
    worker.drain_all(wait_s=600)
    assert not pending(), f"never rendered: {pending()}"

    pid = patient["patient_id"]  # Pérez sorts first: the showcase patient
    items = api.get(f"/patients/{pid}/images?limit=100", token=t).json()["data"]["items"]
    assert {i["status"] for i in items} == {"ready"}, [i["reason"] for i in items]
    assert Counter(i["kind"] for i in items) == {"photo": 11, "dicom": 5, "xray": 1}
    categories = {i["category"] for i in items if i["kind"] == "photo"}
    assert categories == set(imaging_seed.INTRAORAL) | set(imaging_seed.EXTRAORAL)
    profile = next(i for i in items if i["category"] == "extraoral_profile_left")
    assert profile["height"] > profile["width"]  # EXIF orientation 6 applied
    assert profile["acquired_at"]  # taken from EXIF
    dicom = {i["filename"]: i for i in items if i["kind"] == "dicom"}
    assert not any(i["patient_mismatch"] for i in dicom.values())
    assert dicom["aleta-derecha.dcm"]["xray_type"] == "bite-wing"
    assert (
        dicom["aleta-derecha.dcm"]["dicom"]["transfer_syntax_name"]
        == "JPEG-LS Lossless Image Compression"
    )
    cbct = dicom["cbct-mandibula.dcm"]
    assert cbct["xray_type"] == "cbct" and cbct["dicom"]["number_of_frames"] == 48
    compare = api.get(f"/patients/{pid}/xrays/compare?tooth=11", token=t).json()["data"]
    dates = [i["acquired_at"] for i in compare]
    assert len(dates) == 3 and dates == sorted(dates)
    pairs = api.get(f"/patients/{pid}/images/pairs", token=t).json()["data"]
    assert len(pairs) == 2
    docs = api.get(f"/patients/{pid}/documents", token=t).json()["data"]["items"]
    assert sorted(d["type"] for d in docs) == ["consent", "referral"]
    assert {d["status"] for d in docs} == {"available"}

    pid = second["patient_id"]
    items = api.get(f"/patients/{pid}/images?limit=100", token=t).json()["data"]["items"]
    assert len(items) == 8 and {i["status"] for i in items} == {"ready"}
    flagged = [i["filename"] for i in items if i["patient_mismatch"]]
    assert flagged == ["periapical-otra-clinica.dcm"]
    assert len(api.get(f"/patients/{pid}/images/pairs", token=t).json()["data"]) == 1
