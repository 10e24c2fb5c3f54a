"""note.signed and note.amended reach the patient's timeline with their ids only."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.notes.conftest import Notes
from tests.integration.timeline.test_timeline import invoke, sqs_record, timeline


def test_sign_and_amend_show_on_the_timeline_without_text(
    api: Any, clinic: Any, notes: Notes, published
) -> None:
    pid = notes.patient()
    n = notes.note(pid, subjective="Texto clínico PLUGH")
    notes.sign(pid, n["note_id"])
    notes.amend(pid, n["note_id"], text="Otro texto XYZZY")
    for name, detail in published:
        if name.startswith("note."):
            assert invoke(sqs_record(name, detail)) == {"batchItemFailures": []}
    items = timeline(api, clinic.admin_token, pid).json()["data"]["items"]
    by_type = {i["type"]: i["data"] for i in items}
    assert by_type["note.signed"] == {"note_id": n["note_id"], "patient_id": pid}
    assert set(by_type["note.amended"]) == {"note_id", "amendment_id", "patient_id"}
    assert "PLUGH" not in json.dumps(items) and "XYZZY" not in json.dumps(items)
