"""One boto3 client per service and process, also when threads ask for it at once."""

from __future__ import annotations

import threading

from chalicelib.core import aws


def test_threads_asking_at_once_share_one_client():
    aws._client.cache_clear()
    barrier = threading.Barrier(16)
    got: list[object] = []

    def ask() -> None:
        barrier.wait()
        got.append(aws.client("sqs"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 16 and len({id(c) for c in got}) == 1
