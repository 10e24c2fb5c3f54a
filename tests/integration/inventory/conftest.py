from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Clinic, add_member


class Inv:
    """Helpers over the inventory API for one clinic (on the pro_plus plan)."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status == status, r.body[:2000]
        return r.json()["data"] if r.body else None

    def post(self, path: str, body: Any = None, status: int = 201) -> Any:
        return self.ok(self.api.post(path, body, token=self.token), status)

    def get(self, path: str, status: int = 200) -> Any:
        return self.ok(self.api.get(path, token=self.token), status)

    def patch(self, path: str, body: Any, status: int = 200) -> Any:
        return self.ok(self.api.patch(path, body, token=self.token), status)

    def item(self, name: str = "Composite A2", sku: str | None = None, **over: Any) -> dict:
        body = {
            "name": name,
            "sku": sku or f"SKU-{abs(hash((name, id(over)))) % 10**8}",
            "unit": "ud",
            "category": "Restauradora",
            "supplier": "Dentaltix",
            "reorder_threshold": 5,
            "reorder_quantity": 20,
            "cost": "12.50",
            **over,
        }
        return self.post("/inventory/items", body)

    def receive(self, item_id: str, qty: int, **kw: Any) -> dict:
        return self.post(f"/inventory/items/{item_id}/receive", {"quantity": qty, **kw})

    def consume(self, item_id: str, qty: int, status: int = 201, **kw: Any) -> dict:
        return self.post(f"/inventory/items/{item_id}/consume", {"quantity": qty, **kw}, status)


def pro_plus(clinic: Clinic) -> None:
    from chalicelib.identity import service

    service.set_plan(clinic.clinic_id, "pro_plus")


@pytest.fixture
def inv(api: Any, clinic: Clinic) -> Inv:
    pro_plus(clinic)
    return Inv(api, clinic.admin_token)


@pytest.fixture
def other_inv(api: Any, other_clinic: Clinic) -> Inv:
    pro_plus(other_clinic)
    return Inv(api, other_clinic.admin_token)


@pytest.fixture
def receptionist(api: Any, clinic: Clinic, inv: Inv) -> dict[str, str]:
    return add_member(api, clinic, "receptionist", "Rosa Recepción")
