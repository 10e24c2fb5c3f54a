"""Bridge fixtures: devices registered through the API, a device-key client, patients, and the
imaging fixtures (presigned uploads to moto S3, the image worker driven by the real S3 ->
EventBridge -> SQS delivery)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.imaging.conftest import Worker, upload, worker  # noqa: F401 - fixture
from tests.integration.patients.helpers import create_patient

__all__ = ["Worker", "upload"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def device_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Sensor gabinete 1", "defaults": {"kind": "xray"}}
    body.update(over)
    return body


def register(api: Any, token: str, **over: Any) -> dict[str, Any]:
    r = api.post("/bridge/devices", device_body(**over), token=token)
    assert r.status == 201, r.body
    return r.json()["data"]


def capture_body(data: bytes, filename: str = "captura.png", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "filename": filename,
        "size": len(data),
        "sha256": sha(data),
        "content_type": "image/png",
    }
    body.update(over)
    return body


@pytest.fixture
def device(api: Any, clinic: Any) -> dict[str, Any]:
    """A registered device: ``{"device": DeviceOut, "api_key": "cbk_..."}``."""
    return register(api, clinic.admin_token)


@pytest.fixture
def capture(api: Any, device: dict[str, Any]) -> Callable[..., Any]:
    """Request a capture with the device's key; returns the raw response."""

    def go(data: bytes, *, key: str | None = None, **over: Any) -> Any:
        return api.post(
            "/bridge/device/captures", capture_body(data, **over), token=key or device["api_key"]
        )

    return go


@pytest.fixture
def lucia(api: Any, clinic: Any) -> dict[str, Any]:
    return create_patient(
        api,
        clinic.admin_token,
        first_name="Lucía",
        last_name="Pérez",
        second_last_name="Gómez",
        date_of_birth="1985-03-12",
        national_id={"type": "dni", "number": "12345678Z"},
    )
