"""The retention job (ADR 1405): on the day after a blocked patient's retention ends it erases
exactly that category (clinical: the record, images with every rendition and version,
documents, notes; billing: invoices), idempotently; a lengthened period moves the day; its
DynamoDB calls depend on the days it reads and what expires, not on the data."""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.core.ids import new_id
from chalicelib.gdpr import erasers, erasure, retention
from chalicelib.gdpr.models import RetentionCursor, RetentionDue
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.gdpr.erasure_helpers import deliver, fill, objects, ok, requested
from tests.integration.gdpr.test_erasure import _jpeg
from tests.integration.patients.helpers import create_patient


def at_cursor(day: date) -> None:
    RetentionCursor(*RetentionCursor.key(), last_day=day.isoformat()).save()


def erase(api, clinic, pid, published, name) -> dict:
    r = api.post(
        f"/patients/{pid}/erasure",
        {"reason_code": "patient_request", "confirm_name": name},
        token=clinic.admin_token,
    )
    assert r.status == 202, r.body
    assert deliver(requested(published, pid)) == {"batchItemFailures": []}
    return ok(api.get(f"/patients/{pid}/erasure", token=clinic.admin_token))["erasure"]


def test_the_job_erases_exactly_what_expired_idempotently(
    api, clinic, billing, published, uploaded, patient
):
    cid, t = clinic.clinic_id, clinic.admin_token
    pid = patient["patient_id"]
    img = uploaded("photo", _jpeg())
    made = fill(api, clinic, billing, pid)
    # A second blocked patient, kept longer: untouched by the first one's day.
    other = create_patient(api, t, first_name="Otro", last_name="Paciente")
    ok(api.put(f"/patients/{other['patient_id']}/medical", {"allergies": []}, token=t))
    e = erase(api, clinic, pid, published, "Lucía Pérez Gómez")
    clinical = date.fromisoformat(e["until"]["clinical"])
    billing_until = date.fromisoformat(e["until"]["billing"])
    assert clinical < billing_until
    ok(api.put("/settings/retention", {"clinical": 7}, token=t))  # the second one: 7 years
    e2 = erase(api, clinic, other["patient_id"], published, other["full_name"])
    assert date.fromisoformat(e2["until"]["clinical"]) > clinical
    ok(api.put("/settings/retention", {"clinical": 5}, token=t))

    # The day before: nothing.
    at_cursor(clinical - timedelta(days=1))
    assert retention.run_job(clinical)["due"] == 0
    assert len(objects(f"clinics/{cid}/uploads/{img['image_id']}/")) >= 2

    # The day after the last kept day: the clinical record goes, every version of every file.
    counts = retention.run_job(clinical + timedelta(days=1))
    assert counts["due"] == 1 and counts["purged"] == 1, counts
    assert objects(f"clinics/{cid}/uploads/{img['image_id']}/") == []
    assert objects(f"clinics/{cid}/documents/{made['document_id']}/") == []
    assert erasers._notes(cid, pid) == [] and erasers._chart(cid, pid) == []
    assert erasers._images(cid, pid) == [] and erasers._documents(cid, pid) == []
    assert api.get(f"/patients/{pid}", token=t).status == 404
    # Invoices stay until theirs ends; the other patient is untouched.
    assert len(erasers._billing(cid, pid, "INV")) == 1
    assert api.get(f"/patients/{other['patient_id']}", token=t).status == 200
    v = ok(api.get(f"/patients/{pid}/erasure", token=t))["erasure"]
    assert v["status"] == "done"
    acts = {r["kind"]: r["action"] for r in v["report"]}
    assert acts["images"] == "purged" and acts["invoices"] == "kept"

    # Again the same day, or from an older cursor: nothing more.
    assert retention.run_job(clinical + timedelta(days=1))["days"] == 0
    at_cursor(clinical - timedelta(days=1))
    again = retention.run_job(clinical + timedelta(days=1))
    assert again["due"] == 0 and again["purged"] == 0

    # The invoices' day.
    at_cursor(billing_until)
    counts = retention.run_job(billing_until + timedelta(days=1))
    assert counts["purged"] == 1, counts
    assert erasers._billing(cid, pid, "INV") == []
    v = ok(api.get(f"/patients/{pid}/erasure", token=t))["erasure"]
    assert v["status"] == "purged"
    r = api.get(f"/audit?entity_type=patient&entity_id={pid}", token=t)
    assert [x for x in r.json()["data"]["items"] if x["action"] == "gdpr.retention_purged"]


def test_a_lengthened_period_moves_the_day(api, clinic, published):
    t = clinic.admin_token
    p = create_patient(api, t, first_name="Largo", last_name="Plazo")
    ok(api.put(f"/patients/{p['patient_id']}/medical", {"allergies": []}, token=t))
    e = erase(api, clinic, p["patient_id"], published, p["full_name"])
    day = date.fromisoformat(e["until"]["clinical"]) + timedelta(days=1)
    ok(api.put("/settings/retention", {"clinical": 10}, token=t))
    at_cursor(day - timedelta(days=1))
    counts = retention.run_job(day)
    assert counts["moved"] == 1 and counts.get("purged", 0) == 0, counts
    assert api.get(f"/patients/{p['patient_id']}", token=t).status == 200
    v = erasure.load(clinic.clinic_id, p["patient_id"])
    later = retention.add_years(retention.clinical_last(clinic.clinic_id, p["patient_id"]), 10)
    assert v.until["clinical"] == later.isoformat()
    entries = list(RetentionDue.query(f"JOB#RETDUE#{retention.due_day(later.isoformat())}"))
    assert [x.patient_id for x in entries] == [p["patient_id"]]


def test_the_jobs_cost_does_not_grow_with_unrelated_data(api, clinic):
    start = date(2090, 1, 1)  # days nothing else in the tests uses

    def cost() -> int:
        at_cursor(start)
        with dynamodb_calls() as calls:
            retention.run_job(start + timedelta(days=5))
        return calls.count

    before = cost()
    # Unrelated: due entries on other days, many patients and their data.
    for i in range(40):
        RetentionDue(
            *RetentionDue.key(
                (start + timedelta(days=30 + i)).isoformat(), clinic.clinic_id, new_id(), "clinical"
            ),
            clinic_id=clinic.clinic_id,
            patient_id=new_id(),
            category="clinical",
        ).save()
    for i in range(15):
        create_patient(api, clinic.admin_token, first_name=f"Relleno{i}", last_name="Datos")
    assert cost() == before
    # Five days read: one Query per day and one cursor write per day, plus the cursor read.
    assert before <= 5 * 2 + 2
