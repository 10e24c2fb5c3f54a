"""Patient actions from a signed link or a WhatsApp quick-reply: confirm or cancel.

The appointment changes through the agenda's own service (transition rules, slot release, the
event and the audit entry all apply), acting as the link: ``{"type": "link", "id": link_id}``.
The link is spent first by a conditional write, so two clicks cannot both act.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.agenda import service as agenda
from chalicelib.agenda.schemas import StatusIn
from chalicelib.comms import service
from chalicelib.comms.models import PatientLink
from chalicelib.core.api import Principal
from chalicelib.core.errors import ApiError
from chalicelib.core.ids import now

TARGET = {"confirm": "confirmed", "cancel": "cancelled"}


@dataclass
class LinkPrincipal(Principal):
    """The acting principal of a patient link: no permissions, audited as the link."""

    link_id: str = ""
    via: str = "link"

    @property
    def actor(self) -> dict[str, Any]:
        return {
            "type": "link",
            "id": self.link_id,
            "name": f"patient ({self.via})",
            "ip": self.ip,
            "user_agent": self.user_agent,
        }


def principal_for(link: PatientLink, ip: str | None, ua: str | None, via: str) -> LinkPrincipal:
    return LinkPrincipal(
        user_id=f"link:{link.link_id}",
        clinic_id=link.clinic_id,
        session_id="",
        role="patient",
        plan="",
        permissions=frozenset(),
        ip=ip,
        user_agent=ua,
        link_id=link.link_id,
        via=via,
    )


class LinkProblem(Exception):  # noqa: N818 - a reason shown to the patient
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_link(link_id: str) -> PatientLink:
    try:
        return PatientLink.get(*PatientLink.key(link_id), consistent_read=True)
    except DoesNotExist as exc:
        raise LinkProblem("tampered") from exc


def perform(link: PatientLink, ip: str | None, ua: str | None, via: str = "link") -> str:
    """Spend the link and change the appointment. Returns the outcome (a TEXT key)."""
    try:
        link.update(
            actions=[PatientLink.used_at.set(now()), PatientLink.used_via.set(via)],
            condition=PatientLink.used_at.does_not_exist(),
        )
    except UpdateError as exc:
        if service.is_claimed_error(exc):
            raise LinkProblem("used") from exc
        raise
    who = principal_for(link, ip, ua, via)
    try:
        agenda.change_status(
            who,
            link.appointment_id,
            StatusIn(status=TARGET[link.action], reason=f"patient via {via}"),  # type: ignore[arg-type]
        )
    except ApiError as exc:
        # The appointment cannot take this change (already cancelled, past, ...): the link
        # stays spent, and the patient is told where things stand.
        current = (exc.data or {}).get("current_status") if isinstance(exc.data, dict) else None
        if current == TARGET[link.action]:
            return f"already_{link.action}"
        raise LinkProblem("not_possible") from exc
    except Exception:
        # Our failure, not the patient's: give the link back so they can try again.
        link.update(actions=[PatientLink.used_at.remove(), PatientLink.used_via.remove()])
        raise
    return f"done_{link.action}"
