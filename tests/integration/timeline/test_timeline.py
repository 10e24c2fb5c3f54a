"""The timeline consumer and route: events delivered by the bus become timeline entries,
exactly once, only in the event's own clinic."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from chalicelib.core.ids import new_id
from functions.timeline_consumer import handler
from infra.local.workers import FakeLambdaContext
from tests.conftest import ENDPOINT, RESOURCES
from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient


def timeline(api, token: str, pid: str, qs: str = "") -> Any:
    return api.get(f"/patients/{pid}/timeline{qs}", token=token)


def types(api, token, pid) -> list[str]:
    r = timeline(api, token, pid)
    assert r.status == 200, r.body
    return [e["type"] for e in r.json()["data"]["items"]]


def sqs_record(detail_type: str, detail: dict, message_id: str | None = None) -> dict:
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": "cuspide",
        "detail-type": detail_type,
        "detail": detail,
    }
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:timeline",
        "awsRegion": "local",
    }


def invoke(*records: dict) -> dict:
    return handler({"Records": list(records)}, FakeLambdaContext("timeline"))


def raw_timeline(clinic_id: str, pid: str) -> list[dict]:
    ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT)
    return ddb.query(
        TableName=RESOURCES.table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"C#{clinic_id}"}, ":sk": {"S": f"PAT#{pid}#TL#"}},
        ConsistentRead=True,
    )["Items"]


def detail(clinic_id: str, pid: str, **extra: Any) -> dict:
    return {
        "event_id": new_id(),
        "clinic_id": clinic_id,
        "occurred_at": "2026-03-09T10:00:00.000Z",
        "actor": {"type": "user", "id": "u1", "name": "Ana", "ip": "1.2.3.4"},
        "patient_id": pid,
        **extra,
    }


def test_bus_events_reach_the_timeline_newest_first(api, clinic, pump_until):
    ag = make_agenda(api, clinic)
    a = booked(api, ag, at(ag.monday, "10:00"))
    api.post(f"/appointments/{a['appointment_id']}/status", {"status": "confirmed"}, token=ag.token)
    api.patch(f"/patients/{ag.patient_id}", {"profession": "Arquitecta"}, token=ag.token)
    want = ["patient.updated", "appointment.confirmed", "appointment.scheduled", "patient.created"]
    got = pump_until(lambda: (t := types(api, ag.token, ag.patient_id)) == want and t)
    assert got == want
    items = timeline(api, ag.token, ag.patient_id).json()["data"]["items"]
    assert items[1]["data"]["appointment_id"] == a["appointment_id"]
    assert items[1]["data"]["status"] == "confirmed"
    assert items[0]["data"]["changes"] == ["profession"]
    assert items[0]["actor"] == {"type": "user", "id": clinic.admin_id, "name": "Ana Admin"}
    assert "Arquitecta" not in json.dumps(items)


def test_duplicate_delivery_changes_nothing(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    d = detail(clinic.clinic_id, pid, appointment_id="A1", status="completed")
    rec = sqs_record("appointment.completed", d)
    assert invoke(rec, sqs_record("appointment.completed", d)) == {"batchItemFailures": []}
    before = raw_timeline(clinic.clinic_id, pid)
    assert len(before) == 1
    assert invoke(rec) == {"batchItemFailures": []}
    assert raw_timeline(clinic.clinic_id, pid) == before
    entry = before[0]
    assert entry["event_id"]["S"] == d["event_id"]
    assert "1.2.3.4" not in json.dumps(entry)  # the actor's ip is not copied


def test_a_redelivery_with_another_timestamp_is_still_the_same_event(api, clinic):
    """Idempotency is on the event id alone: the same event id with another occurred_at (a
    replayed or re-stamped delivery) adds no second entry."""
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    d = detail(clinic.clinic_id, pid, appointment_id="A1", status="completed")
    assert invoke(sqs_record("appointment.completed", d)) == {"batchItemFailures": []}
    later = {**d, "occurred_at": "2026-03-09T11:30:00.000Z"}
    assert invoke(sqs_record("appointment.completed", later)) == {"batchItemFailures": []}
    entries = raw_timeline(clinic.clinic_id, pid)
    assert [e["occurred_at"]["S"] for e in entries] == [d["occurred_at"]]
    items = timeline(api, clinic.admin_token, pid).json()["data"]["items"]
    assert [i["event_id"] for i in items] == [d["event_id"]]


def test_events_only_write_into_their_own_clinic(api, clinic, other_clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    # an event of clinic B naming clinic A's patient writes nowhere
    forged = sqs_record("appointment.scheduled", detail(other_clinic.clinic_id, pid))
    assert invoke(forged) == {"batchItemFailures": []}
    assert raw_timeline(clinic.clinic_id, pid) == []
    assert raw_timeline(other_clinic.clinic_id, pid) == []
    # events without a patient are not timeline material
    assert invoke(
        sqs_record("invoice.issued", {"event_id": new_id(), "clinic_id": clinic.clinic_id})
    ) == {"batchItemFailures": []}


def test_a_bad_record_fails_alone(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    good = sqs_record("image.processed", detail(clinic.clinic_id, pid, image_id="I1"))
    bad = {**sqs_record("image.processed", {}), "body": "{not json", "messageId": "bad-1"}
    assert invoke(good, bad) == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    (entry,) = raw_timeline(clinic.clinic_id, pid)
    assert entry["event_type"]["S"] == "image.processed"


def test_timeline_pages_with_a_cursor(api, clinic, other_clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    other = create_patient(api, clinic.admin_token)["patient_id"]
    for i in range(5):
        invoke(
            sqs_record(
                "message.sent",
                {**detail(clinic.clinic_id, pid), "occurred_at": f"2026-03-0{i + 1}T10:00:00.000Z"},
            )
        )
    invoke(sqs_record("message.sent", detail(clinic.clinic_id, other)))
    seen, cursor = [], None
    while True:
        r = timeline(
            api, clinic.admin_token, pid, "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        )
        assert r.status == 200, r.body
        seen += [e["occurred_at"][:10] for e in r.json()["data"]["items"]]
        cursor = r.json()["data"]["next_cursor"]
        if not cursor:
            break
        first = cursor
    assert seen == [f"2026-03-0{i}" for i in (5, 4, 3, 2, 1)]
    assert timeline(api, other_clinic.admin_token, pid, f"?cursor={first}").status == 404
    assert timeline(api, clinic.admin_token, other, f"?cursor={first}").status == 400
    assert timeline(api, clinic.admin_token, pid, "?limit=0").status == 422
    assert timeline(api, clinic.admin_token, pid, "?cursor=garbage").status == 400


def test_timeline_route_permissions_and_tenancy(api, clinic, other_clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    invoke(sqs_record("appointment.scheduled", detail(clinic.clinic_id, pid)))
    assert timeline(api, None, pid).status == 401
    m = add_member(api, clinic, "assistant")
    assert (
        api.put("/roles/assistant", {"grants": ["patients.read"]}, token=clinic.admin_token).status
        == 200
    )
    r = timeline(api, m["token"], pid)
    assert r.status == 403 and r.json()["data"]["permission"] == "patients.timeline.read"
    assert timeline(api, other_clinic.admin_token, pid).status == 404
    assert len(timeline(api, clinic.admin_token, pid).json()["data"]["items"]) == 1
