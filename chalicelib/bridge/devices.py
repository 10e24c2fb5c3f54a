"""Bridge devices, staff side: register (under the plan's limit), list, read with recent
uploads, edit, rotate the key (with a grace for the old one) and revoke; and the device's own
heartbeat. Every staff action is audited; the key is returned once and never stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.bridge import keys, schemas
from chalicelib.bridge.models import Device, DeviceCount, DeviceKey
from chalicelib.core import audit
from chalicelib.core.api import DevicePrincipal, Principal, device_key_invalid
from chalicelib.core.db import Item, clinic_pk, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.imaging import inbox
from chalicelib.imaging.models import Image
from chalicelib.imaging.service import effective_settings

PLAN_DEVICE_LIMITS = {"free": 2, "pro": 10, "pro_plus": 50}
"""Active devices a clinic may have on each plan (revoked ones do not count)."""
RECENT_UPLOADS = 20
STABLE_SECONDS = 3
"""What the Bridge is told: a file is complete once its size and time have not changed for
this long."""


# --- loading and shaping -------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound(
        tr(
            "No Bridge device with that id in this clinic.",
            "No hay ningún dispositivo Bridge con ese id en esta clínica.",
        ),
        code="DEVICE_NOT_FOUND",
    )


def load(clinic_id: str, device_id: str) -> Device:
    try:
        return Device.get(*Device.key(clinic_id, device_id), consistent_read=True)
    except DoesNotExist as exc:
        raise _not_found() from exc


def to_out(d: Device) -> schemas.DeviceOut:
    return schemas.DeviceOut(
        device_id=d.device_id,
        name=d.name,
        cabinet_id=d.cabinet_id,
        defaults=schemas.DeviceDefaults.model_validate(d.defaults),
        folders=list(d.folders or []),
        patterns=list(d.patterns or []),
        status=d.status,  # type: ignore[arg-type]
        key_prefix=d.key_prefix,
        previous_key_prefix=d.previous_key_prefix if _in_grace(d) else None,
        previous_key_expires_at=d.previous_key_expires_at if _in_grace(d) else None,
        created_at=d.created_at,
        created_by=d.created_by,
        revoked_at=d.revoked_at,
        last_seen_at=d.last_seen_at,
        last_ip=d.last_ip,
        client_version=d.client_version,
        last_upload_at=d.last_upload_at,
    )


def _in_grace(d: Device) -> bool:
    exp = d.previous_key_expires_at
    return bool(d.previous_key_prefix and exp and exp > now() and d.status == "active")


def _fields(d: Device) -> dict[str, Any]:
    """The editable fields, for audit diffs."""
    return {
        "name": d.name,
        "cabinet_id": d.cabinet_id,
        "defaults": d.defaults,
        "folders": list(d.folders or []),
        "patterns": list(d.patterns or []),
    }


def _check_cabinet(clinic_id: str, cabinet_id: str | None) -> None:
    """The cabinet must be one of this clinic's (422 on the field otherwise)."""
    if not cabinet_id:
        return
    from chalicelib.agenda.models import Cabinet  # noqa: PLC0415 - only when one is sent

    try:
        Cabinet.get(*Cabinet.key(clinic_id, cabinet_id))
    except DoesNotExist as exc:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[
                {
                    "field": "cabinet_id",
                    "message": tr(
                        "is not a cabinet of this clinic", "no es un gabinete de esta clínica"
                    ),
                }
            ],
        ) from exc


# --- staff side ----------------------------------------------------------------------------


def list_devices(principal: Principal) -> list[schemas.DeviceOut]:
    found = Device.query(clinic_pk(principal.clinic_id), Device.SK.startswith(Device.PREFIX))
    return [to_out(d) for d in found if isinstance(d, Device)]


def get(principal: Principal, device_id: str) -> schemas.DeviceDetailOut:
    d = load(principal.clinic_id, device_id)
    recent = Item.gsi3.query(
        Image.by_device_pk(principal.clinic_id, device_id),
        scan_index_forward=False,
        limit=RECENT_UPLOADS,
    )
    uploads = [inbox.capture_out(principal, i) for i in recent if isinstance(i, Image)]
    return schemas.DeviceDetailOut(**to_out(d).model_dump(), recent_uploads=uploads)


def _plan_limit(plan: str) -> int:
    return PLAN_DEVICE_LIMITS.get(plan, PLAN_DEVICE_LIMITS["free"])


