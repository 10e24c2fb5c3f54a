"""A patient's data export (GDPR arts. 15 and 20, ADR 1401): the ZIP holds what the clinic's
modules hold about the patient and nothing of anyone else, the index lists every file and
the files parse; permissions, cross-tenant ids, one running export per patient, a failed
export, a redelivered message, the audit entries."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from typing import Any

import pytest
import requests

from chalicelib.gdpr import collect, worker
from functions.gdpr_export import handler
from infra.local.workers import FakeLambdaContext
from tests.integration.billing.conftest import Billing
from tests.integration.conftest import add_member
from tests.integration.imaging.conftest import upload
from tests.integration.imaging.helpers import audit_actions
from tests.integration.patients.helpers import create_patient, dni
from tests.unit.imaging.imaging_samples import PDF


def _record(detail: dict, message_id: str | None = None) -> dict:
    body = {"source": "cuspide", "detail-type": "gdpr.export_requested", "detail": detail}
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:gdpr-export",
        "awsRegion": "local",
    }


def deliver(detail: dict, message_id: str | None = None) -> dict:
    return handler({"Records": [_record(detail, message_id)]}, FakeLambdaContext("gdpr-export"))


def requested(published: list, export_id: str) -> dict:
    return next(
        d for n, d in published if n == "gdpr.export_requested" and d["export_id"] == export_id
    )


def start(api: Any, token: str, pid: str, status: int = 202) -> dict:
    r = api.post(f"/patients/{pid}/exports", token=token)
    assert r.status == status, r.body
    return r.json()


def get(api: Any, token: str, pid: str, eid: str, status: int = 200) -> dict:
    r = api.get(f"/patients/{pid}/exports/{eid}", token=token)
    assert r.status == status, r.body
    return r.json()["data"] if status == 200 else r.json()


def fill(api: Any, clinic: Any, name: str = "Lucía") -> str:
    """A patient with data in several modules."""
    t = clinic.admin_token
    b = Billing(api, t)
    pid = create_patient(
        api,
        t,
        first_name=name,
        last_name="Pérez",
        national_id={"type": "dni", "number": dni()},
    )["patient_id"]
    ok = {200, 201}
    r = api.put(
        f"/patients/{pid}/medical",
        {"allergies": [{"substance": "Penicilina", "severity": "severe"}]},
        token=t,
    )
    assert r.status in ok, r.body
    r = api.post(
        f"/patients/{pid}/chart/findings",
        {"code": "caries", "tooth": 36, "surfaces": ["O"]},
        token=t,
    )
    assert r.status in ok, r.body
    r = api.post(f"/patients/{pid}/notes", {"kind": "free", "text": f"Nota de {name}"}, token=t)
    assert r.status in ok, r.body
    tid = b.treatment(f"L{uuid.uuid4().hex[:6].upper()}", "50.00")
    b.budget(pid, [{"treatment_id": tid}])
    r = api.put(
        f"/comms/patients/{pid}/consents/email", {"granted": True, "source": "paper_form"}, token=t
    )
    assert r.status in ok, r.body
    body = {
        "type": "consent",
        "title": "Consentimiento implante",
        "filename": "consentimiento firmado.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    r = api.post(f"/patients/{pid}/documents", body, token=t)
    assert r.status == 201, r.body
    d = r.json()["data"]
    upload(d["upload"], PDF)
    did = d["document"]["document_id"]
    r = api.post(f"/patients/{pid}/documents/{did}/complete", token=t)
    assert r.status == 200, r.body
    return pid


def build(api: Any, clinic: Any, pid: str, published: list) -> dict:
    eid = start(api, clinic.admin_token, pid)["data"]["export_id"]
    assert deliver(requested(published, eid)) == {"batchItemFailures": []}
    return get(api, clinic.admin_token, pid, eid)


def open_zip(url: str) -> zipfile.ZipFile:
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(r.content))


def test_the_zip_holds_the_patients_data_indexed_and_nothing_of_others(
    api, clinic, other_clinic, published
):
    pid = fill(api, clinic, "Lucía")
    other = fill(api, clinic, "Zacarías")  # same clinic, another patient
    fill(api, other_clinic, "Otilia")  # another clinic
    rules = api.get("/recalls/rules", token=clinic.admin_token).json()["data"]
    rule = next(r["rule_id"] for r in rules if "REV" in r["codes"])
    r = api.put(f"/patients/{pid}/recalls/{rule}", {"due": "2030-01-15"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    e = build(api, clinic, pid, published)
    assert e["status"] == "ready", e
    assert e["sections"]["recalls"] == 1
    assert e["download_url"] and e["size"] > 0
    assert e["sections"]["documents"] == 1 and e["sections"]["budgets"] == 1
    zf = open_zip(e["download_url"])
    names = set(zf.namelist())
    index = json.loads(zf.read("index.json"))
    listed = {f["path"] for f in index["files"]}
    # the index lists every file (but itself and index.html), each with what it is
    assert listed | {"index.json", "index.html"} == names
    assert all(f["what"] for f in index["files"])
    html = zf.read("index.html").decode()
    assert '<html lang="es">' in html
    for path in listed:
        assert f'href="{path}"' in html
    for expected in (
        "patient.json",
        "medical-history.json",
        "appointments/appointments.json",
        "appointments/appointments.csv",
        "clinical/chart-findings.json",
        "clinical/clinical-notes.json",
        "clinical/periodontal-exams.json",
        "clinical/orthodontic-cases.json",
        "clinical/lab-cases.json",
        "billing/budgets.json",
        "billing/invoices.json",
        "billing/payments.json",
        "communications/messages.json",
        "communications/consents.json",
        "documents/documents.json",
        "images/images.json",
        "timeline.json",
        "recalls.json",
    ):
        assert expected in names, expected
    # every file parses
    for name in names:
        raw = zf.read(name)
        if name.endswith(".json"):
            json.loads(raw)
        elif name.endswith(".csv"):
            list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        elif name.endswith(".pdf"):
            assert raw.startswith(b"%PDF-"), name
    patient = json.loads(zf.read("patient.json"))
    assert patient["patient_id"] == pid and patient["first_name"] == "Lucía"
    medical = json.loads(zf.read("medical-history.json"))
    assert medical["history"]["allergies"][0]["substance"] == "Penicilina"
    recalls = json.loads(zf.read("recalls.json"))
    assert [(x["rule_id"], x["due"]) for x in recalls["recalls"]] == [(rule, "2030-01-15")]
    notes = json.loads(zf.read("clinical/clinical-notes.json"))
    assert [n["patient_id"] for n in notes] == [pid]
    (doc,) = json.loads(zf.read("documents/documents.json"))
    assert zf.read(doc["file"]) == PDF and "download" not in doc
    assert any(n.startswith("billing/budgets/") and n.endswith(".pdf") for n in names)
    # nothing of the other patient or the other clinic
    blob = b"".join(zf.read(n) for n in names if not n.endswith(".pdf"))
    for stranger in (other.encode(), b"Zacar", b"Otilia", other_clinic.clinic_id.encode()):
        assert stranger not in blob


def test_permissions_and_cross_tenant(api, clinic, other_clinic, published):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    for role in ("dentist", "receptionist"):
        who = add_member(api, clinic, role, f"{role} uno")
        assert api.post(f"/patients/{pid}/exports", token=who["token"]).status == 403
        assert api.get(f"/patients/{pid}/exports", token=who["token"]).status == 403
    eid = start(api, clinic.admin_token, pid)["data"]["export_id"]
    # another clinic's admin: the patient id and the export id are not found
    t = other_clinic.admin_token
    assert api.post(f"/patients/{pid}/exports", token=t).status == 404
    assert api.get(f"/patients/{pid}/exports", token=t).status == 404
    assert api.get(f"/patients/{pid}/exports/{eid}", token=t).status == 404
    theirs = create_patient(api, t)["patient_id"]
    assert api.get(f"/patients/{theirs}/exports/{eid}", token=t).status == 404
    # nor is the export under another patient of the same clinic
    mine2 = create_patient(api, clinic.admin_token)["patient_id"]
    get(api, clinic.admin_token, mine2, eid, status=404)


def test_one_running_export_per_patient_and_the_list(api, clinic, published):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    first = start(api, clinic.admin_token, pid)["data"]
    assert first["status"] == "pending" and first["download_url"] is None
    again = start(api, clinic.admin_token, pid, status=409)
    assert again["errors"] is not None or again["message"]
    assert "already being prepared" in again["message"]
    # another patient is not blocked
    pid2 = create_patient(api, clinic.admin_token)["patient_id"]
    start(api, clinic.admin_token, pid2)
    assert deliver(requested(published, first["export_id"])) == {"batchItemFailures": []}
    second = start(api, clinic.admin_token, pid)["data"]  # the first is done: a new one may start
    r = api.get(f"/patients/{pid}/exports", token=clinic.admin_token)
    items = r.json()["data"]["items"]
    assert [i["export_id"] for i in items] == [second["export_id"], first["export_id"]]
    assert [i["status"] for i in items] == ["pending", "ready"]
    assert all(i["download_url"] is None for i in items)  # links only from GET of one


def test_a_redelivered_message_builds_nothing_twice(api, clinic, published, monkeypatch):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    eid = start(api, clinic.admin_token, pid)["data"]["export_id"]
    detail = requested(published, eid)
    built: list[str] = []
    real = collect.patient_section
    monkeypatch.setattr(collect, "patient_section", lambda c: built.append("x") or real(c))
    assert deliver(detail, "m1") == {"batchItemFailures": []}
    assert deliver(detail, "m1") == {"batchItemFailures": []}  # same message again
    assert deliver(detail, "m2") == {"batchItemFailures": []}  # the event published twice
    assert built == ["x"]
    ready = [d for n, d in published if n == "gdpr.export_ready" and d["export_id"] == eid]
    assert len(ready) == 1 and set(ready[0]) >= {"export_id", "patient_id", "status"}
    assert "first_name" not in ready[0]


def test_a_failing_export_is_marked_failed_with_a_reason(api, clinic, published, monkeypatch):
    pid = fill(api, clinic)
    monkeypatch.setattr(worker, "max_bytes", lambda: 1000)
    eid = start(api, clinic.admin_token, pid)["data"]["export_id"]
    assert deliver(requested(published, eid)) == {"batchItemFailures": []}
    e = get(api, clinic.admin_token, pid, eid)
    assert e["status"] == "failed" and e["reason_code"] == "too_large"
    assert "Images and Documents tabs" in e["reason"] and "Imágenes" in e["reason_es"]
    assert e["download_url"] is None
    assert any(n == "gdpr.export_failed" and d["export_id"] == eid for n, d in published)
    # an unexpected error: failed too, and the patient may ask again
    monkeypatch.setattr(worker, "max_bytes", lambda: 10**9)

    def boom(c: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(collect, "SECTIONS", (boom,))
    eid2 = start(api, clinic.admin_token, pid)["data"]["export_id"]
    assert deliver(requested(published, eid2)) == {"batchItemFailures": []}
    e2 = get(api, clinic.admin_token, pid, eid2)
    assert e2["status"] == "failed" and e2["reason_code"] == "error"
    assert "contact support" in e2["reason"]
    start(api, clinic.admin_token, pid)


@pytest.mark.parametrize("lang", ["en"])
def test_index_in_the_clinics_language_and_the_audit_trail(api, clinic, published, lang):
    from chalicelib.identity.models import Clinic

    c = Clinic.get(f"C#{clinic.clinic_id}", "CLINIC")
    c.update(actions=[Clinic.language.set(lang)])
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    e = build(api, clinic, pid, published)
    zf = open_zip(e["download_url"])
    assert f'<html lang="{lang}">' in zf.read("index.html").decode()
    assert "Demographics" in zf.read("index.html").decode()
    acts = [a["action"] for a in audit_actions(api, clinic.admin_token, "patient", pid)]
    assert "gdpr.export.requested" in acts
    assert "gdpr.export.ready" in acts
    assert "gdpr.export.downloaded" in acts
