"""The audit log: append-only, per clinic.

Each entry records who (user, device or patient link), what (action, entity type and id),
when, from where (ip, user agent) and the before/after of the fields that changed, with PHI
values masked. Entries are written with ``attribute_not_exists`` and no code path updates or
deletes one.

Keys (ADR 0015): every filter of ``GET /audit`` is one partition, newest first by ulid, the
date range a sort-key range; nothing is read to be discarded.

* the whole log: ``PK = C#<clinic>``, ``SK = AUDIT#<ulid>``;
* by user: GSI1 ``C#<clinic>#AUDIT#U#<actor id>`` / ulid;
* by entity: GSI2 ``C#<clinic>#AUDIT#E#<type>#<id>`` / ulid;
* by entity type: GSI3 ``C#<clinic>#AUDIT#T#<type>`` / ulid;
* by user within an entity type: GSI4 ``C#<clinic>#AUDIT#U#<actor id>#T#<type>`` / ulid.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import new_id, now

MASK = "***"
# Field names whose values are PHI or secrets: their change is recorded, never their value.
SENSITIVE_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "national_id",
        "whatsapp",
        "whatsapp_phone",
        "phone",
        "email",
        "date_of_birth",
        "address",
        "medical",
        "medical_history",
        "allergies",
        "medications",
        "conditions",
        "diseases",
        "notes",
        "access_token",
        "app_secret",
        "verify_token",
        "certificate",
        "certificate_password",
        "emergency_contact",
        "legal_guardian",
        "insurer",
    }
)


class AuditEntry(Item, discriminator="AuditEntry"):
    audit_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_type = UnicodeAttribute()  # user | device | link | system
    actor_id = UnicodeAttribute()
    actor_name = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    changes = JSONAttribute(null=True)  # {field: {"before": ..., "after": ...}}


def index_keys(clinic_id: str, actor_id: str, entity_type: str, entity_id: str) -> dict[str, str]:
    """The partitions an entry is listed under (sort key: its ulid), one per filter of the
    audit log; :mod:`chalicelib.audit.service` builds its queries from the same names."""
    pk = clinic_pk(clinic_id)
    return {
        "GSI1PK": f"{pk}#AUDIT#U#{actor_id}",
        "GSI2PK": f"{pk}#AUDIT#E#{entity_type}#{entity_id}",
        "GSI3PK": f"{pk}#AUDIT#T#{entity_type}",
        "GSI4PK": f"{pk}#AUDIT#U#{actor_id}#T#{entity_type}",
    }


def _mask(field: str, value: Any) -> Any:
    if value is None:
        return None
    return MASK if field in SENSITIVE_FIELDS else value


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Changed fields between two flat dicts, with sensitive values masked."""
    before, after = before or {}, after or {}
    out = {}
    for field in sorted(set(before) | set(after)):
        b, a = before.get(field), after.get(field)
        if b != a:
            out[field] = {"before": _mask(field, b), "after": _mask(field, a)}
    return out


def entry(
    clinic_id: str,
    actor: dict[str, Any],
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Build (not save) an entry, so it can join the transaction of the change it records."""
    aid = new_id()
    pk = clinic_pk(clinic_id)
    keys = index_keys(clinic_id, actor.get("id", "system"), entity_type, entity_id)
    return AuditEntry(
        PK=pk,
        SK=f"AUDIT#{aid}",
        **keys,
        GSI1SK=aid,
        GSI2SK=aid,
        GSI3SK=aid,
        GSI4SK=aid,
        audit_id=aid,
        at=now(),
        actor_type=actor.get("type", "system"),
        actor_id=actor.get("id", "system"),
        actor_name=actor.get("name"),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        ip=actor.get("ip"),
        user_agent=(actor.get("user_agent") or "")[:512] or None,
        changes=diff(before, after) or None,
    )


def record(*args: Any, **kwargs: Any) -> AuditEntry:
    """Write an entry now (append-only: the write fails rather than overwrite)."""
    e = entry(*args, **kwargs)
    e.save(condition=AuditEntry.SK.does_not_exist())
    return e
