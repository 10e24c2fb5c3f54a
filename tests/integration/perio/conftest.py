from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient

# The hand-computed fixture of tests/unit/perio/test_chart.py (indices written out there).
CHART: dict[str, Any] = {
    "16": {
        "mobility": 1,
        "furcation": 2,
        "sites": {
            "MB": {"pd": 3, "gm": 0, "bop": True},
            "B": {"pd": 2, "gm": 1},
            "DB": {"pd": 5, "gm": 2, "bop": True, "plaque": True},
            "ML": {"pd": 4},
            "L": {"pd": 3, "plaque": True},
            "DL": {"pd": 6, "gm": 1, "bop": True, "sup": True},
        },
    },
    "11": {"sites": {"MB": {"pd": 2}, "B": {"pd": 1, "gm": 2, "bop": True}, "DB": {"pd": 2}}},
    "26": {"state": "missing"},
    "36": {"state": "implant"},
}


class Perio:
    """The perio routes for one caller."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status == status, r.body[:2000]
        return r.json()["data"] if r.body else None

    def patient(self) -> str:
        return create_patient(self.api, self.token)["patient_id"]

    def start(self, pid: str, status: int = 201, **body: Any) -> Any:
        body.setdefault("exam_date", "2026-03-09")
        return self.ok(
            self.api.post(f"/patients/{pid}/perio-exams", body, token=self.token), status
        )

    def save(self, exam: dict, teeth: dict, status: int = 200, **extra: Any) -> Any:
        body = {"version": exam["version"], "teeth": teeth, **extra}
        return self.ok(
            self.api.put(f"/perio/exams/{exam['exam_id']}", body, token=self.token), status
        )

    def complete(self, exam: dict, status: int = 200) -> Any:
        return self.ok(
            self.api.post(
                f"/perio/exams/{exam['exam_id']}/complete",
                {"version": exam["version"]},
                token=self.token,
            ),
            status,
        )

    def get(self, path: str, status: int = 200) -> Any:
        return self.ok(self.api.get(path, token=self.token), status)

    def completed(self, pid: str, teeth: dict, exam_date: str = "2026-03-09") -> dict:
        return self.complete(self.start(pid, exam_date=exam_date, teeth=teeth))


@pytest.fixture
def perio(api: Any, clinic: Any) -> Perio:
    return Perio(api, clinic.admin_token)


@pytest.fixture
def other_perio(api: Any, other_clinic: Any) -> Perio:
    return Perio(api, other_clinic.admin_token)


@pytest.fixture
def member(api: Any, clinic: Any) -> Any:
    def make(role: str) -> Perio:
        return Perio(api, add_member(api, clinic, role, f"Staff {role}")["token"])

    return make
