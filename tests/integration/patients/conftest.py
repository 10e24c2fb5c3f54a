from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import add_member


@pytest.fixture
def receptionist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "receptionist", "Rosa Recepción")


@pytest.fixture
def dentist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "dentist", "Dra. Paz")
