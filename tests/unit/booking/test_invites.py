"""Booking invitations (chalicelib.booking.invites): the link recalls and follow-ups send opens
the clinic's booking page with the patient identified; it verifies only as a booking invite,
only untampered and only until it expires. No AWS: the key ring is an in-memory fake."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.booking import invites
from chalicelib.comms.service import LINKS as APPOINTMENT_LINKS
from chalicelib.core import keys
from chalicelib.core.links import InvalidLink

CLINIC = "01JQ0000000000000000000000"
PATIENT = "01JQ3333333333333333333333"


@pytest.fixture(autouse=True)
def ring(monkeypatch):
    monkeypatch.setattr(
        keys, "link_keys", lambda: keys.KeyRing(active="k1", keys={"k1": b"\1" * 32})
    )


def _token(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)


def test_the_invite_opens_the_clinics_page_and_names_the_patient():
    path, query = _token(invites.invite_url(CLINIC, PATIENT, type_id="checkup", ref="recall:1"))
    assert path == f"/api/v1/public/booking/{CLINIC}"
    assert query["type"] == ["checkup"] and query["ref"] == ["recall:1"]
    claims = invites.verify_invite(query["invite"][0])
    assert claims.subject_id == PATIENT and claims.action == "book"


def test_a_tampered_expired_or_foreign_token_is_refused():
    token = _token(invites.invite_url(CLINIC, PATIENT, days=1))[1]["invite"][0]
    other = "01JQ4444444444444444444444"
    with pytest.raises(InvalidLink, match="tampered"):
        invites.verify_invite(token.replace(PATIENT, other))
    with pytest.raises(InvalidLink, match="expired"):
        invites.INVITES.verify(token, at=10**11)
    appointment_token = APPOINTMENT_LINKS.sign(other, "confirm", PATIENT, 2_000_000_000)
    with pytest.raises(InvalidLink):
        invites.verify_invite(appointment_token)
