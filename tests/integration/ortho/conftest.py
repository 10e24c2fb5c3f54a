from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient


def today() -> date:
    """The test clinic's day (Europe/Madrid), which the server counts in: after 23:00 UTC it
    is already tomorrow there, so the machine's ``date.today()`` would be a day behind."""
    return datetime.now(ZoneInfo("Europe/Madrid")).date()


def ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


def aligner_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "appliance": "aligners",
        "total_trays": 30,
        "days_per_tray": 14,
        "arches": "both",
        "start_date": ago(60),
        "planned_months": 14,
        "visit_interval_weeks": 6,
        "phases": [
            {"kind": "levelling", "planned_start": ago(60), "actual_start": ago(60)},
            {"kind": "finishing"},
            {"kind": "retention"},
        ],
        "milestones": [{"what": "Attachments", "planned_date": ago(60), "done_date": ago(60)}],
    }
    body.update(over)
    return body


class Ortho:
    """Helpers over the ortho API for one member of one clinic."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        fn = getattr(self.api, method)
        r = fn(path, body, token=self.token) if body is not None else fn(path, token=self.token)
        assert r.status == status, (r.status, r.body[:2000])
        return r.json() if r.body else None

    def patient(self, **over: Any) -> str:
        return create_patient(self.api, self.token, **over)["patient_id"]

    def start(self, pid: str, status: int = 201, **over: Any) -> Any:
        return self.call("post", f"/patients/{pid}/ortho/cases", aligner_body(**over), status)

    def case_path(self, pid: str, case_id: str) -> str:
        return f"/patients/{pid}/ortho/cases/{case_id}"


@pytest.fixture
def dentist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "dentist", "Diana Dentista")


@pytest.fixture
def ortho(api: Any, dentist: dict[str, str]) -> Ortho:
    return Ortho(api, dentist["token"])


@pytest.fixture
def admin_ortho(api: Any, clinic: Any) -> Ortho:
    return Ortho(api, clinic.admin_token)


@pytest.fixture
def other_ortho(api: Any, other_clinic: Any) -> Ortho:
    return Ortho(api, other_clinic.admin_token)
