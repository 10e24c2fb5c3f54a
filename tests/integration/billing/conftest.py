from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient, dni


class Billing:
    """Helpers over the API for one clinic."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token
        self._treatments: dict[str, str] = {}

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status == status, r.body[:2000]
        return r.json()["data"] if r.body else None

    def post(self, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
        return self.ok(self.api.post(path, body, token=self.token, **kw), status)

    def get(self, path: str, status: int = 200) -> Any:
        return self.ok(self.api.get(path, token=self.token), status)

    def treatment(
        self, code: str, price: str, scope: str = "mouth", vat: str = "EXENTO_SANITARIO"
    ) -> str:
        if code not in self._treatments:
            d = self.post(
                "/billing/treatments",
                {
                    "code": code,
                    "name_es": f"Tratamiento {code}",
                    "name_en": f"Treatment {code}",
                    "price": price,
                    "scope": scope,
                    "vat_code": vat,
                    "category": ["Test"],
                },
                201,
            )
            self._treatments[code] = d["treatment_id"]
        return self._treatments[code]

    def patient(self, **over: Any) -> str:
        return create_patient(self.api, self.token, **over)["patient_id"]

    def patient_with_nif(self) -> str:
        return self.patient(national_id={"type": "dni", "number": dni()})

    def budget(self, patient_id: str, lines: list[dict], **extra: Any) -> dict:
        return self.post(
            "/billing/budgets", {"patient_id": patient_id, "lines": lines, **extra}, 201
        )

    def invoice(self, patient_id: str, lines: list[dict], **extra: Any) -> dict:
        return self.post(
            "/billing/invoices", {"patient_id": patient_id, "lines": lines, **extra}, 201
        )

    def issue(self, invoice_id: str) -> dict:
        return self.post(f"/billing/invoices/{invoice_id}/issue")


@pytest.fixture
def billing(api: Any, clinic: Any) -> Billing:
    r = api.patch(
        "/clinics/current",
        {
            "legal_name": "Clínica Uno Dental, S.L.",
            "tax_id": "B12345674",
            "address": {
                "line1": "Calle Mayor 1",
                "city": "Madrid",
                "postal_code": "28013",
                "country": "ES",
            },
        },
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    return Billing(api, clinic.admin_token)


@pytest.fixture
def other_billing(api: Any, other_clinic: Any) -> Billing:
    return Billing(api, other_clinic.admin_token)


@pytest.fixture
def receptionist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "receptionist", "Rosa Recepción")


@pytest.fixture
def hygienist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "hygienist", "Hugo Higienista")
