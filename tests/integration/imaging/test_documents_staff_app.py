"""What the staff app's Documents tab needs from the documents API: a prescription type, and
who uploaded each document by name (a receptionist cannot read the staff list)."""

from __future__ import annotations

from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import upload
from tests.unit.imaging.imaging_samples import PDF


def _docs(patient):
    return f"/patients/{patient['patient_id']}/documents"


def _body(**over):
    body = {
        "type": "prescription",
        "title": "Receta amoxicilina",
        "filename": "receta.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    body.update(over)
    return body


def test_a_prescription_is_a_document_type(api, clinic, patient):
    t = clinic.admin_token
    r = api.post(_docs(patient), _body(), token=t)
    assert r.status == 201, r.body
    doc = r.json()["data"]["document"]
    assert doc["type"] == "prescription"
    upload(r.json()["data"]["upload"], PDF)
    api.post(f"{_docs(patient)}/{doc['document_id']}/complete", token=t)
    listed = api.get(_docs(patient) + "?type=prescription", token=t).json()["data"]["items"]
    assert [i["document_id"] for i in listed] == [doc["document_id"]]
    # and a report can be filed as one afterwards
    r = api.post(_docs(patient), _body(type="report"), token=t)
    url = f"{_docs(patient)}/{r.json()['data']['document']['document_id']}"
    r = api.patch(url, {"type": "prescription"}, token=t)
    assert r.status == 200 and r.json()["data"]["type"] == "prescription"


def test_the_uploader_is_named(api, clinic, patient):
    reception = add_member(api, clinic, "receptionist", name="Rosa Recepción")
    r = api.post(_docs(patient), _body(type="consent"), token=reception["token"])
    assert r.status == 201, r.body
    assert r.json()["data"]["document"]["created_by_name"] == "Rosa Recepción"
    did = r.json()["data"]["document"]["document_id"]
    # the admin, and the receptionist herself, see the name in the list and in the document
    for token in (clinic.admin_token, reception["token"]):
        items = api.get(_docs(patient), token=token).json()["data"]["items"]
        (mine,) = [i for i in items if i["document_id"] == did]
        assert mine["created_by_name"] == "Rosa Recepción"
    got = api.get(f"{_docs(patient)}/{did}", token=clinic.admin_token).json()["data"]
    assert got["created_by_name"] == "Rosa Recepción"


def test_another_clinic_sees_neither(api, clinic, other_clinic, patient):
    r = api.post(_docs(patient), _body(), token=clinic.admin_token)
    did = r.json()["data"]["document"]["document_id"]
    t = other_clinic.admin_token
    assert api.get(_docs(patient) + "?type=prescription", token=t).status == 404
    assert api.post(_docs(patient), _body(), token=t).status == 404
    assert api.patch(f"{_docs(patient)}/{did}", {"type": "other"}, token=t).status == 404
    mine = api.get(f"{_docs(patient)}/{did}", token=clinic.admin_token).json()["data"]
    assert mine["type"] == "prescription"
