"""A bus that refuses an event neither fails the committed request nor loses the event: it is
parked in the table and the events-redrive job publishes it, once (docs/adr/0008)."""

from __future__ import annotations

import io
import json
import logging
import uuid
from dataclasses import replace
from typing import Any

import boto3
import pytest

from chalicelib.core import events
from chalicelib.core.config import settings
from chalicelib.core.observability import logger
from functions import events_redrive
from infra.local.workers import FakeLambdaContext
from tests.integration.patients.helpers import create_patient


@pytest.fixture
def bus_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    """PutEvents to a bus that does not exist: moto refuses it as AWS would."""
    real = settings()
    monkeypatch.setattr(events, "settings", lambda: replace(real, event_bus="cuspide-gone"))
    return lambda: monkeypatch.setattr(events, "settings", settings)  # the bus comes back


@pytest.fixture
def bus_tap() -> Any:
    """An SQS queue that receives every cuspide event on the bus, to see what really went out."""
    sqs = boto3.client("sqs", region_name=settings().region)
    eb = boto3.client("events", region_name=settings().region)
    name = f"test-bus-tap-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = settings().event_bus
    eb.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["cuspide"]}')
    eb.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    yield received
    eb.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
    eb.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture(autouse=True)
def nothing_parked() -> None:
    for unsent in parked():
        unsent.delete()


def parked() -> list[events.UnsentEvent]:
    return list(events.UnsentEvent.query(events.UNSENT_PK, consistent_read=True))


def redrive() -> dict[str, int]:
    return events_redrive.handler({}, FakeLambdaContext("events-redrive"))


def test_a_refused_event_is_parked_and_the_request_still_succeeds(api, clinic, bus_down, bus_tap):
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    logger._logger.addHandler(handler)
    try:
        patient = create_patient(api, clinic.admin_token, first_name="Remedios")
    finally:
        logger._logger.removeHandler(handler)

    r = api.get(f"/patients/{patient['patient_id']}", token=clinic.admin_token)
    assert r.status == 200  # the write is there; the caller has no reason to retry it
    [unsent] = parked()
    detail = json.loads(unsent.detail)
    assert (unsent.name, unsent.clinic_id) == ("patient.created", clinic.clinic_id)
    assert detail["patient_id"] == patient["patient_id"]
    assert unsent.last_error == "ResourceNotFoundException"
    assert "event publish failed" in buf.getvalue()
    assert "Remedios" not in buf.getvalue()  # the log names the event, never its payload
    assert bus_tap() == []


def test_the_redrive_publishes_parked_events_once_with_their_ids(api, clinic, bus_down, bus_tap):
    first = create_patient(api, clinic.admin_token)
    second = create_patient(api, clinic.admin_token)
    ids = [u.SK for u in parked()]
    assert len(ids) == 2

    bus_down()  # the bus is back
    assert redrive() == {"sent": 2, "still_unsent": 0}
    assert parked() == []
    out = bus_tap()
    assert [e["detail"]["event_id"] for e in out] == ids  # oldest first, the same event ids
    assert {e["detail"]["patient_id"] for e in out} == {first["patient_id"], second["patient_id"]}
    assert {e["detail"]["clinic_id"] for e in out} == {clinic.clinic_id}
    assert {e["detail-type"] for e in out} == {"patient.created"}

    assert redrive() == {"sent": 0, "still_unsent": 0}  # a second run sends nothing again
    assert bus_tap() == []


def test_what_the_bus_still_refuses_stays_parked_and_counts_attempts(api, clinic, bus_down):
    create_patient(api, clinic.admin_token)
    assert redrive() == {"sent": 0, "still_unsent": 1}
    assert redrive() == {"sent": 0, "still_unsent": 1}
    [unsent] = parked()
    assert unsent.attempts == 2
    assert unsent.last_error == "ResourceNotFoundException"


def test_more_than_one_put_events_batch_is_redriven(clinic, bus_down, bus_tap):
    actor = {"type": "system", "id": "test"}
    sent = [
        events.publish("test.ping", clinic.clinic_id, actor, n=i)["event_id"] for i in range(23)
    ]
    bus_down()
    assert redrive() == {"sent": 23, "still_unsent": 0}
    assert sorted(e["detail"]["event_id"] for e in bus_tap()) == sorted(sent)


def test_the_redrive_needs_the_global_path_only(api, clinic, bus_down, bus_tap, own_credentials):
    """ADR 0012: the parked events are global items (``EVENTS#UNSENT``) and the job reads no
    clinic's data, so its role is narrowed to the global path and it enters no scope."""
    create_patient(api, clinic.admin_token)
    bus_down()
    own_credentials.clear()
    assert redrive() == {"sent": 1, "still_unsent": 0}
    assert own_credentials and set(own_credentials) == {"global"}
    assert len(bus_tap()) == 1


def test_batched_events_go_out_ten_per_call_and_refused_ones_are_parked(
    bus_tap: Any, bus_down: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_put = events._put  # noqa: SLF001

    def counted(entries: list[dict[str, str]]) -> list[str | None]:
        calls.append(len(entries))
        return real_put(entries)

    monkeypatch.setattr(events, "_put", counted)
    bus_down()  # the bus is up for the first block
    with events.batched():
        for i in range(23):
            events.publish("test.batched", "c1", {"type": "system"}, n=i)
        assert calls == [10, 10]  # the first twenty went as they filled a call
    assert calls == [10, 10, 3]  # the rest when the block ended
    assert sorted(e["detail"]["n"] for e in bus_tap()) == list(range(23))
    # A refused batch is parked, every event of it, for the redrive.
    real = settings()
    monkeypatch.setattr(events, "settings", lambda: replace(real, event_bus="cuspide-gone"))
    with events.batched():
        ids = [
            events.publish("test.batched", "c1", {"type": "system"}, n=i)["event_id"]
            for i in range(4)
        ]
    parked = {u.SK for u in events.UnsentEvent.query(events.UNSENT_PK)}
    assert set(ids) <= parked
