"""A DICOM's pixel spacing reaches the API (the viewer measures lengths in mm with it)."""

from __future__ import annotations

from tests.unit.imaging.imaging_samples import base_dataset, dicom_bytes, gradient16


def _dicom(**spacing) -> bytes:
    ds = base_dataset(rows=120, cols=160, modality="IO")
    for name, value in spacing.items():
        setattr(ds, name, value)
    ds.PixelData = gradient16(120, 160, 12).tobytes()
    return dicom_bytes(ds)


def test_spacing_is_in_the_image_and_in_the_listing(api, clinic, patient, uploaded):
    img = uploaded("dicom", _dicom(PixelSpacing=[0.04, 0.05], ImagerPixelSpacing=[0.1, 0.1]))
    assert img["status"] == "ready", img
    assert img["dicom"]["pixel_spacing"] == [0.04, 0.05]
    assert img["dicom"]["pixel_spacing_source"] == "PixelSpacing"
    assert (img["dicom"]["rows"], img["dicom"]["columns"]) == (120, 160)
    listed = api.get(f"/patients/{patient['patient_id']}/images", token=clinic.admin_token)
    mine = next(i for i in listed.json()["data"]["items"] if i["image_id"] == img["image_id"])
    assert mine["dicom"]["pixel_spacing"] == [0.04, 0.05]


def test_without_spacing_the_api_says_null(uploaded):
    img = uploaded("dicom", _dicom())
    assert img["status"] == "ready", img
    assert img["dicom"]["pixel_spacing"] is None
    assert img["dicom"]["pixel_spacing_source"] is None


def test_another_clinic_cannot_read_it(api, clinic, other_clinic, patient, uploaded):
    img = uploaded("dicom", _dicom(ImagerPixelSpacing=[0.035, 0.035]))
    assert img["dicom"]["pixel_spacing_source"] == "ImagerPixelSpacing"
    pid, iid = patient["patient_id"], img["image_id"]
    for path in (f"/patients/{pid}/images/{iid}", f"/images/{iid}", f"/patients/{pid}/images"):
        r = api.get(path, token=other_clinic.admin_token)
        assert r.status == 404
        assert b"0.035" not in r.body
