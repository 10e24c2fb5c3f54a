"""Two corrections to moto's SQS, so a queue's cost is what it hands out, not its backlog.

Applied in-process wherever moto runs as the local AWS (``make run``, the test suite); never
part of the product. Answers are unchanged; only how much moto looks at to give them.

1. Sending without counting. Every SendMessage (and every event the bus delivers to a queue)
   reads ``Queue.attributes`` to learn one flag, ``ContentBasedDeduplication``, and moto builds
   that mapping whole, counting the visible, in-flight and delayed messages of the queue three
   times over. When the demo seed publishes its year of history the queues hold thousands of
   events, so each send cost the backlog and the seed spent a seventh of its CPU counting. Here
   the mapping computes an attribute only when it is read.
2. Receiving from the front. ReceiveMessage walks ``Queue.messages``, which moto builds as the
   list of every visible message before taking the first ten, so draining a backlog of n
   messages cost n²/10. Here it is a generator: the walk stops after the messages it hands
   out (the number of messages, for GetQueueAttributes, is counted as before; a long poll
   still sleeps until a message is visible).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

_applied = False


class _LazyAttributes(Mapping[str, Any]):
    """``Queue.attributes`` with each value computed on reading (moto's names and rules)."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        self._names = self._attribute_names()

    def _attribute_names(self) -> list[str]:
        q = self._queue
        names = list(q.BASE_ATTRIBUTES)
        if q.fifo_queue:
            names += q.FIFO_ATTRIBUTES
        if q.kms_master_key_id:
            names += q.KMS_ATTRIBUTES
        if q.policy:
            names.append("Policy")
        if q.redrive_policy:
            names.append("RedrivePolicy")
        return names

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name == "Policy":
            return self._queue.policy
        if name == "RedrivePolicy":
            return json.dumps(self._queue.redrive_policy)
        from moto.core.utils import camelcase_to_underscores

        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.sqs.models import Queue

    def attributes(self: Any) -> Mapping[str, Any]:
        return _LazyAttributes(self)

    def messages(self: Any) -> Iterator[Any]:
        return (m for m in self._messages if m.visible and not m.delayed)

    def approximate_number_of_messages(self: Any) -> int:
        return sum(1 for _ in messages(self))

    def wait_for_messages(self: Any, timeout: int) -> None:
        # moto waits until ``self.messages`` is true, which a generator always is.
        with self._messages_lock:
            self._messages_lock.wait_for(lambda: next(messages(self), None), timeout=timeout)

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages = property(approximate_number_of_messages)  # type: ignore[method-assign,assignment]
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
    _applied = True
