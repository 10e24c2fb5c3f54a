"""Imaging fixtures: a patient, uploads straight to (moto) S3 through the presigned POST, and
the image worker driven by the real S3 -> EventBridge -> SQS delivery."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from chalicelib.core.config import settings
from infra.local.workers import QueuePump, sqs_client
from tests.conftest import ENDPOINT, RESOURCES
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient
from tests.waiting import wait_for


def upload(form: dict[str, Any], data: bytes, filename: str = "file") -> requests.Response:
    """POST the file to S3 with the presigned form, as a browser would."""
    r = requests.post(
        form["url"], data=form["fields"], files={"file": (filename, data)}, timeout=30
    )
    assert r.status_code in (200, 201, 204), r.text
    return r


class Worker:
    """The image-worker queue pumped into ``functions/image_worker.handler``."""

    def __init__(self) -> None:
        queue = next(q for q in RESOURCES.queues if q.name == "image-worker")
        self.sqs = sqs_client(ENDPOINT, settings().region)
        self.pump = QueuePump(
            RESOURCES, queue, self.sqs, settings().region, threading.Event(), lambda _m: None
        )
        self.taken: list[str] = []

    def receive(self, wait_s: int = 5) -> list[dict]:
        """Raw messages (left invisible for a while; the fixture deletes them at the end)."""
        deadline = time.time() + wait_s
        while time.time() < deadline:
            resp = self.sqs.receive_message(
                QueueUrl=self.pump.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
            )
            if resp.get("Messages"):
                self.taken += [m["ReceiptHandle"] for m in resp["Messages"]]
                return resp["Messages"]
        return []

    def backlog(self) -> int:
        """Messages on the queue, visible or in flight (a failed one waits to come back)."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.pump.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attrs.values())

    def drain_all(self, wait_s: float = 120) -> int:
        """Pump until nothing is left on the queue (retries included); returns how many
        deliveries the worker handled. Uploads reach the queue before S3 answers the upload."""
        handled = 0

        def empty() -> bool:
            nonlocal handled
            handled += self.pump.drain_once(wait_s=0)
            return self.backlog() == 0

        wait_for(empty, "the image-worker queue to be empty", timeout_s=wait_s)
        return handled

    def purge(self) -> None:
        while self.pump.drain_once(wait_s=0):
            pass

    def release(self) -> None:
        """Delete the messages a test received raw (and handed to the handler itself): left
        in flight, they would hide for the queue's 300 s visibility timeout and then reach the
        next test's worker."""
        for handle in self.taken:
            with contextlib.suppress(Exception):
                self.sqs.delete_message(QueueUrl=self.pump.url, ReceiptHandle=handle)


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker()
    w.purge()
    yield w
    w.release()


@pytest.fixture
def patient(api: Any, clinic: Any) -> dict[str, Any]:
    return create_patient(
        api,
        clinic.admin_token,
        first_name="Lucía",
        last_name="Pérez",
        second_last_name="Gómez",
        national_id={"type": "dni", "number": "12345678Z"},
    )


@pytest.fixture
def dentist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "dentist", "Dra. Paz")


@pytest.fixture
def receptionist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "receptionist", "Rosa Recepción")


def image_body(kind: str = "photo", data: bytes = b"x", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "filename": {"photo": "frontal.jpg", "xray": "pano.png", "dicom": "pa.dcm"}[kind],
        "content_type": {"photo": "image/jpeg", "xray": "image/png", "dicom": "application/dicom"}[
            kind
        ],
        "size": len(data),
    }
    body.update(over)
    return body


@pytest.fixture
def start_upload(api: Any, clinic: Any, patient: dict[str, Any]) -> Callable[..., dict]:
    def start(kind: str, data: bytes, *, token: str | None = None, **over: Any) -> dict:
        r = api.post(
            f"/patients/{patient['patient_id']}/images",
            image_body(kind, data, **over),
            token=token or clinic.admin_token,
        )
        assert r.status == 201, r.body
        return r.json()["data"]

    return start


@pytest.fixture
def uploaded(start_upload: Callable[..., dict], worker: Worker, api: Any, clinic: Any, patient):
    """Start, upload, run the worker; returns the image as GET answers it."""

    def go(kind: str, data: bytes, **over: Any) -> dict:
        d = start_upload(kind, data, **over)
        upload(d["upload"], data)
        assert worker.drain_all() >= 1, "the S3 event never reached the image-worker queue"
        r = api.get(
            f"/patients/{patient['patient_id']}/images/{d['image']['image_id']}",
            token=clinic.admin_token,
        )
        assert r.status == 200, r.body
        return r.json()["data"]

    return go
