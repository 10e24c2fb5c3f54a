from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.conftest import add_member, mails_to
from tests.integration.patients.helpers import create_patient


class Labs:
    """Helpers over the labs API for one member of one clinic."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        fn = getattr(self.api, method)
        r = fn(path, body, token=self.token) if body is not None else fn(path, token=self.token)
        assert r.status == status, (r.status, r.body[:2000])
        return r.json()["data"] if r.body else None

    def patient(self, **over: Any) -> str:
        return create_patient(self.api, self.token, **over)["patient_id"]

    def lab(self, status: int = 201, **over: Any) -> Any:
        body = {"name": "Dental Lab Sur", "email": "orders@lab-sur.example", **over}
        return self.call("post", "/labs", body, status)

    def case(self, patient_id: str, lab_id: str, status: int = 201, **over: Any) -> Any:
        body = {
            "patient_id": patient_id,
            "lab_id": lab_id,
            "teeth": [36],
            "work_type": "crown",
            "shade": "A2",
            "material": "Zirconia",
            "instructions": "Margen yuxtagingival",
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
            **over,
        }
        return self.call("post", "/labs/cases", body, status)

    def send(self, case_id: str, status: int = 200, **body: Any) -> Any:
        return self.call("post", f"/labs/cases/{case_id}/send", body, status)

    def move(self, case_id: str, to: str, status: int = 200) -> Any:
        return self.call("post", f"/labs/cases/{case_id}/status", {"status": to}, status)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def mailed_token(address: str) -> str:
    m = mails_to(address)[-1]
    return re.search(r"/public/lab-cases/([A-Za-z0-9._-]+)", m.body).group(1)


@pytest.fixture
def labs(api: Any, clinic: Any) -> Labs:
    return Labs(api, clinic.admin_token)


@pytest.fixture
def other_labs(api: Any, other_clinic: Any) -> Labs:
    return Labs(api, other_clinic.admin_token)


@pytest.fixture
def hygienist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "hygienist", "Hugo Higienista")


def appointment(api: Any, clinic: Any) -> dict[str, Any]:
    ag = make_agenda(api, clinic)
    return booked(api, ag, at(ag.monday, "10:00"))


__all__ = ["Labs", "appointment", "mailed_token", "token_of"]
