"""Helpers of the recalls tests: the API for one member, the consumer fed with exactly what was
published (as the queue would), the clinic's day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from functions import recalls_consumer
from tests.integration.agenda.conftest import Agenda, make_agenda
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient
from tests.integration.timeline.test_timeline import FakeLambdaContext, sqs_record


def today() -> date:
    """The test clinic's day (Europe/Madrid), which the server counts in."""
    return datetime.now(ZoneInfo("Europe/Madrid")).date()


class Desk:
    """The API as one member of one clinic."""

    def __init__(self, api: Any, token: str, clinic_id: str) -> None:
        self.api, self.token, self.clinic_id = api, token, clinic_id

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        fn = getattr(self.api, method)
        r = fn(path, body, token=self.token) if body is not None else fn(path, token=self.token)
        assert r.status == status, (r.status, r.body[:2000])
        return r.json() if r.body else None

    def data(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        return self.call(method, path, body, status)["data"]

    def patient(self, **over: Any) -> str:
        return create_patient(self.api, self.token, **over)["patient_id"]

    def consent(self, pid: str) -> None:
        self.call(
            "put",
            f"/comms/patients/{pid}/consents/email",
            {"granted": True, "source": "paper_form"},
        )

    def rules(self) -> list[dict]:
        return self.data("get", "/recalls/rules")

    def checkup_rule(self) -> str:
        return next(r["rule_id"] for r in self.rules() if "REV" in r["codes"])

    def recalls(self, pid: str) -> list[dict]:
        return self.data("get", f"/patients/{pid}/recalls")["recalls"]

    def due(self, query: str = "") -> list[dict]:
        return self.data("get", f"/recalls/due?limit=100{query}")["items"]


class Queue:
    """Delivers to the recalls consumer what was published since the last delivery."""

    def __init__(self, published: list) -> None:
        self.published, self.done = published, 0

    def deliver(self, only: str | None = None) -> dict:
        batch = self.published[self.done :]
        self.done = len(self.published)
        records = [sqs_record(n, d) for n, d in batch if only is None or n == only]
        return recalls_consumer.handler({"Records": records}, FakeLambdaContext("recalls"))

    def again(self, name: str) -> dict:
        """Redeliver every published ``name`` event (at-least-once)."""
        records = [sqs_record(n, d) for n, d in self.published if n == name]
        return recalls_consumer.handler({"Records": records}, FakeLambdaContext("recalls"))


@pytest.fixture
def desk(api: Any, clinic: Any) -> Desk:
    return Desk(api, clinic.admin_token, clinic.clinic_id)


@pytest.fixture
def other_desk(api: Any, other_clinic: Any) -> Desk:
    return Desk(api, other_clinic.admin_token, other_clinic.clinic_id)


@pytest.fixture
def queue(published: list) -> Queue:
    return Queue(published)


@pytest.fixture
def agenda(api: Any, clinic: Any) -> Agenda:
    return make_agenda(api, clinic)


@pytest.fixture
def reception(api: Any, clinic: Any) -> Desk:
    m = add_member(api, clinic, "receptionist", "Rosa Recepción")
    return Desk(api, m["token"], clinic.clinic_id)


def treatment(desk: Desk, code: str) -> str:
    """The catalog treatment ``code`` of the desk's clinic (created on first use)."""
    cache = desk.__dict__.setdefault("_treatments", {})
    if code not in cache:
        cache[code] = desk.data(
            "post",
            "/billing/treatments",
            {
                "code": code,
                "name_es": f"Tratamiento {code}",
                "price": "40.00",
                "scope": "mouth",
                "vat_code": "EXENTO_SANITARIO",
                "category": ["Test"],
            },
            201,
        )["treatment_id"]
    return cache[code]


def plan(desk: Desk, pid: str, code: str = "REV") -> dict:
    return desk.data(
        "post", f"/patients/{pid}/chart/plan", {"treatment_id": treatment(desk, code)}, 201
    )


def complete_treatment(desk: Desk, pid: str, code: str = "REV") -> dict:
    """Plan and complete a catalog treatment ``code`` on the chart."""
    it = plan(desk, pid, code)
    desk.data("post", f"/patients/{pid}/chart/plan/{it['item_id']}/complete", {})
    return it


def in_months(d: date, months: int) -> date:
    from chalicelib.recalls.common import add_months

    return add_months(d, months)


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()
