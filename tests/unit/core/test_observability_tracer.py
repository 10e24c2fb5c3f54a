"""The Tracer is built only when tracing is on (issue 23: building it imports the X-Ray SDK and
makes its recorder, which every cold start paid for nothing with tracing off)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import observability


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    return monkeypatch


def test_tracing_follows_powertools_rule(lambda_env: pytest.MonkeyPatch) -> None:
    assert observability.tracing_enabled()
    lambda_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert not observability.tracing_enabled()
    lambda_env.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    lambda_env.setenv("AWS_CHALICE_CLI_MODE", "true")
    assert not observability.tracing_enabled()
    lambda_env.delenv("AWS_CHALICE_CLI_MODE")
    lambda_env.delenv("LAMBDA_TASK_ROOT")
    assert not observability.tracing_enabled()  # outside Lambda: the local stack, the tests


def test_no_tracer_is_built_while_tracing_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    def boom() -> None:
        raise AssertionError("a Tracer was built with tracing off")

    monkeypatch.setattr(observability, "get_tracer", boom)
    with observability.request_segment("/api/v1/health"):
        pass


def test_a_request_is_one_annotated_subsegment_when_tracing_is_on(
    lambda_env: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, Any]] = []

    class Segment:
        def put_annotation(self, key: str, value: Any) -> None:
            seen.append((key, value))

    class Provider:
        @contextlib.contextmanager
        def in_subsegment(self, name: str) -> Iterator[Segment]:
            seen.append(("subsegment", name))
            yield Segment()

    class FakeTracer:
        provider = Provider()

    lambda_env.setattr(observability, "get_tracer", lambda: FakeTracer())
    with observability.request_segment("/api/v1/patients"):
        seen.append(("body", None))
    assert seen == [("subsegment", "## request"), ("route", "/api/v1/patients"), ("body", None)]