def register(principal: Principal, data: schemas.DeviceIn) -> schemas.DeviceKeyOut:
    cid = principal.clinic_id
    _check_cabinet(cid, data.cabinet_id)
    limit = _plan_limit(principal.plan)
    device_id = new_id()
    prefix, key = keys.new_key()
    at = now()
    d = Device(
        *Device.key(cid, device_id),
        device_id=device_id,
        name=data.name,
        cabinet_id=data.cabinet_id,
        defaults=data.defaults.model_dump(exclude_none=True),
        folders=data.folders or [],
        patterns=data.patterns if data.patterns is not None else schemas.DEFAULT_PATTERNS,
        status="active",
        key_prefix=prefix,
        created_at=at,
        created_by=principal.user_id,
        updated_at=at,
    )
    try:
        with transaction() as tx:
            tx.update(
                DeviceCount(*DeviceCount.key(cid)),
                actions=[DeviceCount.active.add(1)],
                condition=DeviceCount.active.does_not_exist() | (DeviceCount.active < limit),
            )
            tx.save(d, condition=Device.SK.does_not_exist())
            tx.save(
                keys.lookup_item(prefix, cid, device_id, key),
                condition=DeviceKey.PK.does_not_exist(),
            )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "bridge.device.registered",
                    "bridge_device",
                    device_id,
                    after={**_fields(d), "key_prefix": prefix},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                f"Your plan allows {limit} active Bridge device(s): revoke one you no longer "
                "use, or upgrade the plan.",
                f"Tu plan permite {limit} dispositivo(s) Bridge activo(s): revoca uno que ya "
                "no uses, o mejora el plan.",
            ),
            code="PLAN_LIMIT",
            data={"limit": limit},
        ) from exc
    return schemas.DeviceKeyOut(device=to_out(d), api_key=key)


def update(principal: Principal, device_id: str, data: schemas.DeviceUpdate) -> schemas.DeviceOut:
    cid = principal.clinic_id
    d = load(cid, device_id)
    sent = data.model_dump(exclude_unset=True)
    if "cabinet_id" in sent:
        _check_cabinet(cid, sent["cabinet_id"])
    before = _fields(d)
    actions = []
    for field, value in sent.items():
        attr = getattr(Device, field)
        if field == "defaults":
            value = data.defaults.model_dump(exclude_none=True) if data.defaults else None
        setattr(d, field, value)
        actions.append(attr.set(value) if value is not None else attr.remove())
    if not actions:
        return to_out(d)
    d.updated_at = now()
    actions.append(Device.updated_at.set(d.updated_at))
    with transaction() as tx:
        tx.update(d, actions=actions, condition=Device.SK.exists())
        tx.save(
            audit.entry(
                cid,
                principal.actor,
                "bridge.device.updated",
                "bridge_device",
                device_id,
                before=before,
                after=_fields(d),
            )
        )
    return to_out(load(cid, device_id))


def _revoked_conflict() -> Conflict:
    return Conflict(
        tr(
            "This device is revoked; register a new one instead.",
            "Este dispositivo está revocado; registra uno nuevo.",
        ),
        code="DEVICE_REVOKED",
    )


def rotate(principal: Principal, device_id: str, grace_hours: int) -> schemas.DeviceKeyOut:
    """A new key; the current one keeps working for ``grace_hours`` (0: stops now). A key
    still in the grace of an earlier rotation stops now."""
    cid = principal.clinic_id
    d = load(cid, device_id)
    if d.status != "active":
        raise _revoked_conflict()
    prefix, key = keys.new_key()
    at = now()
    expires = at + timedelta(hours=grace_hours)
    old, older = d.key_prefix, d.previous_key_prefix
    try:
        with transaction() as tx:
            tx.update(
                d,
                actions=[
                    Device.key_prefix.set(prefix),
                    Device.previous_key_prefix.set(old)
                    if grace_hours and old
                    else Device.previous_key_prefix.remove(),
                    Device.previous_key_expires_at.set(expires)
                    if grace_hours and old
                    else Device.previous_key_expires_at.remove(),
                    Device.updated_at.set(at),
                ],
                condition=(Device.status == "active") & (Device.key_prefix == old),
            )
            tx.save(
                keys.lookup_item(prefix, cid, device_id, key),
                condition=DeviceKey.PK.does_not_exist(),
            )
            if old and grace_hours:
                tx.update(
                    DeviceKey(*DeviceKey.key(old)),
                    actions=[DeviceKey.expires_at.set(expires + timedelta(days=1))],
                    condition=DeviceKey.PK.exists(),
                )
            elif old:
                tx.delete(DeviceKey(*DeviceKey.key(old)))
            if older and older != old:
                tx.delete(DeviceKey(*DeviceKey.key(older)))
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "bridge.device.key_rotated",
                    "bridge_device",
                    device_id,
                    before={"key_prefix": old, "previous_key_prefix": older},
                    after={
                        "key_prefix": prefix,
                        "previous_key_prefix": old if grace_hours else None,
                        "grace_hours": grace_hours,
                    },
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The device changed meanwhile (rotated or revoked); reload it.",
                "El dispositivo ha cambiado mientras tanto (rotado o revocado); vuelve a cargarlo.",
            ),
            code="DEVICE_CHANGED",
        ) from exc
    return schemas.DeviceKeyOut(device=to_out(load(cid, device_id)), api_key=key)


