"""Every imaging route: 401 without a token, 403 naming the permission for a role without it,
422 on an unknown field, and another clinic's admin gets 404 (or its own data) on every route
while clinic A's images, pairs, documents and settings stay untouched."""

from __future__ import annotations

import re

from chalicelib.core.api import PUBLIC
from chalicelib.imaging.routes import router
from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import image_body, upload
from tests.integration.imaging.helpers import audit_actions
from tests.unit.imaging.imaging_samples import PDF

FAKE = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _fake(path: str) -> str:
    return re.sub(r"\{[^}]+\}", FAKE, path)


def test_every_imaging_route_401_403_422(api, clinic):
    member = add_member(api, clinic, "assistant")
    r = api.put("/roles/assistant", {"grants": []}, token=clinic.admin_token)
    assert r.status == 200
    specs = [s for s in router.specs if s.permission != PUBLIC]
    assert len(specs) == len(router.specs) == 20
    for s in specs:
        path = _fake(s.path)
        body = {} if s.body else None
        r = api.request(s.method, path, body)
        assert r.status == 401, (s.method, s.path, r.status)
        r = api.request(s.method, path, body, token=member["token"])
        assert r.status == 403, (s.method, s.path, r.status)
        assert r.json()["data"]["permission"] == s.permission
        if s.body is not None:
            r = api.request(s.method, path, {"unexpected": 1}, token=clinic.admin_token)
            assert r.status == 422, (s.method, s.path, r.status)


def test_every_imaging_route_is_isolated_between_clinics(
    api, clinic, other_clinic, patient, start_upload, worker
):
    a, b = clinic.admin_token, other_clinic.admin_token
    pid = patient["patient_id"]
    before = start_upload("photo", b"x" * 10, notes="antes")["image"]["image_id"]
    after = start_upload("photo", b"x" * 10)["image"]["image_id"]
    xray = start_upload("xray", b"x" * 10, teeth=[11])["image"]["image_id"]
    r = api.post(f"/patients/{pid}/images/pairs", {"before_id": before, "after_id": after}, token=a)
    assert r.status == 201, r.body
    pair = r.json()["data"]["pair_id"]
    r = api.post(
        f"/patients/{pid}/documents",
        {
            "type": "referral",
            "title": "Derivación a cirugía",
            "filename": "derivacion.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        },
        token=a,
    )
    assert r.status == 201, r.body
    doc = r.json()["data"]
    upload(doc["upload"], PDF)
    did = doc["document"]["document_id"]
    assert api.post(f"/patients/{pid}/documents/{did}/complete", token=a).status == 200
    settings_a = api.get("/imaging/settings", token=a).json()["data"]

    doc_body = {
        "type": "other",
        "title": "x",
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size": 10,
    }
    calls = {
        ("POST", "/patients/{patient_id}/images"): (
            "POST",
            f"/patients/{pid}/images",
            image_body(),
        ),
        ("POST", "/patients/{patient_id}/xrays"): (
            "POST",
            f"/patients/{pid}/xrays",
            image_body("xray"),
        ),
        ("GET", "/patients/{patient_id}/images"): ("GET", f"/patients/{pid}/images", None),
        ("GET", "/patients/{patient_id}/images/pairs"): (
            "GET",
            f"/patients/{pid}/images/pairs",
            None,
        ),
        ("POST", "/patients/{patient_id}/images/pairs"): (
            "POST",
            f"/patients/{pid}/images/pairs",
            {"before_id": before, "after_id": after},
        ),
        ("DELETE", "/patients/{patient_id}/images/pairs/{pair_id}"): (
            "DELETE",
            f"/patients/{pid}/images/pairs/{pair}",
            None,
        ),
        ("GET", "/patients/{patient_id}/images/{image_id}"): (
            "GET",
            f"/patients/{pid}/images/{before}",
            None,
        ),
        ("GET", "/images/{image_id}"): ("GET", f"/images/{before}", None),
        ("GET", "/patients/{patient_id}/studies"): ("GET", f"/patients/{pid}/studies", None),
        ("PATCH", "/patients/{patient_id}/images/{image_id}"): (
            "PATCH",
            f"/patients/{pid}/images/{before}",
            {"notes": "cambiado por otra clínica"},
        ),
        ("DELETE", "/patients/{patient_id}/images/{image_id}"): (
            "DELETE",
            f"/patients/{pid}/images/{xray}",
            None,
        ),
        ("GET", "/patients/{patient_id}/xrays/compare"): (
            "GET",
            f"/patients/{pid}/xrays/compare?tooth=11",
            None,
        ),
        ("POST", "/patients/{patient_id}/documents"): (
            "POST",
            f"/patients/{pid}/documents",
            doc_body,
        ),
        ("POST", "/patients/{patient_id}/documents/{document_id}/complete"): (
            "POST",
            f"/patients/{pid}/documents/{did}/complete",
            None,
        ),
        ("GET", "/patients/{patient_id}/documents"): ("GET", f"/patients/{pid}/documents", None),
        ("GET", "/patients/{patient_id}/documents/{document_id}"): (
            "GET",
            f"/patients/{pid}/documents/{did}",
            None,
        ),
        ("PATCH", "/patients/{patient_id}/documents/{document_id}"): (
            "PATCH",
            f"/patients/{pid}/documents/{did}",
            {"title": "cambiado"},
        ),
        ("DELETE", "/patients/{patient_id}/documents/{document_id}"): (
            "DELETE",
            f"/patients/{pid}/documents/{did}",
            None,
        ),
    }
    # The settings routes take no ids: clinic B reads and writes its own settings only.
    own = {("GET", "/imaging/settings"), ("PUT", "/imaging/settings")}
    assert set(calls) | own == {(s.method, s.path) for s in router.specs}, "a route is untested"
    for (method, path), (m, url, body) in calls.items():
        r = api.request(m, url, body, token=b)
        assert r.status == 404, (method, path, r.status, r.body[:200])
    r = api.put("/imaging/settings", {"xray_full_format": "png", "max_photo_mb": 5}, token=b)
    assert r.status == 200 and r.json()["data"]["max_photo_mb"] == 5
    assert api.get("/imaging/settings", token=b).json()["data"]["xray_full_format"] == "png"

    # Clinic A sees everything as it was.
    assert api.get("/imaging/settings", token=a).json()["data"] == settings_a
    items = api.get(f"/patients/{pid}/images", token=a).json()["data"]["items"]
    assert {i["image_id"] for i in items} == {before, after, xray}
    assert api.get(f"/images/{before}", token=a).json()["data"]["notes"] == "antes"
    pairs = api.get(f"/patients/{pid}/images/pairs", token=a).json()["data"]
    assert [p["pair_id"] for p in pairs] == [pair]
    d = api.get(f"/patients/{pid}/documents/{did}", token=a).json()["data"]
    assert d["title"] == "Derivación a cirugía" and d["status"] == "available"
    docs = api.get(f"/patients/{pid}/documents", token=a).json()["data"]["items"]
    assert [x["document_id"] for x in docs] == [did]
    # No audit entry in A was written on B's behalf.
    for entity, eid in (("image", before), ("image", xray), ("document", did)):
        actors = {e["actor_id"] for e in audit_actions(api, a, entity, eid)}
        assert actors == {clinic.admin_id}, (entity, actors)
    worker.purge()  # nothing was uploaded for these images; leave the queue empty
