"""Routes: Bridge devices (staff side), the device API and the inbox of unassigned captures.

The device API's routes declare the ``DEVICE`` permission: only a device key
(``Authorization: Bearer cbk_...``) is accepted there, and nothing else accepts one. Importing
this module installs the device resolver (:func:`chalicelib.bridge.keys.resolve_device`).
"""

from __future__ import annotations

from typing import Any

from chalicelib.bridge import captures, devices, keys, schemas
from chalicelib.core import api
from chalicelib.core.api import DEVICE, Page, Req, Router
from chalicelib.imaging import inbox
from chalicelib.imaging import schemas as imaging

router = Router("bridge")
r = router.route
api.set_device_resolver(keys.resolve_device)

MANAGE = "bridge.devices.manage"
DEVICES = ("bridge devices",)
DEVICE_API = ("bridge device API",)
INBOX = ("bridge inbox",)


# --- devices (staff) -----------------------------------------------------------------------


@r(
    "/bridge/devices",
    "GET",
    permission=MANAGE,
    response=list[schemas.DeviceOut],
    summary="The clinic's Bridge devices",
    tags=DEVICES,
)
def list_bridge_devices(req: Req) -> list[schemas.DeviceOut]:
    return devices.list_devices(req.user)


@r(
    "/bridge/devices",
    "POST",
    permission=MANAGE,
    body=schemas.DeviceIn,
    response=schemas.DeviceKeyOut,
    status=201,
    summary="Register a Bridge device; its API key is in the answer, shown once",
    tags=DEVICES,
)
def register_bridge_device(req: Req) -> schemas.DeviceKeyOut:
    return devices.register(req.user, req.body)


@r(
    "/bridge/devices/{device_id}",
    "GET",
    permission=MANAGE,
    response=schemas.DeviceDetailOut,
    summary="A Bridge device, with its last 20 uploads",
    tags=DEVICES,
)
def get_bridge_device(req: Req, device_id: str) -> schemas.DeviceDetailOut:
    return devices.get(req.user, device_id)


@r(
    "/bridge/devices/{device_id}",
    "PATCH",
    permission=MANAGE,
    body=schemas.DeviceUpdate,
    response=schemas.DeviceOut,
    summary="Edit a Bridge device's name, cabinet, defaults, folders or patterns",
    tags=DEVICES,
)
def update_bridge_device(req: Req, device_id: str) -> schemas.DeviceOut:
    return devices.update(req.user, device_id, req.body)


@r(
    "/bridge/devices/{device_id}/rotate",
    "POST",
    permission=MANAGE,
    body=schemas.RotateIn,
    response=schemas.DeviceKeyOut,
    summary="A new API key (shown once); the old one works for grace_hours more",
    tags=DEVICES,
)
def rotate_bridge_device_key(req: Req, device_id: str) -> schemas.DeviceKeyOut:
    return devices.rotate(req.user, device_id, req.body.grace_hours)


@r(
    "/bridge/devices/{device_id}/revoke",
    "POST",
    permission=MANAGE,
    response=schemas.DeviceOut,
    summary="Revoke a Bridge device: its keys stop working on the next call",
    tags=DEVICES,
)
def revoke_bridge_device(req: Req, device_id: str) -> schemas.DeviceOut:
    return devices.revoke(req.user, device_id)


# --- the device API ------------------------------------------------------------------------


@r(
    "/bridge/device/heartbeat",
    "POST",
    permission=DEVICE,
    body=schemas.HeartbeatIn,
    response=schemas.HeartbeatOut,
    summary="(Device key) I am alive: records version and address; answers config and time",
    tags=DEVICE_API,
)
def bridge_heartbeat(req: Req) -> schemas.HeartbeatOut:
    return devices.heartbeat(req.device, req.body)


@r(
    "/bridge/device/captures",
    "POST",
    permission=DEVICE,
    body=schemas.CaptureIn,
    response=schemas.CaptureUploadOut,
    status=201,
    summary="(Device key) Request an upload: 201 with a presigned POST; 200 when the same "
    "bytes were already received (duplicate, or a fresh POST to resume a pending one)",
    tags=DEVICE_API,
)
def request_bridge_capture(req: Req) -> Any:
    return captures.request(req.device, req.body)


@r(
    "/bridge/device/captures/{image_id}/uploaded",
    "POST",
    permission=DEVICE,
    body=schemas.UploadedIn,
    response=schemas.CaptureStatusBrief,
    summary="(Device key) Report how the upload went",
    tags=DEVICE_API,
)
def report_bridge_upload(req: Req, image_id: str) -> schemas.CaptureStatusBrief:
    return captures.reported(req.device, image_id, req.body)


@r(
    "/bridge/device/captures/{image_id}",
    "GET",
    permission=DEVICE,
    response=schemas.CaptureStatusOut,
    summary="(Device key) A capture's status (this device's captures only)",
    tags=DEVICE_API,
)
def get_bridge_capture(req: Req, image_id: str) -> schemas.CaptureStatusOut:
    return captures.status(req.device, image_id)


# --- the inbox -----------------------------------------------------------------------------


@r(
    "/bridge/inbox",
    "GET",
    permission="imaging.images.read",
    query=imaging.InboxQuery,
    response=list[imaging.CaptureOut],
    paged=True,
    summary="The inbox of unassigned captures, newest first",
    tags=INBOX,
)
def list_bridge_inbox(req: Req) -> Page:
    return inbox.list_inbox(req.user, req.query)


@r(
    "/bridge/inbox/{image_id}/assign",
    "POST",
    permission="imaging.xrays.write",
    body=imaging.AssignIn,
    response=imaging.ImageOut,
    summary="Assign a capture (and the rest of its DICOM study in the inbox) to a patient",
    tags=INBOX,
)
def assign_bridge_capture(req: Req, image_id: str) -> imaging.ImageOut:
    return inbox.assign(req.user, image_id, req.body.patient_id)


@r(
    "/bridge/inbox/{image_id}",
    "DELETE",
    permission="imaging.xrays.write",
    status=204,
    summary="Discard a capture from the inbox (soft delete, audited)",
    tags=INBOX,
)
def discard_bridge_capture(req: Req, image_id: str) -> None:
    inbox.discard(req.user, image_id)
