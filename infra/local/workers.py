"""Queue workers and the scheduler of the local stack.

Each SQS queue of ``infra/resources.py`` is long-polled and its messages are handed, as the
same ``{"Records": [...]}`` event Lambda's SQS integration builds, to the queue's handler in
``functions/``. Messages the handler reports in ``batchItemFailures`` stay on the queue and come
back after a short delay; after ``max_receive_count`` receives SQS moves them to the DLQ, as in
the cloud. The scheduler calls each scheduled job's handler at its interval (and on demand).

Queues whose worker needs the imaging layer are pumped in processes of their own
(``pump_in_processes``), as each Lambda has its own: decoding a large X-ray or a JPEG 2000 DICOM
holds the interpreter lock for seconds, which in the API's process would stall every request
(and the embedded moto) meanwhile. Lambda runs one invocation per upload side by side; locally
as many processes as the machine has cores (``IMAGE_WORKERS`` overrides) pump the queue, each
one message at a time, so a burst of captures is rendered in parallel. A pump process never
outlives the stack that started it: killed with SIGKILL, the stack cannot stop its children,
so each child leaves by itself as soon as its parent is gone (``exit_with_parent``); an orphan
would otherwise go on taking jobs from the next stack's queues.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from infra.resources import Queue, Resources, Schedule, for_stage

RETRY_DELAY_S = 5
# How often a pump process checks that the stack that started it is still there.
PARENT_CHECK_S = 0.25
PR_SET_PDEATHSIG = 1  # prctl(2), Linux
# Never more image processes than this by default: each can hold a large study in memory.
MAX_IMAGE_WORKERS = 4


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.time() + 300

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def load_handler(spec: str) -> Callable[[dict, Any], Any]:
    module, func = spec.split(":")
    return getattr(importlib.import_module(f"functions.{module}"), func)


def sqs_event(messages: list[dict], arn: str, region: str) -> dict:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class QueuePump(threading.Thread):
    def __init__(
        self,
        res: Resources,
        queue: Queue,
        sqs: Any,
        region: str,
        stop: threading.Event,
        log: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"pump-{queue.name}", daemon=True)
        self.queue, self.sqs, self.region, self.stop_event, self.log = queue, sqs, region, stop, log
        self.url = sqs.get_queue_url(QueueName=res.queue_name(queue))["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.handler = load_handler(queue.handler)

    def drain_once(self, wait_s: int = 1) -> int:
        resp = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=self.queue.batch_size,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            return 0
        try:
            result = (
                self.handler(
                    sqs_event(messages, self.arn, self.region), FakeLambdaContext(self.queue.name)
                )
                or {}
            )
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception as exc:  # noqa: BLE001 - a crashed invocation fails the whole batch
            self.log(f"[{self.queue.name}] handler crashed: {type(exc).__name__}")
            failed = {m["MessageId"] for m in messages}
        # One call for the batch's successes and one for its failures (as Lambda's SQS
        # integration does), not one per message: a backlog drains at the handler's speed.
        done = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
            for n, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        retry = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": RETRY_DELAY_S}
            for n, m in enumerate(messages)
            if m["MessageId"] in failed
        ]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=done)
        if retry:
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=retry)
        return len(messages)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.drain_once()
            except Exception as exc:  # noqa: BLE001 - keep pumping after a transient error
                self.log(f"[{self.queue.name}] pump error: {type(exc).__name__}")
                self.stop_event.wait(1)


def scheduled_event(schedule: Schedule) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "local",
        "resources": [f"schedule/{schedule.name}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    def __init__(self, res: Resources, stop: threading.Event, log: Callable[[str], None]) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.schedules = {s.name: s for s in res.schedules}
        self.handlers = {s.name: load_handler(s.handler) for s in res.schedules}
        self.stop_event, self.log = stop, log
        self.next_run = {s.name: time.time() + 5 for s in res.schedules}

    def fire(self, name: str) -> Any:
        schedule = self.schedules[name]
        result = self.handlers[name](scheduled_event(schedule), FakeLambdaContext(name))
        self.log(f"[schedule] {name}: {json.dumps(result, default=str)[:200]}")
        return result

    def run(self) -> None:
        while not self.stop_event.wait(1):
            for name, at in list(self.next_run.items()):
                if time.time() >= at:
                    self.next_run[name] = time.time() + self.schedules[name].interval_s
                    try:
                        self.fire(name)
                    except Exception as exc:  # noqa: BLE001
                        self.log(f"[schedule] {name} failed: {type(exc).__name__}")


def sqs_client(endpoint: str, region: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's dummy credentials
    )


def exit_with_parent(parent_pid: int) -> None:
    """End this process as soon as ``parent_pid`` (the process that started it) is gone, even
    killed with SIGKILL, which gives the parent no chance to stop its children.

    Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``; it fires when
    the parent's thread that started this process ends, so start it from the main thread),
    even while this process holds the interpreter lock decoding an image. Everywhere, as a
    fallback: a thread that exits when the parent pid changes (an orphan is re-parented).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watch below still applies
    if os.getppid() != parent_pid:  # already gone before the kernel was asked to tell us
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _pump_forever(
    stage: str, queue_name: str, endpoint: str, region: str, parent_pid: int | None = None
) -> None:
    """A child process's body: pump one queue until the parent terminates it (SIGTERM), or
    dies."""
    if parent_pid is not None:
        exit_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    res = for_stage(stage)
    queue = next(q for q in res.queues if q.name == queue_name)

    def log(msg: str) -> None:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()

    QueuePump(res, queue, sqs_client(endpoint, region), region, threading.Event(), log).run()


def image_worker_count() -> int:
    """How many processes pump an imaging queue: ``IMAGE_WORKERS``, or one per core (at most
    ``MAX_IMAGE_WORKERS``)."""
    configured = os.environ.get("IMAGE_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(os.cpu_count() or 1, MAX_IMAGE_WORKERS))


def pump_in_processes(
    res: Resources, queue: Queue, endpoint: str, region: str, count: int
) -> list[Any]:
    """Start ``count`` fresh interpreters (spawned: they inherit the environment, nothing else)
    that pump ``queue`` side by side; returns the processes, which the caller terminates on
    shutdown. Each exits by itself if this process dies (``exit_with_parent``): call this from
    the main thread."""
    procs = []
    for n in range(count):
        proc = multiprocessing.get_context("spawn").Process(
            target=_pump_forever,
            args=(res.stage, queue.name, endpoint, region, os.getpid()),
            name=f"pump-{queue.name}-{n + 1}",
            daemon=True,
        )
        proc.start()
        procs.append(proc)
    return procs
