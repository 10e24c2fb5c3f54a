"""The timeline holds only known event types and, per type, known fields (issue 20): an event
of an unknown type, or a free-text key on a known type (a diagnosis), is neither stored nor
shown, also when it was stored before the catalog existed."""

from __future__ import annotations

import json

from chalicelib.timeline import catalog
from chalicelib.timeline.models import TimelineEntry, entry_key
from tests.integration.patients.helpers import create_patient
from tests.integration.timeline.test_timeline import (
    detail,
    invoke,
    raw_timeline,
    sqs_record,
    timeline,
)

DIAGNOSIS = "Periodontitis crónica generalizada"


def test_an_event_of_an_unknown_type_is_not_stored(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    for event_type in ("clinical.note_added", "appointment.diagnosed", "patient."):
        d = detail(clinic.clinic_id, pid, diagnosis=DIAGNOSIS)
        assert invoke(sqs_record(event_type, d)) == {"batchItemFailures": []}
    assert raw_timeline(clinic.clinic_id, pid) == []
    assert timeline(api, clinic.admin_token, pid).json()["data"]["items"] == []


def test_a_known_type_keeps_only_its_known_fields(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    d = detail(
        clinic.clinic_id,
        pid,
        appointment_id="A1",
        status="completed",
        previous_status="in_progress",
        diagnosis=DIAGNOSIS,  # free text on a known type
        notes="Dolor al masticar",
        cabinet_id={"nested": DIAGNOSIS},  # a known key whose value could carry anything
    )
    assert invoke(sqs_record("appointment.completed", d)) == {"batchItemFailures": []}
    (raw,) = raw_timeline(clinic.clinic_id, pid)
    assert DIAGNOSIS not in json.dumps(raw) and "Dolor" not in json.dumps(raw)
    (item,) = timeline(api, clinic.admin_token, pid).json()["data"]["items"]
    assert item["type"] == "appointment.completed"
    assert item["data"] == {
        "appointment_id": "A1",
        "patient_id": pid,
        "status": "completed",
        "previous_status": "in_progress",
    }


def test_entries_stored_before_the_catalog_show_only_what_it_allows(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    for n, (event_type, data) in enumerate(
        (
            ("clinical.note_added", {"patient_id": pid, "note": DIAGNOSIS}),
            ("patient.updated", {"patient_id": pid, "changes": ["phone"], "diagnosis": DIAGNOSIS}),
        )
    ):
        at = f"2026-03-0{n + 1}T10:00:00.000Z"
        TimelineEntry(
            *entry_key(clinic.clinic_id, pid, at, f"E{n}"),
            event_id=f"E{n}",
            event_type=event_type,
            occurred_at=at,
            patient_id=pid,
            actor=None,
            data=data,
        ).save()
    r = timeline(api, clinic.admin_token, pid)
    assert r.status == 200, r.body
    items = r.json()["data"]["items"]
    assert [i["type"] for i in items] == ["patient.updated"]
    assert items[0]["data"] == {"patient_id": pid, "changes": ["phone"]}
    assert DIAGNOSIS not in r.body.decode()


def test_the_catalog_covers_every_event_the_timeline_rule_routes():
    """Each documented event with a patient (docs/events.md) is in the catalog with its
    payload fields; what the bus rule routes and nothing else."""
    prefixes = ("patient.", "appointment.", "image.", "document.", "budget.", "invoice.")
    prefixes += ("payment.", "message.")
    prefixes += ("note.",)  # clinical notes (issue 16)
    assert all(t.startswith(prefixes) for t in catalog.FIELDS)
    assert all("patient_id" in fields for fields in catalog.FIELDS.values())
    assert catalog.shown("invoice.issued", {"num_serie": "A-1", "rectifies": ["I1"]}) == {
        "num_serie": "A-1",
        "rectifies": ["I1"],
    }
    assert catalog.shown("unknown.type", {"patient_id": "P1"}) == {}
