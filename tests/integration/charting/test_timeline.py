"""treatment.completed as published reaches the patient's timeline with its ids (the timeline
consumer fed with the exact event the completion published)."""

from __future__ import annotations

from tests.integration.timeline.test_timeline import invoke, sqs_record, timeline


def test_completed_treatment_on_the_timeline(billing, api, clinic, published):
    fill = billing.treatment("OBT", "60.00", scope="surface")
    pid = billing.patient()
    it = billing.post(
        f"/patients/{pid}/chart/plan",
        {"treatment_id": fill, "tooth": 36, "surfaces": ["O"], "note": "dolor al frío"},
        201,
    )
    billing.post(
        f"/patients/{pid}/chart/plan/{it['item_id']}/complete", {"note": "sin incidencias"}
    )
    (payload,) = [p for n, p in published if n == "treatment.completed"]
    assert "sin incidencias" not in str(payload) and "dolor" not in str(payload)  # ids only
    assert payload["clinic_id"] == clinic.clinic_id and payload["patient_id"] == pid
    assert invoke(sqs_record("treatment.completed", payload)) == {"batchItemFailures": []}
    (item,) = timeline(api, clinic.admin_token, pid).json()["data"]["items"]
    assert item["type"] == "treatment.completed"
    assert item["data"]["plan_item_id"] == it["item_id"] and item["data"]["tooth"] == 36
    assert item["data"]["code"] == "OBT" and item["data"]["finding_id"]