def revoke(principal: Principal, device_id: str) -> schemas.DeviceOut:
    """Revoke the device: its keys stop working on the next call. Revoking twice is a no-op."""
    cid = principal.clinic_id
    d = load(cid, device_id)
    if d.status == "revoked":
        return to_out(d)
    at = now()
    try:
        with transaction() as tx:
            tx.update(
                d,
                actions=[
                    Device.status.set("revoked"),
                    Device.revoked_at.set(at),
                    Device.revoked_by.set(principal.user_id),
                    Device.previous_key_prefix.remove(),
                    Device.previous_key_expires_at.remove(),
                    Device.updated_at.set(at),
                ],
                condition=Device.status == "active",
            )
            tx.update(
                DeviceCount(*DeviceCount.key(cid)),
                actions=[DeviceCount.active.add(-1)],
                condition=DeviceCount.active > 0,
            )
            for prefix in {p for p in (d.key_prefix, d.previous_key_prefix) if p}:
                tx.delete(DeviceKey(*DeviceKey.key(prefix)))
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "bridge.device.revoked",
                    "bridge_device",
                    device_id,
                    before={"status": "active"},
                    after={"status": "revoked"},
                )
            )
    except TransactWriteError as exc:
        raise _revoked_conflict() from exc
    return to_out(load(cid, device_id))


# --- the device's own calls ----------------------------------------------------------------


def config_of(d: Device) -> schemas.DeviceConfig:
    limits = effective_settings(d.PK[2:])
    return schemas.DeviceConfig(
        folders=list(d.folders or []),
        patterns=list(d.patterns or []),
        defaults=schemas.DeviceDefaults.model_validate(d.defaults),
        cabinet_id=d.cabinet_id,
        stable_seconds=STABLE_SECONDS,
        max_bytes=schemas.MaxBytes(
            photo=limits.max_bytes("photo"),
            xray=limits.max_bytes("xray"),
            dicom=limits.max_bytes("dicom"),
        ),
    )


def heartbeat(device: DevicePrincipal, data: schemas.HeartbeatIn) -> schemas.HeartbeatOut:
    """Record that the device is alive (when, from where, which version) and send it its
    configuration and the server's time (the Bridge measures its clock skew with it)."""
    from chalicelib.identity.service import get_clinic  # noqa: PLC0415 - identity is heavy

    cid = device.clinic_id
    d = load(cid, device.device_id)
    at = now()
    changed = (d.client_version, d.hostname) != (data.client_version, data.hostname)
    actions = [
        Device.last_seen_at.set(at),
        Device.client_version.set(data.client_version),
    ]
    if device.ip:
        actions.append(Device.last_ip.set(device.ip))
    for attr, value in (
        (Device.hostname, data.hostname),
        (Device.queue_depth, data.queue_depth),
        (Device.last_error, data.last_error),
    ):
        actions.append(attr.set(value) if value is not None else attr.remove())
    try:
        with transaction() as tx:
            tx.update(d, actions=actions, condition=Device.status == "active")
            if changed:  # audited when the installation changes, not on every beat
                tx.save(
                    audit.entry(
                        cid,
                        device.actor,
                        "bridge.device.connected",
                        "bridge_device",
                        d.device_id,
                        before={"client_version": d.client_version, "hostname": d.hostname},
                        after={"client_version": data.client_version, "hostname": data.hostname},
                    )
                )
    except TransactWriteError as exc:  # revoked since the key was checked
        raise device_key_invalid() from exc
    return schemas.HeartbeatOut(
        device_id=d.device_id,
        device_name=d.name,
        clinic_name=get_clinic(cid).name,
        server_time=at,
        config=config_of(d),
        key_expires_at=device.key_expires_at,
    )
