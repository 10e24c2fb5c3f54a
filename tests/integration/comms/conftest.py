from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message as MimeMessage
from typing import Any

import pytest

from infra.local.workers import QueuePump, sqs_client
from tests.conftest import ENDPOINT, RESOURCES
from tests.integration.agenda.conftest import Agenda, at, booked, future_day, make_agenda
from tests.integration.conftest import mails_to
from tests.integration.patients.helpers import create_patient

__all__ = ["Agenda", "at", "booked", "future_day", "mails_to"]


def pump(name: str = "notifications") -> QueuePump:
    import threading

    queue = next(q for q in RESOURCES.queues if q.name == name)
    sqs = sqs_client(ENDPOINT, "eu-south-2")
    from chalicelib.core.config import settings

    return QueuePump(RESOURCES, queue, sqs, settings().region, threading.Event(), lambda m: None)


def drain(name: str = "notifications") -> int:
    p = pump(name)
    total = 0
    while True:
        n = p.drain_once(wait_s=0)
        if not n:
            return total
        total += n


@dataclass
class Comms:
    ag: Agenda
    patient: dict[str, Any]

    @property
    def token(self) -> str:
        return self.ag.token


def consent(
    api: Any, token: str, patient_id: str, channel: str = "email", granted: bool = True
) -> Any:
    r = api.put(
        f"/comms/patients/{patient_id}/consents/{channel}",
        {"granted": granted, "source": "paper_form"},
        token=token,
    )
    assert r.status == 200, r.body
    return r.json()["data"]


@pytest.fixture
def comms(api: Any, clinic: Any) -> Comms:
    drain()  # leftovers of other tests
    ag = make_agenda(api, clinic)
    p = create_patient(api, ag.token, first_name="Marta", last_name="Ruiz", language="es")
    consent(api, ag.token, p["patient_id"])
    ag.patient_id = p["patient_id"]
    return Comms(ag, p)


def parsed(m: Any) -> MimeMessage:
    raw = m.raw_data
    data = raw.encode() if isinstance(raw, str) else raw
    return email.message_from_bytes(data, policy=email.policy.default)  # decoded headers


def part(msg: MimeMessage, ctype: str) -> str:
    for p in msg.walk():
        if p.get_content_type() == ctype:
            return p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
    raise AssertionError(f"no {ctype} part")


def tokens_in(text: str) -> dict[str, str]:
    out = {}
    for tok in re.findall(r"/public/appointments/([A-Za-z0-9_.\-]+)", text):
        out[tok.split(".")[1]] = tok
    return out
