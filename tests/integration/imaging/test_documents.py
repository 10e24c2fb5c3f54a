"""Patient documents: presigned upload, the complete step that checks the bytes, downloads
with the right type and name, edits, soft delete in the audit log, the event, isolation."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import upload
from tests.integration.imaging.helpers import audit_actions, bus_events, fetch
from tests.unit.imaging.imaging_samples import PDF, photo_jpeg


def _docs(patient):
    return f"/patients/{patient['patient_id']}/documents"


def doc_body(data: bytes, **over):
    body = {
        "type": "consent",
        "title": "Consentimiento implante",
        "filename": "consentimiento firmado.pdf",
        "content_type": "application/pdf",
        "size": len(data),
    }
    body.update(over)
    return body


@pytest.fixture
def new_doc(api, clinic, patient):
    def make(data: bytes = PDF, token: str | None = None, **over):
        r = api.post(_docs(patient), doc_body(data, **over), token=token or clinic.admin_token)
        assert r.status == 201, r.body
        return r.json()["data"]

    return make


def test_pdf_upload_complete_and_download(api, clinic, patient, new_doc):
    d = new_doc()
    doc = d["document"]
    assert doc["status"] == "pending" and doc["download"] is None
    assert d["upload"]["fields"]["key"] == (
        f"clinics/{clinic.clinic_id}/documents/{doc['document_id']}/file"
    )
    url = f"{_docs(patient)}/{doc['document_id']}"
    r = api.post(url + "/complete", token=clinic.admin_token)
    assert r.status == 409 and r.json()["code"] == "UPLOAD_MISSING"
    upload(d["upload"], PDF)
    r = api.post(url + "/complete", token=clinic.admin_token)
    assert r.status == 200, r.body
    doc = r.json()["data"]
    assert doc["status"] == "available" and doc["content_type"] == "application/pdf"
    assert doc["size"] == len(PDF)
    got = fetch(doc["download"]["url"])
    assert got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "consentimiento firmado.pdf" in got.headers["Content-Disposition"]
    assert fetch(doc["view"]["url"]).headers["Content-Disposition"].startswith("inline;")
    # completing again is harmless
    assert api.post(url + "/complete", token=clinic.admin_token).status == 200
    events = [e for e in bus_events("document.uploaded") if e["document_id"] == doc["document_id"]]
    assert len(events) == 1 and events[0]["patient_id"] == patient["patient_id"]
    assert events[0]["type"] == "consent" and events[0]["content_type"] == "application/pdf"
    assert "title" not in events[0]  # free text a person typed: may hold PHI


def test_bytes_decide_the_type(api, clinic, patient, new_doc):
    jpeg = photo_jpeg(300, 200)
    d = new_doc(jpeg, type="id_scan", filename="dni", content_type="image/png")
    upload(d["upload"], jpeg)
    url = f"{_docs(patient)}/{d['document']['document_id']}"
    doc = api.post(url + "/complete", token=clinic.admin_token).json()["data"]
    assert doc["content_type"] == "image/jpeg"
    got = fetch(doc["download"]["url"])
    assert got.headers["Content-Type"] == "image/jpeg"
    assert 'filename="dni.jpg"' in got.headers["Content-Disposition"]


def test_not_a_pdf_or_image_is_refused(api, clinic, patient, new_doc):
    junk = b"MZ\x90\x00 this is an executable"
    d = new_doc(junk)
    upload(d["upload"], junk)
    url = f"{_docs(patient)}/{d['document']['document_id']}"
    r = api.post(url + "/complete", token=clinic.admin_token)
    assert r.status == 422 and "PDF, JPEG or PNG" in r.json()["message"]
    assert api.get(url, token=clinic.admin_token).json()["data"]["status"] == "pending"


@pytest.mark.parametrize(
    "over",
    [
        {"type": "selfie"},
        {"content_type": "application/zip"},
        {"title": ""},
        {"size": 26 * 1024 * 1024},
        {"size": 0},
    ],
)
def test_bad_document_requests_are_422(api, clinic, patient, over):
    r = api.post(_docs(patient), doc_body(PDF, **over), token=clinic.admin_token)
    assert r.status == 422, r.body


def test_list_edit_and_soft_delete(api, clinic, patient, new_doc):
    t = clinic.admin_token
    ids = []
    for kind in ("consent", "insurance"):
        d = new_doc(type=kind)
        upload(d["upload"], PDF)
        api.post(f"{_docs(patient)}/{d['document']['document_id']}/complete", token=t)
        ids.append(d["document"]["document_id"])
    items = api.get(_docs(patient), token=t).json()["data"]["items"]
    assert [i["document_id"] for i in items] == ids[::-1]
    assert all(i["download"] for i in items)
    insurance = api.get(_docs(patient) + "?type=insurance", token=t).json()["data"]["items"]
    assert [i["document_id"] for i in insurance] == [ids[1]]
    url = f"{_docs(patient)}/{ids[0]}"
    r = api.patch(url, {"title": "Consentimiento ortodoncia", "description": "firmado"}, token=t)
    assert r.status == 200 and r.json()["data"]["title"] == "Consentimiento ortodoncia"
    assert api.patch(url, {"title": None}, token=t).status == 422
    assert api.delete(url, token=t).status == 204
    assert api.get(url, token=t).status == 404
    assert [i["document_id"] for i in api.get(_docs(patient), token=t).json()["data"]["items"]] == [
        ids[1]
    ]
    acts = [a["action"] for a in audit_actions(api, t, "document", ids[0])]
    assert {
        "document.upload_requested",
        "document.uploaded",
        "document.updated",
        "document.deleted",
    } <= set(acts)


def test_document_permissions_and_isolation(api, clinic, other_clinic, patient, new_doc):
    reception = add_member(api, clinic, "receptionist")  # documents yes, images no
    d = new_doc(token=reception["token"])
    did = d["document"]["document_id"]
    assert api.get(_docs(patient), token=reception["token"]).status == 200
    r = api.put("/roles/assistant", {"grants": ["patients.read"]}, token=clinic.admin_token)
    assistant = add_member(api, clinic, "assistant")
    assert api.get(_docs(patient), token=assistant["token"]).status == 403
    assert api.post(_docs(patient), doc_body(PDF), token=assistant["token"]).status == 403
    t = other_clinic.admin_token
    url = f"{_docs(patient)}/{did}"
    assert api.get(_docs(patient), token=t).status == 404
    assert api.post(_docs(patient), doc_body(PDF), token=t).status == 404
    assert api.get(url, token=t).status == 404
    assert api.post(url + "/complete", token=t).status == 404
    assert api.patch(url, {"title": "x"}, token=t).status == 404
    assert api.delete(url, token=t).status == 404
    assert api.get(url, token=clinic.admin_token).status == 200
    assert r.status == 200
