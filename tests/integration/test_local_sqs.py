"""The local stack's SQS corrections (infra/local/moto_sqs.py): a queue answers as moto did,
but a send no longer counts the backlog and a receive no longer lists it."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.integration.conftest import ENDPOINT

REGION = "eu-west-1"


@pytest.fixture
def sqs():
    client = boto3.client("sqs", endpoint_url=ENDPOINT, region_name=REGION)
    dlq = client.create_queue(QueueName="local-sqs-test-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    url = client.create_queue(
        QueueName="local-sqs-test", Attributes={"RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    yield client, url, redrive
    client.delete_queue(QueueUrl=url)
    client.delete_queue(QueueUrl=dlq)


def test_attributes_and_counts_answer_as_before(sqs):
    client, url, redrive = sqs
    for i in range(25):
        client.send_message(QueueUrl=url, MessageBody=str(i))
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
    assert [m["Body"] for m in got["Messages"]] == [str(i) for i in range(10)]  # from the front
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "15"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "10"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert json.loads(attrs["RedrivePolicy"]) == redrive
    one = client.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert one["Attributes"] == {"VisibilityTimeout": "30"}
    rest = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == [str(i) for i in range(10, 20)]


def test_a_receive_reads_only_the_front_of_a_backlog(sqs, monkeypatch):
    from moto.sqs.models import Message

    client, url, _ = sqs
    client.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)]
    )
    for n in range(10, 500, 10):
        client.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(n + i)} for i in range(10)]
        )
    looked = []
    visible = Message.visible
    monkeypatch.setattr(Message, "visible", property(lambda m: looked.append(1) or visible.fget(m)))
    client.send_message(QueueUrl=url, MessageBody="one more")  # no count of the 500 waiting
    assert looked == []
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len(looked) < 50  # moto looked at all 501 (twice) before


def test_a_long_poll_of_an_empty_queue_waits_instead_of_spinning(sqs, monkeypatch):
    from moto.sqs.models import Queue

    client, url, _ = sqs
    waits = []
    wait = Queue.wait_for_messages
    monkeypatch.setattr(Queue, "wait_for_messages", lambda q, t: waits.append(t) or wait(q, t))
    got = client.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    assert "Messages" not in got
    assert 1 <= len(waits) <= 3  # one sleep per second of the poll, not a busy loop
