from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.config import settings
from infra.local.workers import QueuePump, sqs_client
from tests.conftest import ENDPOINT, RESOURCES


@pytest.fixture(scope="session")
def timeline_pump() -> QueuePump:
    queue = next(q for q in RESOURCES.queues if q.name == "timeline")
    region = settings().region
    return QueuePump(
        RESOURCES,
        queue,
        sqs_client(ENDPOINT, region),
        region,
        threading.Event(),
        log=lambda _m: None,
    )


@pytest.fixture
def pump_until(timeline_pump: QueuePump) -> Callable[[Callable[[], Any]], Any]:
    """Deliver queued events to the consumer until ``ready()`` returns something truthy."""

    def run(ready: Callable[[], Any], timeout_s: float = 90) -> Any:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            timeline_pump.drain_once(wait_s=0)
            result = ready()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError("the timeline never caught up")

    return run
