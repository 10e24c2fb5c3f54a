"""A patient's GDPR erasure (art. 17, ADR 1405): the preview says what goes and what stays
(why, until when); the request blocks the patient at once (out of lists and search, no
bookings); the worker erases what has no duty to keep (S3 exports, search indexes, messages,
contact) and keeps the clinical record and invoices blocked; nothing PHI in the logs;
duplicate requests, redelivered messages and an interrupted run; permissions and tenants."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from chalicelib.core.db import clinic_pk
from chalicelib.gdpr import erasers, erasure, retention
from chalicelib.gdpr.models import Erasure, Export
from chalicelib.notes.models import NoteWord
from chalicelib.patients.models import PatientIndex
from tests.integration.conftest import add_member
from tests.integration.gdpr.erasure_helpers import deliver, fill, objects, ok, requested
from tests.integration.gdpr.test_exports import build
from tests.integration.patients.helpers import create_patient

NAME = {"first_name": "Ramona", "last_name": "Quintanilla", "second_last_name": "Oyarzábal"}
FULL = "Ramona Quintanilla Oyarzábal"


def new_patient(api, clinic, **over) -> dict:
    return create_patient(
        api,
        clinic.admin_token,
        **NAME,
        phone="+34611222333",
        email="ramona.q@example.com",
        **over,
    )


def preview(api, token, pid, status=200) -> dict:
    r = api.get(f"/patients/{pid}/erasure", token=token)
    assert r.status == status, r.body
    return r.json()["data"] if status == 200 else r.json()


def request(api, token, pid, status=202, **over) -> dict:
    body = {"reason_code": "patient_request", "confirm_name": FULL, **over}
    r = api.post(f"/patients/{pid}/erasure", body, token=token)
    assert r.status == status, r.body
    return r.json()


def rows(view: dict) -> dict[str, dict]:
    got = view["preview"] or view["erasure"]["report"]
    return {r["kind"]: r for r in got}


def test_the_preview_says_what_is_erased_and_kept_why_and_until_when(api, clinic, billing):
    p = new_patient(api, clinic)
    pid = p["patient_id"]
    fill(api, clinic, billing, pid)
    v = preview(api, clinic.admin_token, pid)
    assert v["erasure"] is None
    k = rows(v)
    today = retention.local_today(clinic.clinic_id)
    five = retention.add_years(today, 5).isoformat()
    # No duty to keep: erased now.
    for kind in ("contact", "messages", "channel_consents", "future_appointments"):
        assert k[kind]["action"] == "erase" and k[kind]["until"] is None, kind
        assert "art. 17" in k[kind]["basis"]
    assert k["search_index"]["count"] >= 3  # name tokens, phone, email, name+dob
    # Clinical record: kept 5 years from today's episode, Ley 41/2002.
    for kind in ("chart", "notes", "documents", "medical_history", "identity"):
        assert k[kind]["action"] == "keep" and k[kind]["until"] == five, kind
        assert "Ley 41/2002" in k[kind]["basis"] and "art. 32" in k[kind]["basis_es"]
    # Invoices: 6 years from the end of the invoice's year, Código de Comercio art. 30.
    assert k["invoices"]["action"] == "keep"
    assert k["invoices"]["until"] == f"{today.year + 6}-12-31"
    assert "Código de Comercio" in k["invoices"]["basis"]
    assert k["budgets"]["category"] == "billing"
    # Nothing changed: still listed and searchable.
    r = api.get("/patients?q=Quintanilla", token=clinic.admin_token)
    assert pid in [x["patient_id"] for x in r.json()["data"]["items"]]


def test_a_longer_clinical_period_is_applied(api, clinic):
    pid = new_patient(api, clinic)["patient_id"]
    ok(
        api.put(
            f"/patients/{pid}/medical",
            {"allergies": [{"substance": "Látex"}]},
            token=clinic.admin_token,
        )
    )
    ok(api.put("/settings/retention", {"clinical": 15}, token=clinic.admin_token))
    k = rows(preview(api, clinic.admin_token, pid))
    today = retention.local_today(clinic.clinic_id)
    assert k["medical_history"]["until"] == retention.add_years(today, 15).isoformat()
    assert "15 years" in k["medical_history"]["basis"]


def test_a_patient_with_nothing_to_keep_is_erased_entirely(api, clinic, published):
    pid = new_patient(api, clinic)["patient_id"]
    k = rows(preview(api, clinic.admin_token, pid))
    assert k["identity"]["action"] == "erase"
    request(api, clinic.admin_token, pid)
    assert deliver(requested(published, pid)) == {"batchItemFailures": []}
    v = preview(api, clinic.admin_token, pid)  # the erasure's report outlives the patient
    assert v["erasure"]["status"] == "purged" and v["erasure"]["until"] == {}
    assert rows(v)["identity"]["action"] == "erased"
    assert api.get(f"/patients/{pid}", token=clinic.admin_token).status == 404


def test_erasure_end_to_end(api, clinic, billing, published, uploaded, patient, capfd, caplog):
    caplog.set_level(logging.INFO)  # the functions log at INFO (botocore DEBUG prints bodies)
    cid, t = clinic.clinic_id, clinic.admin_token
    pid = patient["patient_id"]  # Lucía Pérez Gómez, with an identity document
    img = uploaded("photo", _jpeg())
    made = fill(api, clinic, billing, pid)
    deliver_export_zip = build(api, clinic, pid, published)
    assert deliver_export_zip["status"] == "ready"
    eid = deliver_export_zip["export_id"]
    assert objects(f"clinics/{cid}/gdpr-exports/{eid}/")
    words = [w for w in NoteWord.query(clinic_pk(cid), NoteWord.SK.startswith("NWORD#"))]
    assert any(w.patient_id == pid for w in words)
    full = "Lucía Pérez Gómez"
    before = api.get(f"/patients/{pid}", token=t).json()["data"]
    phi = [before["email"], before["phone"], "Lucía", "Pérez", "Gómez", "12345678Z"]

    v = request(api, t, pid, confirm_name="  lucia  perez GOMEZ ")["data"]
    assert v["erasure"]["status"] == "pending"
    # Blocked at once: out of the list and every search, even before the worker runs.
    for q in (
        "q=P%C3%A9rez",
        f"phone={before['phone'].replace('+', '%2B')}",
        f"email={before['email']}",
        "",
    ):
        r = api.get(f"/patients?{q}", token=t)
        assert r.status == 200, r.body
        assert pid not in [x["patient_id"] for x in r.json()["data"]["items"]], q
    assert not [
        i
        for i in PatientIndex.query(clinic_pk(cid), PatientIndex.SK.startswith("PIDX#"))
        if i.patient_id == pid
    ]
    # No new bookings: a clear 409.
    cab = ok(api.get("/agenda/cabinets", token=t))[0]["cabinet_id"]
    from tests.integration.agenda.conftest import at, future_day

    r = api.post(
        "/appointments",
        {
            "patient_id": pid,
            "professional_id": clinic.admin_id,
            "cabinet_id": cab,
            "start": at(future_day(2), "11:00"),
            "duration_min": 30,
            "reason": "Revisión",
        },
        token=t,
    )
    assert r.status == 409 and r.json()["code"] == "PATIENT_BLOCKED", r.body
    assert (
        "supresión"
        in api.post(
            "/appointments",
            {
                "patient_id": pid,
                "professional_id": clinic.admin_id,
                "cabinet_id": cab,
                "start": at(future_day(2), "11:00"),
                "duration_min": 30,
                "reason": "Revisión",
            },
            token=t,
            headers={"Accept-Language": "es"},
        ).json()["message"]
    )
    r = api.patch(f"/patients/{pid}", {"phone": "+34600000000"}, token=t)
    assert r.status == 409, r.body

    assert deliver(requested(published, pid)) == {"batchItemFailures": []}
    e = preview(api, t, pid)["erasure"]
    assert e["status"] == "done"
    k = rows({"erasure": e, "preview": None})
    assert k["contact"]["action"] == "erased"
    assert k["messages"]["action"] == "erased" and k["messages"]["count"] == 1
    assert k["exports"]["action"] == "erased" and k["exports"]["count"] == 1
    assert k["future_appointments"]["count"] == 1
    assert k["notes_search_index"]["action"] == "erased"
    assert k["images"]["action"] == "kept" and k["images"]["count"] == 1
    assert k["invoices"]["action"] == "kept" and k["documents"]["action"] == "kept"
    assert set(e["until"]) == {"clinical", "billing"}

    # Erased: the export ZIP (every version), the notes index, messages, contact, consents.
    assert objects(f"clinics/{cid}/gdpr-exports/{eid}/") == []
    assert not list(Export.query(clinic_pk(cid), Export.SK.startswith(Export.prefix(pid))))
    assert not [
        w
        for w in NoteWord.query(clinic_pk(cid), NoteWord.SK.startswith("NWORD#"))
        if w.patient_id == pid
    ]
    assert erasers._messages(cid, pid) == [] and erasers._pat(cid, pid, "CONSENT") == []
    assert erasers._pat(cid, pid, "TL") == []
    got = api.get(f"/patients/{pid}", token=t).json()["data"]
    assert got["blocked"] is True and got["email"] is None and got["phone"] is None
    appt = api.get(f"/appointments/{made['future']}", token=t).json()["data"]
    assert appt["status"] == "cancelled"
    assert appt["patient_name"] == "Paciente bloqueado (RGPD)"  # the agenda never shows the name
    # Kept, blocked: the image and its renditions, the document, the invoice with its name.
    assert len(objects(f"clinics/{cid}/uploads/{img['image_id']}/")) >= 2
    assert objects(f"clinics/{cid}/documents/{made['document_id']}/")
    inv = api.get(f"/billing/invoices/{made['invoice_id']}", token=t).json()["data"]
    assert inv["status"] != "draft"

    # Audit: the two entries carry ids only.
    r = api.get(f"/audit?entity_type=patient&entity_id={pid}", token=t)
    entries = [x for x in r.json()["data"]["items"] if x["action"].startswith("gdpr.erasure")]
    assert {x["action"] for x in entries} == {"gdpr.erasure_requested", "gdpr.erasure_completed"}
    text = str(entries)
    assert not [w for w in phi if w and w in text]
    # Logs: the erasure logged its ids, and no name, email, phone or identity document.
    out = capfd.readouterr()
    logs = out.out + out.err + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert v["erasure"]["erasure_id"] in logs
    tail = logs.split("gdpr erasure requested", 1)[-1]
    leaked = [line for line in tail.splitlines() if any(w and w in line for w in phi)]
    assert not leaked, leaked[:3]
    assert full not in logs


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_duplicate_request_and_redelivered_message(api, clinic, published):
    pid = new_patient(api, clinic)["patient_id"]
    ok(
        api.put(
            f"/patients/{pid}/medical",
            {"allergies": [{"substance": "Látex"}]},
            token=clinic.admin_token,
        )
    )
    request(api, clinic.admin_token, pid)
    r = request(api, clinic.admin_token, pid, status=409)
    assert r["code"] == "GDPR_ERASURE_EXISTS"
    d = requested(published, pid)
    assert deliver(d, "m-1") == {"batchItemFailures": []}
    first = preview(api, clinic.admin_token, pid)["erasure"]
    assert erasure.run(clinic.clinic_id, pid, "m-2") == "already_done"
    assert deliver(d, "m-1") == {"batchItemFailures": []}
    assert preview(api, clinic.admin_token, pid)["erasure"] == first
    completed = [
        n for n, x in published if n == "gdpr.erasure_completed" and x["patient_id"] == pid
    ]
    assert len(completed) == 1


def test_an_interrupted_run_resumes_where_it_stopped(api, clinic, published, monkeypatch):
    cid = clinic.clinic_id
    pid = new_patient(api, clinic)["patient_id"]
    ok(
        api.put(
            f"/comms/patients/{pid}/consents/email",
            {"granted": True, "source": "paper_form"},
            token=clinic.admin_token,
        )
    )
    request(api, clinic.admin_token, pid)
    calls: list[str] = []
    idx = next(i for i, e in enumerate(erasers.ERASERS) if e.kind == "timeline")
    real = erasers.ERASERS[idx]
    contact_idx = next(i for i, e in enumerate(erasers.ERASERS) if e.kind == "contact")
    real_contact = erasers.ERASERS[contact_idx]

    def contact_spy(c, p):
        calls.append("contact")
        return real_contact.erase(c, p)

    def boom(c, p):
        raise RuntimeError("the function timed out")

    patched = list(erasers.ERASERS)
    patched[contact_idx] = erasers.Eraser(
        "contact", "none", real_contact.label, real_contact.count, contact_spy
    )
    patched[idx] = erasers.Eraser("timeline", "none", real.label, real.count, boom)
    monkeypatch.setattr(erasure, "ERASERS", patched)
    with pytest.raises(RuntimeError):
        erasure.run(cid, pid, "m-1")
    e = erasure.load(cid, pid, consistent=True)
    assert e.status == "running" and "contact" in e.steps_done and "timeline" not in e.steps_done
    # Another delivery while the lease lives does nothing.
    assert erasure.run(cid, pid, "m-2") == "claimed_elsewhere"
    # The lease ran out (the worker died): resumed, the steps done are not run again.
    patched[idx] = real
    e.update(actions=[Erasure.lease_until.set(0)])
    assert erasure.run(cid, pid, "m-3") == "purged"
    assert calls == ["contact"]
    e = erasure.load(cid, pid, consistent=True)
    assert e.steps_done == [x.kind for x in erasers.ERASERS]
    assert (
        rows({"erasure": {"report": e.report}, "preview": None})["channel_consents"]["action"]
        == "erased"
    )


def test_permissions_cross_tenant_and_bad_input(api, clinic, other_clinic):
    pid = new_patient(api, clinic)["patient_id"]
    dentist = add_member(api, clinic, "dentist", "Dra. Paz")
    for tok in (dentist["token"],):
        assert api.get(f"/patients/{pid}/erasure", token=tok).status == 403
        r = api.post(
            f"/patients/{pid}/erasure",
            {"reason_code": "patient_request", "confirm_name": FULL},
            token=tok,
        )
        assert r.status == 403
        assert api.get("/settings/retention", token=tok).status == 403
        assert api.put("/settings/retention", {"clinical": 8}, token=tok).status == 403
    # Clinic B's admin: A's patient does not exist for them.
    assert preview(api, other_clinic.admin_token, pid, 404)["code"] == "PATIENT_NOT_FOUND"
    request(api, other_clinic.admin_token, pid, 404)
    assert (
        api.put("/settings/retention", {"clinical": 9}, token=other_clinic.admin_token).status
        == 200
    )
    assert retention.periods(clinic.clinic_id)["clinical"] == 5
    # Bad input.
    r = request(api, clinic.admin_token, pid, 422, confirm_name="Ramona Otra")
    assert r["code"] == "GDPR_ERASURE_CONFIRMATION"
    assert api.post(
        f"/patients/{pid}/erasure",
        {"reason_code": "because", "confirm_name": FULL},
        token=clinic.admin_token,
    ).status in (400, 422)
    assert api.post(
        f"/patients/{pid}/erasure", {"reason_code": "patient_request"}, token=clinic.admin_token
    ).status in (400, 422)
    assert (
        api.get("/patients/01HZZZZZZZZZZZZZZZZZZZZZZZ/erasure", token=clinic.admin_token).status
        == 404
    )
    # Nothing happened.
    assert preview(api, clinic.admin_token, pid)["erasure"] is None
    assert api.get(f"/patients/{pid}", token=clinic.admin_token).json()["data"]["blocked"] is False


def test_retention_settings_bounds(api, clinic):
    t = clinic.admin_token
    r = api.get("/settings/retention", token=t)
    assert r.json()["data"]["periods"] == {"clinical": 5, "billing": 6}
    r = api.put("/settings/retention", {"clinical": 4, "billing": 5}, token=t)
    assert r.status == 422, r.body
    err = r.json()
    assert err["code"] == "RETENTION_BELOW_MINIMUM"
    # each period below its law is named, with the minimum
    fields = {e["field"]: e["message"] for e in err["errors"]}
    assert set(fields) == {"clinical", "billing"}, err
    assert "5" in fields["clinical"] and "6" in fields["billing"], err
    assert api.put("/settings/retention", {"clinical": 101}, token=t).status in (400, 422)
    assert api.put("/settings/retention", {"weeks": 3}, token=t).status in (400, 422)
    r = api.put("/settings/retention", {"clinical": 20}, token=t)
    assert r.status == 200 and r.json()["data"]["periods"] == {"clinical": 20, "billing": 6}
    assert retention.periods(clinic.clinic_id) == {"clinical": 20, "billing": 6}


def test_retention_due_day_is_after_the_last_kept_day():
    assert retention.due_day("2031-12-31") == "2032-01-01"
    assert retention.add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
