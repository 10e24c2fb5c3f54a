"""Fixtures of the Bridge client's unit tests: a fake device API on loopback."""

from __future__ import annotations

import pytest
from bridge_fakes import FakeApi


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.close()
