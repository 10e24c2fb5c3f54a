"""Erasure reaches the modules built beside it (ADR 1405): a patient's recalls and follow-ups
and the privacy notice they accepted when booking online are erased with what has no duty to
keep; from the request on, a booking invitation no longer identifies them and no recall
message reaches them; the access export lists their recalls."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from chalicelib.booking import invites
from chalicelib.booking import service as booking
from chalicelib.booking.models import BookingPrivacy
from chalicelib.comms import service as comms
from chalicelib.core.ids import now
from chalicelib.core.links import InvalidLink
from chalicelib.identity.models import Clinic
from chalicelib.patients import service as patients
from chalicelib.recalls.models import Recall
from tests.integration.gdpr.erasure_helpers import deliver, requested
from tests.integration.gdpr.test_erasure import new_patient, preview, request, rows
from tests.integration.recalls.conftest import Desk, today


def _page(cid: str) -> booking.Context:
    """The booking page's context (online booking need not be on for an invitation's check)."""
    clinic = Clinic.get(*Clinic.key(cid))
    return booking.Context(clinic, booking.load_settings(cid), ZoneInfo(clinic.time_zone))


def test_recalls_and_booking_records_go_and_a_blocked_patient_is_reached_by_nothing(
    api, clinic, published
):
    cid = clinic.clinic_id
    desk = Desk(api, clinic.admin_token, cid)
    pid = new_patient(api, clinic)["patient_id"]
    desk.consent(pid)
    rule = desk.checkup_rule()
    desk.call("put", f"/patients/{pid}/recalls/{rule}", {"due": str(today())})
    BookingPrivacy(
        *BookingPrivacy.key(cid, pid),
        patient_id=pid,
        accepted_at=now(),
        text_version="2026-01",
        ip="192.0.2.1",
    ).save()
    invite = parse_qs(urlsplit(invites.invite_url(cid, pid)).query)["invite"][0]
    assert booking.from_invite(_page(cid), invite).patient_id == pid
    assert comms.route_for(cid, patients.load(cid, pid), ["email"])[0] is not None

    k = rows(preview(api, clinic.admin_token, pid))
    assert k["recalls"]["action"] == "erase" and k["recalls"]["count"] == 1
    assert k["online_booking"]["action"] == "erase" and k["online_booking"]["count"] == 1

    request(api, clinic.admin_token, pid)
    # Blocked at once, before the worker runs: the invitation and the channels are closed.
    with pytest.raises(InvalidLink):
        booking.from_invite(_page(cid), invite)
    assert comms.route_for(cid, patients.load(cid, pid), ["email"]) == (None, "blocked")

    assert deliver(requested(published, pid)) == {"batchItemFailures": []}
    assert list(Recall.query(f"C#{cid}", Recall.SK.startswith(f"PAT#{pid}#RECALL#"))) == []
    assert (
        BookingPrivacy.count(
            *BookingPrivacy.key(cid, pid)[:1], f"BOOKING#PRIVACY#{pid}" == BookingPrivacy.SK
        )
        == 0
    )
    report = rows(preview(api, clinic.admin_token, pid))
    assert report["recalls"]["action"] == "erased"
    assert report["online_booking"]["action"] == "erased"
