"""How many image-worker processes the local stack runs side by side."""

from __future__ import annotations

from infra.local import workers


def test_one_image_worker_per_core_within_the_bound(monkeypatch):
    monkeypatch.delenv("IMAGE_WORKERS", raising=False)
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    assert workers.image_worker_count() == 2
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 64)
    assert workers.image_worker_count() == workers.MAX_IMAGE_WORKERS
    monkeypatch.setattr(workers.os, "cpu_count", lambda: None)
    assert workers.image_worker_count() == 1


def test_image_workers_can_be_set(monkeypatch):
    monkeypatch.setenv("IMAGE_WORKERS", "3")
    assert workers.image_worker_count() == 3
    monkeypatch.setenv("IMAGE_WORKERS", "none")
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 1)
    assert workers.image_worker_count() == 1
