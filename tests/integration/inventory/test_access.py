"""Every inventory route: its permission (inventory.read to read, inventory.write to change,
and the plan that includes them), and cross-tenant ids (another clinic's ids in paths and
bodies answer 404, indistinguishable from missing ones)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient

READS = [
    ("GET", "/inventory/items", None),
    ("GET", "/inventory/items/{id}", None),
    ("GET", "/inventory/items/{id}/movements", None),
    ("GET", "/inventory/expiring", None),
]
WRITES = [
    ("POST", "/inventory/items", {"name": "Guantes", "sku": "NEW-1", "unit": "caja"}),
    ("PATCH", "/inventory/items/{id}", {"name": "Guantes L"}),
    ("POST", "/inventory/items/{id}/receive", {"quantity": 1}),
    ("POST", "/inventory/items/{id}/consume", {"quantity": 1}),
    ("POST", "/inventory/items/{id}/adjust", {"delta": 1, "reason": "Recuento"}),
]


def _call(api, method, path, body, token):
    return api.request(method, path, body, token=token)


def test_receptionist_reads_but_does_not_write(api, clinic, inv):
    iid = inv.item("Guantes", sku="GLV-A")["item_id"]
    inv.receive(iid, 5)
    rec = add_member(api, clinic, "receptionist", "Rosa")
    for method, path, body in READS:
        r = _call(api, method, path.format(id=iid), body, rec["token"])
        assert r.status == 200, (path, r.body)
    for method, path, body in WRITES:
        r = _call(api, method, path.format(id=iid), body, rec["token"])
        assert r.status == 403, (path, r.body)
    assert inv.get(f"/inventory/items/{iid}")["stock"] == 5


def test_assistant_writes(api, clinic, inv):
    asst = add_member(api, clinic, "assistant", "Alba")
    iid = inv.item("Guantes", sku="GLV-B")["item_id"]
    r = api.post(f"/inventory/items/{iid}/receive", {"quantity": 2}, token=asst["token"])
    assert r.status == 201, r.body


def test_plan_without_inventory_is_refused(api, clinic):
    # a fresh clinic is on the free plan: no inventory.* whatever the role
    r = api.get("/inventory/items", token=clinic.admin_token)
    assert r.status == 403


@pytest.mark.parametrize("method,path,body", READS[1:3] + WRITES[1:])
def test_another_clinics_item_is_a_404(api, inv, other_inv, method, path, body):
    theirs = other_inv.item("Guantes", sku="GLV-C")["item_id"]
    other_inv.receive(theirs, 5)
    r = _call(api, method, path.format(id=theirs), body, inv.token)
    assert r.status == 404, r.body
    missing = _call(api, method, path.format(id="01HZZZZZZZZZZZZZZZZZZZZZZZ"), body, inv.token)
    assert missing.status == 404 and missing.json()["message"] == r.json()["message"]
    assert other_inv.get(f"/inventory/items/{theirs}")["stock"] == 5


def test_another_clinics_patient_or_appointment_in_the_body_is_a_404(api, inv, other_inv):
    iid = inv.item("Guantes", sku="GLV-D")["item_id"]
    inv.receive(iid, 5)
    theirs = create_patient(api, other_inv.token)["patient_id"]
    r = api.post(
        f"/inventory/items/{iid}/consume", {"quantity": 1, "patient_id": theirs}, token=inv.token
    )
    assert r.status == 404, r.body
    r = api.post(
        f"/inventory/items/{iid}/consume",
        {"quantity": 1, "appointment_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"},
        token=inv.token,
    )
    assert r.status == 404, r.body
    mine = create_patient(api, inv.token)["patient_id"]
    ok = inv.consume(iid, 1, patient_id=mine)
    assert ok["movement"]["patient_id"] == mine and ok["item"]["stock"] == 4


def test_lists_show_only_the_callers_clinic(inv, other_inv):
    inv.item("Composite", sku="CMP-X", reorder_threshold=2)
    other_inv.item("Composite otro", sku="CMP-Y", reorder_threshold=2)
    for path in ("/inventory/items", "/inventory/items?q=comp", "/inventory/items?below=1"):
        assert [i["sku"] for i in inv.get(path)["items"]] == ["CMP-X"], path
    inv.item("Cemento", sku="CEM-X")
    cursor = inv.get("/inventory/items?limit=1")["next_cursor"]
    assert cursor
    r = other_inv.api.get(f"/inventory/items?limit=1&cursor={cursor}", token=other_inv.token)
    assert r.status == 400  # another clinic's cursor starts nowhere
