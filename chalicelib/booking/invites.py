"""Booking invitations: a signed link that opens the clinic's public booking page with the
patient already identified (the link reached them on a channel they consented to, which is
proof enough, as for the appointment confirm/cancel links of ADR 0701).

Recalls and follow-ups call :func:`invite_url`; the booking page calls :func:`verify_invite`.
The token is a :class:`~chalicelib.core.links.LinkSigner` token of purpose ``booking-invite``
whose subject is the patient; it can be opened many times until it expires (the booking it
leads to is what counts). ``type_id`` (an online appointment type) and ``ref`` (what sent it,
e.g. ``recall:<recall_id>``) ride as plain query parameters: they only preselect, they grant
nothing.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from chalicelib.core.config import settings
from chalicelib.core.ids import new_id
from chalicelib.core.links import InvalidLink, LinkClaims, LinkSigner

INVITES = LinkSigner("booking-invite", ("book",))
DEFAULT_DAYS = 30


def booking_page_url(clinic_id: str) -> str:
    """The clinic's public booking page (served by the API)."""
    return f"{settings().app_url}/api/v1/public/booking/{clinic_id}"


def invite_url(
    clinic_id: str,
    patient_id: str,
    *,
    type_id: str | None = None,
    ref: str | None = None,
    days: int = DEFAULT_DAYS,
) -> str:
    """A link to the booking page that identifies ``patient_id`` for ``days`` days."""
    token = INVITES.sign(new_id(), "book", patient_id, int(time.time()) + days * 86400)
    query = {"invite": token}
    if type_id:
        query["type"] = type_id
    if ref:
        query["ref"] = ref
    return f"{booking_page_url(clinic_id)}?{urlencode(query)}"


def verify_invite(token: str) -> LinkClaims:
    """The claims (``subject_id`` is the patient) of a genuine, unexpired invitation;
    :class:`InvalidLink` otherwise. The caller checks the patient belongs to the page's clinic
    and is not archived."""
    return INVITES.verify(token)


__all__ = ["InvalidLink", "booking_page_url", "invite_url", "verify_invite"]
