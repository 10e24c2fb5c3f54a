"""Materials of catalog treatments, consumed when a plan item is completed (the inventory
consumer), once per plan item however often the event is delivered; and the end-of-day
section."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from chalicelib.inventory import eod
from functions.inventory_consumer import handler
from infra.local.workers import FakeLambdaContext
from tests.integration.billing.conftest import Billing
from tests.integration.ddb_calls import dynamodb_calls


def _record(detail: dict) -> dict:
    body = {"source": "cuspide", "detail-type": "treatment.completed", "detail": detail}
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:inventory",
        "awsRegion": "local",
    }


def _deliver(detail: dict) -> dict:
    return handler({"Records": [_record(detail)]}, FakeLambdaContext("inventory"))


def test_catalog_materials_are_checked_against_the_clinic(api, inv, other_inv):
    b = Billing(api, inv.token)
    mine = inv.item("Composite A2", sku="CMP-1")["item_id"]
    theirs = other_inv.item("Composite A2", sku="CMP-1")["item_id"]
    tid = b.treatment("OBT1", "60.00", scope="tooth")
    r = api.patch(
        f"/billing/treatments/{tid}",
        {"materials": [{"item_id": mine, "quantity": 2}]},
        token=inv.token,
    )
    assert r.status == 200, r.body
    assert r.json()["data"]["materials"] == [{"item_id": mine, "quantity": 2}]
    for bad in (
        [{"item_id": theirs, "quantity": 1}],
        [{"item_id": mine, "quantity": 1}, {"item_id": mine, "quantity": 1}],
        [{"item_id": mine, "quantity": 0}],
    ):
        r = api.patch(f"/billing/treatments/{tid}", {"materials": bad}, token=inv.token)
        assert r.status == 422, r.body
        assert r.json()["errors"][0]["field"].startswith("materials")
    assert b.get(f"/billing/treatments/{tid}")["materials"] == [{"item_id": mine, "quantity": 2}]


def test_completed_treatment_consumes_its_materials_once(api, inv, published):
    b = Billing(api, inv.token)
    comp = inv.item("Composite A2", sku="CMP-2", reorder_threshold=3)["item_id"]
    anest = inv.item("Articaína", sku="ART-2", reorder_threshold=0)["item_id"]
    inv.receive(comp, 4)
    inv.receive(anest, 1)
    tid = b.treatment("OBT2", "60.00", scope="tooth")
    b.ok(
        api.patch(
            f"/billing/treatments/{tid}",
            {"materials": [{"item_id": comp, "quantity": 2}, {"item_id": anest, "quantity": 2}]},
            token=inv.token,
        )
    )
    pid = b.patient()
    plan = b.post(f"/patients/{pid}/chart/plan", {"treatment_id": tid, "tooth": 36}, 201)
    b.post(f"/patients/{pid}/chart/plan/{plan['item_id']}/complete", {})
    detail = [d for n, d in published if n == "treatment.completed"][-1]
    assert _deliver(detail) == {"batchItemFailures": []}
    assert _deliver(detail) == {"batchItemFailures": []}  # redelivered: nothing twice
    c = inv.get(f"/inventory/items/{comp}")
    a = inv.get(f"/inventory/items/{anest}")
    assert c["stock"] == 2 and a["stock"] == 0  # 1 in stock: took it, 1 short, never < 0
    moves = inv.get(f"/inventory/items/{anest}/movements")["items"]
    assert [(m["kind"], m["quantity"], m["short"]) for m in moves[:1]] == [("consume", -1, 1)]
    assert moves[0]["plan_item_id"] == plan["item_id"] and moves[0]["patient_id"] == pid
    assert len(inv.get(f"/inventory/items/{comp}/movements")["items"]) == 2  # receive + 1
    # crossing 3 on composite (4 -> 2): one alert
    assert len([d for n, d in published if n == "inventory.stock_low"]) == 1


def test_events_for_unknown_or_material_less_treatments_are_skipped(inv, clinic):
    from chalicelib.core import scoping
    from chalicelib.inventory.consumption import on_treatment_completed

    detail = {"clinic_id": clinic.clinic_id, "plan_item_id": "P1", "treatment_id": "NOPE"}
    with scoping.for_event(detail):
        assert on_treatment_completed(detail) == "skipped"
        assert on_treatment_completed({"clinic_id": clinic.clinic_id}) == "skipped"


def test_end_of_day_section_with_constant_calls(inv, clinic):
    from chalicelib.core import scoping
    from chalicelib.core.ids import now
    from chalicelib.inventory.common import local_day

    soon = (date.today() + timedelta(days=7)).isoformat()
    ids = []
    for n in range(4):
        i = inv.item(f"Material {n}", sku=f"MAT-{n}", reorder_threshold=5)["item_id"]
        inv.receive(i, 6, lot=f"LT{n}", expiry=soon)
        ids.append(i)
    inv.consume(ids[0], 2)
    inv.consume(ids[1], 1)
    today = date.fromisoformat(local_day(clinic.clinic_id, now()))
    with scoping.clinic(clinic.clinic_id), dynamodb_calls() as calls:
        s = eod.section(clinic.clinic_id, today, "es")
    assert s is not None and s.title == "Inventario"
    text = "\n".join(s.lines)
    assert "Consumido hoy: Material 0 · 2 ud" in text and "Consumido hoy: Material 1 · 1 ud" in text
    assert "Por debajo del umbral: Material 0 · 4/5 ud" in text
    assert "Material 1 · 5" not in text.split("Por debajo")[1].split("\n")[0]
    assert text.count("Caduca en 30 días") == 4 and "/inventory?below=1" in text
    assert calls.count <= 5, calls.by_op()
    for n in range(4, 10):
        i = inv.item(f"Material {n}", sku=f"MAT-{n}", reorder_threshold=5)["item_id"]
        inv.receive(i, 6, lot=f"LT{n}", expiry=soon)
        inv.consume(i, 1)
    with scoping.clinic(clinic.clinic_id), dynamodb_calls() as more:
        eod.section(clinic.clinic_id, today, "en")
    assert more.count == calls.count
    with scoping.clinic(clinic.clinic_id):
        assert eod.section(clinic.clinic_id, today - timedelta(days=400), "en") is not None
