"""Timeline entries: ``PK = C#<clinic>``, ``SK = PAT#<pid>#TL#<occurred_at>#<event_id>``.

Newest first is a reverse Query on the prefix. An event is written once per ``event_id``: the
entry and an :class:`EventSeen` guard (``SK = TLEVENT#<event_id>``) are put together, both
conditional, so a redelivery, even one whose ``occurred_at`` differs, changes nothing.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from chalicelib.core.db import Item, clinic_pk


def entry_key(clinic_id: str, patient_id: str, occurred_at: str, event_id: str) -> tuple[str, str]:
    return clinic_pk(clinic_id), f"{prefix(patient_id)}{occurred_at}#{event_id}"


def prefix(patient_id: str) -> str:
    return f"PAT#{patient_id}#TL#"


class TimelineEntry(Item, discriminator="TimelineEntry"):
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    actor = JSONAttribute(null=True)  # {type, id, name}: never ip or user agent
    data = JSONAttribute(null=True)  # the event's payload, PHI-named keys removed


def seen_key(clinic_id: str, event_id: str) -> tuple[str, str]:
    return clinic_pk(clinic_id), f"TLEVENT#{event_id}"


class EventSeen(Item, discriminator="TimelineEventSeen"):
    """This event id is on the timeline already (whatever its timestamp said)."""

    patient_id = UnicodeAttribute()
