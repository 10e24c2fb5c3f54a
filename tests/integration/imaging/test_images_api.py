"""Image records through the API: validation, permissions, tenant isolation, listing with
filters and paging, edits, soft delete, before/after pairs, tooth comparison, settings."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import image_body, upload
from tests.integration.imaging.helpers import audit_actions
from tests.unit.imaging.imaging_samples import photo_jpeg, xray_png16

MB = 1024 * 1024


def _images(patient):
    return f"/patients/{patient['patient_id']}/images"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"teeth": [19]}, "teeth"),
        ({"teeth": [56]}, "teeth"),
        ({"teeth": [0]}, "teeth"),
        ({"category": "selfie"}, "category"),
        ({"kind": "video"}, "kind"),
        ({"xray_type": "panoramic"}, "body"),  # photos have no X-ray type
        ({"content_type": "application/pdf"}, "body"),
        ({"size": 0}, "size"),
        ({"size": 26 * MB}, "size"),
        ({"acquired_at": "yesterday"}, "acquired_at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_upload_requests_are_422(api, clinic, patient, over, field):
    body = {**image_body("photo", b"x" * 10), **over}
    r = api.post(_images(patient), body, token=clinic.admin_token)
    assert r.status == 422, r.body
    assert any(e["field"].startswith(field) for e in r.json()["errors"]) or field == "body"


def test_fdi_teeth_incl_deciduous_are_accepted_and_sorted(api, clinic, patient):
    body = image_body("photo", b"x" * 10, teeth=[85, 11, 51, 48, 11])
    r = api.post(_images(patient), body, token=clinic.admin_token)
    assert r.status == 201, r.body
    assert r.json()["data"]["image"]["teeth"] == [11, 48, 51, 85]


def test_category_belongs_to_photos_and_xray_type_to_xrays(api, clinic, patient):
    r = api.post(
        _images(patient),
        image_body("xray", b"x", category="intraoral_frontal"),
        token=clinic.admin_token,
    )
    assert r.status == 422
    r = api.post(
        _images(patient), image_body("dicom", b"x" * 10, size=101 * MB), token=clinic.admin_token
    )
    assert r.status == 422  # DICOM limit 100 MB
    r = api.post(
        _images(patient), image_body("dicom", b"x" * 10, size=90 * MB), token=clinic.admin_token
    )
    assert r.status == 201
    # The form allows the declared size, not the kind's 100 MB maximum.
    assert r.json()["data"]["upload"]["max_bytes"] == 90 * MB


def test_upload_response_is_a_pending_record_and_a_form(api, clinic, patient):
    r = api.post(
        _images(patient),
        image_body(
            "photo",
            b"x" * 10,
            category="extraoral_smile",
            acquired_at="2024-05-01",
            notes="antes del blanqueamiento",
        ),
        token=clinic.admin_token,
    )
    assert r.status == 201
    d = r.json()["data"]
    assert d["image"]["status"] == "pending" and d["image"]["urls"] == {}
    assert d["image"]["acquired_at"] == "2024-05-01"
    # an hour, or less when the clinic's credentials that signed the form expire sooner (ADR
    # 0012: they are renewed 30 minutes before they expire)
    assert 1800 <= d["upload"]["expires_in"] <= 3600
    assert d["upload"]["fields"]["Content-Type"] == "image/jpeg"
    assert d["upload"]["fields"]["key"] == (
        f"clinics/{clinic.clinic_id}/uploads/{d['image']['image_id']}/original"
    )


def test_permissions_by_role_and_kind(api, clinic, patient):
    reception = add_member(api, clinic, "receptionist")
    assert api.get(_images(patient), token=reception["token"]).status == 403
    r = api.post(_images(patient), image_body("photo", b"x"), token=reception["token"])
    assert r.status == 403
    assistant = add_member(api, clinic, "assistant")
    # A role that may upload photos but not X-rays.
    r = api.put(
        "/roles/assistant",
        {"grants": ["patients.read", "imaging.images.*"]},
        token=clinic.admin_token,
    )
    assert r.status == 200
    assert (
        api.post(_images(patient), image_body("photo", b"x"), token=assistant["token"]).status
        == 201
    )
    r = api.post(_images(patient), image_body("xray", b"x"), token=assistant["token"])
    assert r.status == 403 and r.json()["data"]["permission"] == "imaging.xrays.write"
    # ... and one that takes X-rays only.
    r = api.put(
        "/roles/hygienist",
        {"grants": ["imaging.images.read", "imaging.xrays.write"]},
        token=clinic.admin_token,
    )
    hyg = add_member(api, clinic, "hygienist")
    r = api.post(
        f"/patients/{patient['patient_id']}/xrays", image_body("xray", b"x"), token=hyg["token"]
    )
    assert r.status == 201, r.body
    r = api.post(
        f"/patients/{patient['patient_id']}/xrays", image_body("photo", b"x"), token=hyg["token"]
    )
    assert r.status == 422


def test_original_url_needs_the_write_permission(uploaded, api, clinic):
    img = uploaded("xray", xray_png16(300, 200))
    assert "original" in img["urls"]
    r = api.put(
        "/roles/receptionist", {"grants": ["imaging.images.read"]}, token=clinic.admin_token
    )
    assert r.status == 200
    reception = add_member(api, clinic, "receptionist")
    seen = api.get(f"/images/{img['image_id']}", token=reception["token"]).json()["data"]
    assert {"thumb", "preview", "full"} <= set(seen["urls"]) and "original" not in seen["urls"]


def test_other_clinic_cannot_reach_images(api, clinic, other_clinic, patient, start_upload):
    d = start_upload("photo", b"x" * 10)
    iid, pid = d["image"]["image_id"], patient["patient_id"]
    t = other_clinic.admin_token
    assert api.get(f"/patients/{pid}/images", token=t).status == 404
    assert api.post(f"/patients/{pid}/images", image_body("photo", b"x"), token=t).status == 404
    assert api.get(f"/patients/{pid}/images/{iid}", token=t).status == 404
    assert api.get(f"/images/{iid}", token=t).status == 404
    assert api.patch(f"/patients/{pid}/images/{iid}", {"notes": "x"}, token=t).status == 404
    assert api.delete(f"/patients/{pid}/images/{iid}", token=t).status == 404
    assert api.get(f"/patients/{pid}/xrays/compare?tooth=11", token=t).status == 404
    assert api.get(f"/patients/{pid}/images/pairs", token=t).status == 404
    body = {"before_id": iid, "after_id": iid + "X"}
    assert api.post(f"/patients/{pid}/images/pairs", body, token=t).status == 404
    # Clinic A's image is untouched.
    img = api.get(f"/images/{iid}", token=clinic.admin_token).json()["data"]
    assert img["notes"] is None


def test_list_filters_and_pages(api, clinic, patient, start_upload):
    ids = {}
    ids["a"] = start_upload(
        "photo", b"x", category="intraoral_frontal", teeth=[11], acquired_at="2024-01-10"
    )["image"]["image_id"]
    ids["b"] = start_upload("photo", b"x", category="extraoral_smile", acquired_at="2024-03-10")[
        "image"
    ]["image_id"]
    ids["c"] = start_upload(
        "xray", b"x", xray_type="periapical", teeth=[11, 12], acquired_at="2024-06-10"
    )["image"]["image_id"]
    base = _images(patient)
    t = clinic.admin_token

    def got(q=""):
        r = api.get(base + q, token=t)
        assert r.status == 200, r.body
        return [i["image_id"] for i in r.json()["data"]["items"]]

    assert got() == [ids["c"], ids["b"], ids["a"]]  # newest acquisition first
    assert got("?kind=photo") == [ids["b"], ids["a"]]
    assert got("?category=extraoral_smile") == [ids["b"]]
    assert got("?tooth=11") == [ids["c"], ids["a"]]
    assert got("?from=2024-02-01&to=2024-06-10") == [ids["c"], ids["b"]]
    assert got("?to=2024-01-31") == [ids["a"]]
    assert got("?status=ready") == []
    assert api.get(base + "?tooth=99", token=t).status == 422
    assert api.get(base + "?from=2024-05-01&to=2024-01-01", token=t).status == 422
    r = api.get(base + "?limit=2", token=t).json()["data"]
    assert len(r["items"]) == 2 and r["next_cursor"]
    r2 = api.get(base + f"?limit=2&cursor={r['next_cursor']}", token=t).json()["data"]
    assert [i["image_id"] for i in r2["items"]] == [ids["a"]]
    assert api.get(base + "?cursor=garbage", token=t).status == 400


def test_patch_metadata_is_audited(api, clinic, patient, start_upload):
    d = start_upload("xray", b"x", xray_type="periapical", teeth=[11])
    url = f"{_images(patient)}/{d['image']['image_id']}"
    t = clinic.admin_token
    r = api.patch(
        url, {"teeth": [21, 22], "notes": "control", "acquired_at": "2024-02-02"}, token=t
    )
    assert r.status == 200, r.body
    img = r.json()["data"]
    assert img["teeth"] == [21, 22] and img["notes"] == "control"
    assert img["acquired_at"] == "2024-02-02"
    assert api.patch(url, {"category": "intraoral_left"}, token=t).status == 422
    assert api.patch(url, {"teeth": [10]}, token=t).status == 422
    r = api.patch(url, {"notes": None}, token=t)
    assert r.json()["data"]["notes"] is None
    entries = audit_actions(api, t, "image", d["image"]["image_id"])
    updated = [e for e in entries if e["action"] == "image.updated"]
    assert updated and updated[-1]["changes"]["teeth"]["after"] == [21, 22]
    assert any(e["changes"].get("notes", {}).get("after") == "***" for e in updated)


def test_soft_delete_hides_the_image_and_is_audited(api, clinic, patient, start_upload):
    d = start_upload("photo", b"x")
    iid = d["image"]["image_id"]
    t = clinic.admin_token
    assert api.delete(f"{_images(patient)}/{iid}", token=t).status == 204
    assert api.get(f"{_images(patient)}/{iid}", token=t).status == 404
    assert api.get(f"/images/{iid}", token=t).status == 404
    assert iid not in [
        i["image_id"] for i in api.get(_images(patient), token=t).json()["data"]["items"]
    ]
    assert api.delete(f"{_images(patient)}/{iid}", token=t).status == 404
    assert "image.deleted" in [a["action"] for a in audit_actions(api, t, "image", iid)]


def test_before_after_pairs(api, clinic, patient, start_upload):
    t = clinic.admin_token
    before = start_upload("photo", b"x", category="extraoral_smile")["image"]["image_id"]
    after = start_upload("photo", b"x", category="extraoral_smile")["image"]["image_id"]
    xray = start_upload("xray", b"x")["image"]["image_id"]
    base = f"{_images(patient)}/pairs"
    r = api.post(base, {"before_id": before, "after_id": after, "title": "Blanqueamiento"}, token=t)
    assert r.status == 201, r.body
    pair = r.json()["data"]
    assert pair["before"]["image_id"] == before and pair["after"]["image_id"] == after
    assert api.post(base, {"before_id": before, "after_id": before}, token=t).status == 422
    assert api.post(base, {"before_id": before, "after_id": xray}, token=t).status == 422
    assert api.post(base, {"before_id": before, "after_id": "nope"}, token=t).status == 422
    listed = api.get(base, token=t).json()["data"]
    assert [p["pair_id"] for p in listed] == [pair["pair_id"]]
    assert api.delete(f"{base}/{pair['pair_id']}", token=t).status == 204
    assert api.get(base, token=t).json()["data"] == []


def test_compare_returns_a_tooths_xrays_oldest_first(api, clinic, patient, start_upload, worker):
    t = clinic.admin_token
    made = []
    for day, teeth in (("2024-06-01", [11]), ("2022-01-15", [11, 21]), ("2023-03-03", [21])):
        data = xray_png16(200, 100)
        d = start_upload("xray", data, acquired_at=day, teeth=teeth, xray_type="periapical")
        upload(d["upload"], data)
        made.append(d["image"]["image_id"])
    worker.drain_all()
    base = f"/patients/{patient['patient_id']}/xrays/compare"
    r = api.get(base + "?tooth=11", token=t)
    assert r.status == 200, r.body
    assert [i["image_id"] for i in r.json()["data"]] == [made[1], made[0]]
    assert all("thumb" in i["urls"] for i in r.json()["data"])
    # moving an X-ray to another tooth and date moves it in the comparison
    api.patch(
        f"{_images(patient)}/{made[2]}", {"teeth": [11], "acquired_at": "2021-01-01"}, token=t
    )
    ids = [i["image_id"] for i in api.get(base + "?tooth=11", token=t).json()["data"]]
    assert ids == [made[2], made[1], made[0]]
    api.delete(f"{_images(patient)}/{made[1]}", token=t)
    ids = [i["image_id"] for i in api.get(base + "?tooth=11", token=t).json()["data"]]
    assert ids == [made[2], made[0]]
    assert api.get(base + "?tooth=19", token=t).status == 422
    assert api.get(base, token=t).status == 422
    # photos never appear in the X-ray comparison
    photo = photo_jpeg(300, 200)
    d = start_upload("photo", photo, teeth=[11])
    upload(d["upload"], photo)
    worker.drain_all()
    assert d["image"]["image_id"] not in [
        i["image_id"] for i in api.get(base + "?tooth=11", token=t).json()["data"]
    ]


def test_imaging_settings(api, clinic, patient):
    t = clinic.admin_token
    r = api.get("/imaging/settings", token=t)
    assert r.json()["data"] == {
        "xray_full_format": "jpeg",
        "max_photo_mb": 25,
        "max_dicom_mb": 100,
        "max_document_mb": 25,
    }
    r = api.put("/imaging/settings", {"xray_full_format": "png", "max_dicom_mb": 150}, token=t)
    assert r.status == 200
    assert r.json()["data"]["xray_full_format"] == "png"
    assert r.json()["data"]["max_dicom_mb"] == 150
    # The new limit applies to upload requests (the form's size condition is the declared size).
    r = api.post(_images(patient), image_body("dicom", b"x", size=120 * MB), token=t)
    assert r.status == 201, r.body
    assert r.json()["data"]["upload"]["max_bytes"] == 120 * MB
    r = api.post(_images(patient), image_body("dicom", b"x", size=151 * MB), token=t)
    assert r.status == 422 and "150 MB limit" in r.json()["errors"][0]["message"]
    assert api.put("/imaging/settings", {"xray_full_format": "gif"}, token=t).status == 422
    dentist = add_member(api, clinic, "dentist")
    r = api.put("/imaging/settings", {"xray_full_format": "png"}, token=dentist["token"])
    assert r.status == 403
    assert api.get("/imaging/settings", token=dentist["token"]).status == 200
    acts = [a["action"] for a in audit_actions(api, t, "imaging_settings", clinic.clinic_id)]
    assert acts == ["imaging.settings.updated"]
