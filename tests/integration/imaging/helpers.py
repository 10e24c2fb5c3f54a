"""Helpers of the imaging integration tests."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import requests
from PIL import Image

from chalicelib.core.config import settings
from infra.local.workers import sqs_client
from tests.conftest import ENDPOINT, RESOURCES


def fetch(url: str) -> requests.Response:
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text[:300]
    return r


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L"))


def audit_actions(api: Any, token: str, entity_type: str, entity_id: str) -> list[dict]:
    r = api.get(f"/audit?entity_type={entity_type}&entity_id={entity_id}", token=token)
    assert r.status == 200, r.body
    return r.json()["data"]["items"]


def bus_events(detail_type: str, wait_s: float = 30) -> list[dict]:
    """Domain events of ``detail_type`` that reached the timeline queue (consumed here: the
    imaging tests run no timeline consumer). Reads the whole queue: earlier tests' events wait
    there too, so on a busy machine a short deadline stopped before reaching the one wanted; it
    returns as soon as the queue is empty and something was found."""
    sqs = sqs_client(ENDPOINT, settings().region)
    queue = next(q for q in RESOURCES.queues if q.name == "timeline")
    url = sqs.get_queue_url(QueueName=RESOURCES.queue_name(queue))["QueueUrl"]
    out, deadline = [], time.time() + wait_s
    while time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for m in msgs:
            body = json.loads(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if body.get("detail-type") == detail_type:
                out.append(body["detail"])
        if out and not msgs:
            break
    return out


def run_timeline_consumer(wait_s: float = 30) -> int:
    """Hand what reached the timeline queue to the real timeline consumer, as the local stack
    does, until the queue is empty; returns how many messages were handled. (Events reach the
    queue when they are published, so an empty queue is the end; ``wait_s`` only bounds a slow
    machine's backlog.)"""
    import threading

    from infra.local.workers import QueuePump

    queue = next(q for q in RESOURCES.queues if q.name == "timeline")
    sqs = sqs_client(ENDPOINT, settings().region)
    pump = QueuePump(RESOURCES, queue, sqs, settings().region, threading.Event(), lambda _m: None)
    handled, start = 0, time.time()
    while time.time() < start + wait_s:
        n = pump.drain_once(wait_s=1)
        handled += n
        if not n and (handled or time.time() > start + 2):
            break
    return handled
