"""Bridge items. Keys:

| item | PK | SK |
|---|---|---|
| Device | C#<cid> | BRIDGE#DEV#<device id> |
| DeviceCount | C#<cid> | BRIDGE#COUNT |
| DeviceKey (global lookup) | DEVKEY#<key prefix> | DEVKEY |
| CaptureDigest (per clinic, in imaging) | C#<cid> | CAPSHA#<sha256> |

* A device key is ``cbk_<prefix>.<secret>``; the global ``DeviceKey`` item found by its prefix
  (one consistent GetItem, never a scan) names the clinic and the device and holds only the
  SHA-256 of the whole key. The device item says which prefix is current and which previous
  one still works until when (rotation grace); revoking marks the device and deletes its key
  items, so the next call fails.
* ``DeviceCount`` counts a clinic's active devices; registering increments it under the plan's
  limit with a condition, in the same transaction, so concurrent registrations cannot pass it.
* The SHA-256 dedupe item of captures lives with the images
  (:class:`chalicelib.imaging.models.CaptureDigest`, re-exported here): deleting an image frees
  it, and imaging must not import this module.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk
from chalicelib.imaging.models import CaptureDigest

__all__ = ["CaptureDigest", "Device", "DeviceCount", "DeviceKey"]


class Device(Item, discriminator="BridgeDevice"):
    device_id = UnicodeAttribute()
    name = UnicodeAttribute()
    cabinet_id = UnicodeAttribute(null=True)
    defaults = JSONAttribute()  # {"kind", "xray_type", "category"}
    folders = ListAttribute(of=UnicodeAttribute, null=True)
    patterns = ListAttribute(of=UnicodeAttribute, null=True)
    status = UnicodeAttribute(default="active")  # active | revoked
    key_prefix = UnicodeAttribute(null=True)
    previous_key_prefix = UnicodeAttribute(null=True)
    previous_key_expires_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    last_seen_at = UTCDateTimeAttribute(null=True)
    last_ip = UnicodeAttribute(null=True)
    client_version = UnicodeAttribute(null=True)
    hostname = UnicodeAttribute(null=True)
    queue_depth = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    last_upload_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, device_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BRIDGE#DEV#{device_id}"

    PREFIX = "BRIDGE#DEV#"


class DeviceCount(Item, discriminator="BridgeDeviceCount"):
    active = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "BRIDGE#COUNT"


class DeviceKey(Item, discriminator="BridgeDeviceKey"):
    """The global lookup of a device key by its prefix. ``expires_at`` (TTL) is set on a
    rotated-out key: DynamoDB removes it some time after its grace ends; verification checks
    the device's own expiry, never the TTL."""

    clinic_id = UnicodeAttribute()
    device_id = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(prefix: str) -> tuple[str, str]:
        return f"DEVKEY#{prefix}", "DEVKEY"
