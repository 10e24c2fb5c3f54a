"""Device keys: the lifecycle (register, use, rotate with a grace that ends, revoke), the one
401 for every bad key, keys and staff tokens each only on their own routes, the per-key rate
limit, and the permission to manage devices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.bridge import keys
from chalicelib.bridge.models import Device
from chalicelib.core.ids import now
from tests.integration.bridge.conftest import register
from tests.integration.conftest import add_member, signup

HB = {"client_version": "1.0.0", "hostname": "sensor-pc"}


def beat(api, key, **kw):
    return api.post("/bridge/device/heartbeat", HB, token=key, **kw)


def invalid(r) -> bool:
    return r.status == 401 and r.json()["code"] == "DEVICE_KEY_INVALID"


def test_register_shows_the_key_once_and_stores_only_its_hash(api, clinic, device):
    key, out = device["api_key"], device["device"]
    assert re.fullmatch(r"cbk_[a-z2-7]{12}\.[A-Za-z0-9_-]{43}", key)
    assert key.startswith(f"cbk_{out['key_prefix']}.")
    assert out["status"] == "active" and out["created_by"] == clinic.admin_id
    assert out["defaults"] == {"kind": "xray", "xray_type": None, "category": None}
    listed = api.get("/bridge/devices", token=clinic.admin_token).json()["data"]
    assert [d["device_id"] for d in listed] == [out["device_id"]]
    assert key not in api.get("/bridge/devices", token=clinic.admin_token).body.decode()
    detail = api.get(f"/bridge/devices/{out['device_id']}", token=clinic.admin_token)
    assert detail.status == 200 and key not in detail.body.decode()
    from chalicelib.bridge.models import DeviceKey

    stored = DeviceKey.get(*DeviceKey.key(out["key_prefix"]))
    assert stored.key_hash == keys.key_hash(key) and key.split(".")[1] not in str(
        stored.attribute_values
    )


def test_heartbeat_records_the_device_and_answers_its_config(api, clinic, device):
    r = beat(api, device["api_key"], ip="10.200.0.7")
    assert r.status == 200, r.body
    d = r.json()["data"]
    assert d["device_id"] == device["device"]["device_id"]
    assert d["clinic_name"] == clinic.name and d["key_expires_at"] is None
    assert d["config"]["defaults"]["kind"] == "xray"
    assert d["config"]["max_bytes"]["dicom"] > d["config"]["max_bytes"]["xray"] > 0
    assert "*.dcm" in d["config"]["patterns"] and d["config"]["stable_seconds"] > 0
    out = api.get(
        f"/bridge/devices/{device['device']['device_id']}", token=clinic.admin_token
    ).json()["data"]
    assert out["client_version"] == "1.0.0" and out["last_ip"] == "10.200.0.7"
    assert out["last_seen_at"]


def test_rotation_keeps_the_old_key_for_the_grace_then_refuses_it(api, clinic, device):
    did, old = device["device"]["device_id"], device["api_key"]
    r = api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": 2}, token=clinic.admin_token)
    assert r.status == 200, r.body
    new = r.json()["data"]["api_key"]
    out = r.json()["data"]["device"]
    assert new != old and out["previous_key_prefix"] == device["device"]["key_prefix"]
    assert beat(api, new).status == 200
    r = beat(api, old)
    assert r.status == 200 and r.json()["data"]["key_expires_at"]  # the Bridge is told
    # the grace ends
    d = Device.get(*Device.key(clinic.clinic_id, did))
    d.update(actions=[Device.previous_key_expires_at.set(now() - timedelta(seconds=1))])
    assert invalid(beat(api, old))
    assert beat(api, new).status == 200


def test_rotation_without_grace_stops_the_old_key_now(api, clinic, device):
    did, old = device["device"]["device_id"], device["api_key"]
    r = api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": 0}, token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["device"]["previous_key_prefix"] is None
    assert invalid(beat(api, old))
    assert beat(api, r.json()["data"]["api_key"]).status == 200


@pytest.mark.parametrize("grace", [-1, 169, "x"])
def test_rotation_grace_out_of_range_is_422(api, clinic, device, grace):
    did = device["device"]["device_id"]
    r = api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": grace}, token=clinic.admin_token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "grace_hours"


def test_revocation_takes_effect_on_the_next_call(api, clinic, device):
    did, key = device["device"]["device_id"], device["api_key"]
    r = api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": 24}, token=clinic.admin_token)
    new = r.json()["data"]["api_key"]
    assert beat(api, key).status == 200 and beat(api, new).status == 200
    r = api.post(f"/bridge/devices/{did}/revoke", token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["status"] == "revoked"
    assert r.json()["data"]["revoked_at"]
    assert invalid(beat(api, key)) and invalid(beat(api, new))
    r = api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": 1}, token=clinic.admin_token)
    assert r.status == 409
    # revoking again changes nothing
    assert api.post(f"/bridge/devices/{did}/revoke", token=clinic.admin_token).status == 200


def test_every_bad_key_gets_the_same_401(api, clinic, other_clinic, device):
    did, key = device["device"]["device_id"], device["api_key"]
    prefix, secret = key[4:].split(".")
    other = register(api, other_clinic.admin_token)
    # a lookup item that points at a device of another clinic (a forged or stale pointer)
    forged_prefix, forged_key = keys.new_key()
    keys.lookup_item(
        forged_prefix, clinic.clinic_id, other["device"]["device_id"], forged_key
    ).save()
    bad = [
        "cbk_",  # malformed
        "cbk_" + prefix,  # no secret
        key + "x",  # secret too long
        key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        f"cbk_{'a' * 12}.{secret}",  # unknown prefix
        f"cbk_{prefix.upper()}.{secret}",  # not the alphabet
        "cbk_" + "x" * 500,  # long
        forged_key,  # points at another clinic's device
    ]
    answers = set()
    for token in bad:
        r = beat(api, token, headers={"Accept-Language": "en"})
        assert invalid(r), (token, r.status, r.body)
        answers.add(r.body)
    assert len(answers) == 1  # nothing tells one case from another
    api.post(f"/bridge/devices/{did}/revoke", token=clinic.admin_token)
    assert beat(api, key).body in answers
    r = beat(api, bad[3], headers={"Accept-Language": "es"})
    assert invalid(r) and "clave del dispositivo" in r.json()["message"]


def test_too_many_bad_keys_from_an_address_is_429(api, device):
    for _ in range(keys.BAD_KEYS_PER_ADDRESS):
        assert invalid(beat(api, "cbk_nope", ip="10.201.0.1"))
    r = beat(api, device["api_key"], ip="10.201.0.1")
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert beat(api, device["api_key"], ip="10.201.0.2").status == 200


def test_a_staff_token_on_a_device_route_and_a_key_on_a_staff_route_are_401(api, clinic, device):
    import app as app_module
    from chalicelib.core.api import DEVICE

    device_specs = [s for r in app_module.ROUTERS for s in r.specs if s.permission == DEVICE]
    assert len(device_specs) == 4
    fake = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
    for s in device_specs:
        path = re.sub(r"\{[^}]+\}", fake, s.path)
        r = api.request(s.method, path, {} if s.body else None, token=clinic.admin_token)
        assert invalid(r), (s.path, r.status)
    for method, path in (
        ("GET", "/bridge/devices"),
        ("GET", "/bridge/inbox"),
        ("GET", "/patients"),
        ("GET", "/auth/me"),
        ("POST", f"/bridge/devices/{device['device']['device_id']}/revoke"),
    ):
        r = api.request(method, path, token=device["api_key"])
        assert r.status == 401, (path, r.status)
        assert r.json()["code"] == "INVALID_TOKEN"
    assert device["device"]["status"] == "active"
    d = api.get(f"/bridge/devices/{device['device']['device_id']}", token=clinic.admin_token)
    assert d.json()["data"]["status"] == "active"


def test_device_calls_are_rate_limited_per_key(api, clinic, device, monkeypatch):
    monkeypatch.setattr(keys, "DEVICE_CALLS_PER_MINUTE", 3)
    other = register(api, clinic.admin_token, name="Otro sensor")
    for _ in range(3):
        assert beat(api, device["api_key"]).status == 200
    r = beat(api, device["api_key"])
    assert r.status == 429 and 0 < int(r.headers["Retry-After"]) <= 60
    assert r.json()["code"] == "TOO_MANY_REQUESTS"
    assert beat(api, other["api_key"]).status == 200  # another key has its own allowance


def test_managing_devices_needs_the_permission(api, clinic, device):
    dentist = add_member(api, clinic, "dentist")
    did = device["device"]["device_id"]
    for method, path, body in (
        ("GET", "/bridge/devices", None),
        ("POST", "/bridge/devices", {"name": "x", "defaults": {"kind": "xray"}}),
        ("GET", f"/bridge/devices/{did}", None),
        ("PATCH", f"/bridge/devices/{did}", {"name": "y"}),
        ("POST", f"/bridge/devices/{did}/rotate", {"grace_hours": 1}),
        ("POST", f"/bridge/devices/{did}/revoke", None),
    ):
        r = api.request(method, path, body, token=dentist["token"])
        assert r.status == 403, (method, path, r.status)
        assert r.json()["data"]["permission"] == "bridge.devices.manage"
    # an admin can grant it to a role
    r = api.put(
        "/roles/dentist",
        {"grants": ["patients.*", "bridge.devices.manage"]},
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    assert api.get("/bridge/devices", token=dentist["token"]).status == 200


def test_every_device_action_is_audited(api, clinic, device):
    did = device["device"]["device_id"]
    t = clinic.admin_token
    api.patch(f"/bridge/devices/{did}", {"name": "Sensor 2"}, token=t)
    api.post(f"/bridge/devices/{did}/rotate", {"grace_hours": 1}, token=t)
    beat(api, device["api_key"])
    api.post(f"/bridge/devices/{did}/revoke", token=t)
    r = api.get(f"/audit?entity_type=bridge_device&entity_id={did}", token=t)
    actions = sorted(e["action"] for e in r.json()["data"]["items"])
    assert actions == sorted(
        [
            "bridge.device.registered",
            "bridge.device.updated",
            "bridge.device.key_rotated",
            "bridge.device.connected",
            "bridge.device.revoked",
        ]
    )
    assert device["api_key"] not in r.body.decode()


def test_the_plan_limits_active_devices(api):
    from chalicelib.bridge.devices import PLAN_DEVICE_LIMITS

    c = signup(api, "Clínica Pequeña")
    made = [register(api, c.admin_token, name=f"S{i}") for i in range(PLAN_DEVICE_LIMITS["free"])]
    r = api.post(
        "/bridge/devices", {"name": "one more", "defaults": {"kind": "xray"}}, token=c.admin_token
    )
    assert r.status == 409 and r.json()["code"] == "PLAN_LIMIT"
    did = made[0]["device"]["device_id"]
    assert api.post(f"/bridge/devices/{did}/revoke", token=c.admin_token).status == 200
    register(api, c.admin_token, name="replacement")  # a revoked one frees its place


def test_a_device_route_runs_with_the_credentials_of_the_keys_clinic(
    api, clinic, scoped_as, monkeypatch
):
    """ADR 0012: the key's global lookup names the clinic; the device, its touch and the
    route itself are read and written with that clinic's credentials only."""
    from chalicelib.core import scoping

    key = register(api, clinic.admin_token)["api_key"]
    touched: list[str | None] = []
    real = keys._touch
    monkeypatch.setattr(
        keys, "_touch", lambda d, ip: touched.append(scoping.current_clinic()) or real(d, ip)
    )
    scoped_as.clear()
    assert beat(api, key).status == 200
    assert touched == [clinic.clinic_id]  # already inside the scope while the key resolves
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
