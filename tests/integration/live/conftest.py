"""Live notifications against moto: a fake API Gateway Management API records what is posted
(the real boto3 client is exercised against the local server in test_live_stack.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.live import service


class FakeManagement:
    """post_to_connection / delete_connection as API Gateway answers them."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.sent: dict[str, list[dict]] = {}
        self.closed: list[str] = []

    def _gone(self, op: str) -> ClientError:
        return ClientError(
            {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}}, op
        )

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict:  # noqa: N803
        import json

        if ConnectionId not in self.open:
            raise self._gone("PostToConnection")
        self.sent.setdefault(ConnectionId, []).append(json.loads(Data))
        return {}

    def delete_connection(self, *, ConnectionId: str) -> dict:  # noqa: N803
        if ConnectionId not in self.open:
            raise self._gone("DeleteConnection")
        self.open.discard(ConnectionId)
        self.closed.append(ConnectionId)
        return {}


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeManagement:
    fake = FakeManagement()
    monkeypatch.setattr(service, "management", lambda: fake)
    return fake


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """live.ready messages the socket handler queued."""
    seen: list[Any] = []
    monkeypatch.setattr(service, "announce_ready", seen.append)
    return seen
