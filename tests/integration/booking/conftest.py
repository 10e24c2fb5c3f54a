"""Online booking fixtures: a clinic with an agenda, online booking on with one type, and a
small client for the public page (forms, hidden fields, the code from the outbox)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.booking import abuse
from tests.integration.agenda.conftest import Agenda, make_agenda
from tests.integration.conftest import mails_to, unique_email

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def easy_pow(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4-bit proof of work: the same checks, a few hashes (the page's script does 16 bits)."""
    monkeypatch.setattr(abuse, "POW_BITS", 4)


def type_body(ag: Agenda, **over: Any) -> dict[str, Any]:
    return {
        "name_es": "Revisión",
        "name_en": "Check-up",
        "duration_min": 30,
        "professional_ids": [ag.pro_id],
        "cabinet_ids": [ag.cab1],
        "reason": "Revisión (online)",
        **over,
    }


def settings_body(ag: Agenda, **over: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "horizon_days": 60,
        "min_notice_hours": 2,
        "buffer_min": 0,
        "max_pending": 2,
        "types": [type_body(ag)],
        **over,
    }


def put_settings(api: Any, ag: Agenda, **over: Any) -> dict[str, Any]:
    r = api.put("/booking/settings", settings_body(ag, **over), token=ag.token)
    assert r.status == 200, r.body
    return r.json()["data"]


@dataclass
class Booking:
    ag: Agenda
    type_id: str
    day: date  # a Tuesday two weeks ahead (inside the default hours)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> str:
        return f"{self.day.isoformat()}T10:00"


@pytest.fixture
def bk(api: Any, clinic: Any) -> Booking:
    ag = make_agenda(api, clinic)
    s = put_settings(api, ag)
    return Booking(ag, s["types"][0]["type_id"], ag.monday + timedelta(days=1), s)


def page_url(cid: str, **q: str) -> str:
    return f"/public/booking/{cid}" + (f"?{urlencode(q)}" if q else "")


def get_page(api: Any, cid: str, ip: str | None = None, **q: str) -> Any:
    return api.get(page_url(cid, **q), headers={"Accept-Language": "es"}, ip=ip)


def post_page(api: Any, cid: str, form: dict[str, str], ip: str | None = None) -> Any:
    return api.post(page_url(cid), raw=urlencode(form).encode(), headers=FORM, ip=ip)


def text(r: Any) -> str:
    return html.unescape(r.body.decode())


def hidden(r: Any) -> dict[str, str]:
    doc = r.body.decode()
    return {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', doc)
    }


def last_code(email: str) -> str:
    m = mails_to(email)[-1]
    body = m.body if isinstance(m.body, str) else str(m.body)
    return re.search(r"\b(\d{6})\b", body).group(1)


def ask_code(api: Any, b: Booking, email: str, ip: str | None = None, **form: str) -> Any:
    r = get_page(api, b.ag.clinic_id, ip=ip, type=b.type_id, start=b.start)
    assert r.status == 200, text(r)
    h = hidden(r)
    h["pow_nonce"] = abuse.solve(h["pow"], b.ag.clinic_id)
    return post_page(api, b.ag.clinic_id, {**h, "email": email, **form}, ip=ip)


def verify(api: Any, b: Booking, sent: Any, code: str, ip: str | None = None) -> Any:
    return post_page(api, b.ag.clinic_id, {**hidden(sent), "code": code}, ip=ip)


def new_patient_form(**over: str) -> dict[str, str]:
    return {
        "first_name": "Lucía",
        "last_name": "Online",
        "date_of_birth": "1990-04-02",
        "phone": "+34600111222",
        "privacy": "yes",
        "email_consent": "yes",
        **over,
    }


def book_new(api: Any, b: Booking, email: str | None = None, ip: str | None = None) -> Any:
    """The whole flow of a new patient: code, register, book. Returns the last answer."""
    email = email or unique_email("online")
    sent = ask_code(api, b, email, ip=ip)
    assert sent.status == 200, text(sent)
    reg = verify(api, b, sent, last_code(email), ip=ip)
    assert reg.status == 200, text(reg)
    return post_page(api, b.ag.clinic_id, {**hidden(reg), **new_patient_form()}, ip=ip)
