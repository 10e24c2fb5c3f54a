"""Movements: receive (lots), consume (first to expire first), adjust, history; the stock never
goes below zero, also under parallel consumption; exactly one low-stock alert per crossing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from tests.integration.conftest import mails_to


def _low_mails(clinic) -> list:
    return [m for m in mails_to(clinic.admin_email) if "stock bajo" in m.subject.lower()]


def test_receive_consume_adjust_and_history(inv):
    it = inv.item("Articaína 4% 1:100.000", sku="ART-100", unit="carpule", reorder_threshold=2)
    iid = it["item_id"]
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=200)).isoformat()
    inv.receive(iid, 5, lot="L-LATE", expiry=later, supplier="Inibsa", cost="0.85")
    r = inv.receive(iid, 3, lot="L-SOON", expiry=soon)
    assert r["item"]["stock"] == 8 and r["movement"]["kind"] == "receive"
    # first to expire first: the 4 consumed take the 3 of L-SOON, then 1 of L-LATE
    c = inv.consume(iid, 4, note="Sesión de endodoncia")
    assert c["item"]["stock"] == 4 and c["movement"]["quantity"] == -4
    lots = inv.get(f"/inventory/items/{iid}")["lots"]
    assert [(x["lot"], x["remaining"]) for x in lots] == [("L-LATE", 4)]
    a = inv.post(f"/inventory/items/{iid}/adjust", {"delta": -1, "reason": "Carpule roto"})
    assert a["item"]["stock"] == 3 and a["movement"]["reason"] == "Carpule roto"
    a = inv.post(f"/inventory/items/{iid}/adjust", {"delta": 2, "reason": "Recuento"})
    assert a["item"]["stock"] == 5
    h = inv.get(f"/inventory/items/{iid}/movements?limit=3")
    assert [m["kind"] for m in h["items"]] == ["adjust", "adjust", "consume"]
    assert [m["stock_after"] for m in h["items"]] == [5, 3, 4]
    rest = inv.get(f"/inventory/items/{iid}/movements?limit=3&cursor={h['next_cursor']}")
    assert [m["kind"] for m in rest["items"]] == ["receive", "receive"]


def test_over_consumption_is_a_409_saying_the_stock(inv):
    it = inv.item("Guantes M", sku="GLV-M2")
    inv.receive(it["item_id"], 3)
    r = inv.api.post(f"/inventory/items/{it['item_id']}/consume", {"quantity": 4}, token=inv.token)
    assert r.status == 409 and r.json()["code"] == "INSUFFICIENT_STOCK"
    assert "3" in r.json()["message"] and r.json()["data"] == {"stock": 3, "requested": 4}
    r = inv.api.post(
        f"/inventory/items/{it['item_id']}/adjust",
        {"delta": -4, "reason": "Recuento"},
        token=inv.token,
        headers={"Accept-Language": "es"},
    )
    assert r.status == 409 and "quedan 3" in r.json()["message"]
    assert inv.get(f"/inventory/items/{it['item_id']}")["stock"] == 3


def test_parallel_consumption_never_goes_below_zero(inv):
    it = inv.item("Composite A2", sku="CMP-PAR", reorder_threshold=0)
    iid = it["item_id"]
    inv.receive(iid, 7)

    def one(_: int) -> int:
        r = inv.api.post(f"/inventory/items/{iid}/consume", {"quantity": 2}, token=inv.token)
        return r.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(8)))
    accepted = statuses.count(201)
    assert set(statuses) <= {201, 409}
    assert accepted == 3  # 7 // 2
    final = inv.get(f"/inventory/items/{iid}")
    assert final["stock"] == 7 - 2 * accepted == 1
    moves = inv.get(f"/inventory/items/{iid}/movements?limit=100")["items"]
    assert sum(m["quantity"] for m in moves) == final["stock"]
    assert all(m["stock_after"] >= 0 for m in moves)
    assert sum(x["remaining"] for x in final["lots"]) == 1


def test_exactly_one_alert_per_crossing_also_in_parallel(inv, clinic, published):
    it = inv.item("Alginato", sku="ALG-1", reorder_threshold=5, unit="bolsa")
    iid = it["item_id"]
    inv.receive(iid, 10)
    before = len(_low_mails(clinic))

    def one(_: int) -> dict:
        r = inv.api.post(f"/inventory/items/{iid}/consume", {"quantity": 1}, token=inv.token)
        assert r.status == 201, r.body
        return r.json()["data"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))  # 10 -> 2: crosses 5 once
    assert sum(1 for x in results if x["alerted"]) == 1
    assert [x["movement"]["stock_after"] for x in results if x["alerted"]] == [4]
    lows = [d for n, d in published if n == "inventory.stock_low"]
    assert len(lows) == 1 and lows[0]["item_id"] == iid
    mails = _low_mails(clinic)
    assert len(mails) == before + 1 and "Alginato" in mails[-1].subject
    assert "/inventory?below=1" in mails[-1].body
    # still below: no second alert
    assert inv.consume(iid, 1)["alerted"] is False
    # replenished to >= threshold and dropped again: one more
    inv.receive(iid, 10)
    assert inv.consume(iid, 7)["alerted"] is True
    assert len(_low_mails(clinic)) == before + 2
    assert len([n for n, _ in published if n == "inventory.stock_low"]) == 2


def test_receive_below_threshold_is_not_a_crossing(inv, clinic):
    it = inv.item("Implante 4.1x10", sku="IMP-41", reorder_threshold=3)
    before = len(_low_mails(clinic))
    assert inv.receive(it["item_id"], 2)["alerted"] is False
    assert len(_low_mails(clinic)) == before


def test_expiring_lists_lots_with_stock_left(inv):
    a = inv.item("Adhesivo", sku="ADH-1")
    b = inv.item("Silicona", sku="SIL-1")
    soon = (date.today() + timedelta(days=5)).isoformat()
    far = (date.today() + timedelta(days=90)).isoformat()
    inv.receive(a["item_id"], 2, lot="A1", expiry=soon)
    inv.receive(a["item_id"], 2, lot="A2", expiry=far)
    inv.receive(b["item_id"], 1, lot="B1", expiry=soon)
    inv.receive(b["item_id"], 1)  # no expiry
    d = inv.get("/inventory/expiring")
    assert sorted((x["sku"], x["lot"]) for x in d["items"]) == [("ADH-1", "A1"), ("SIL-1", "B1")]
    inv.consume(b["item_id"], 1)  # FEFO: B1 emptied
    d = inv.get("/inventory/expiring")
    assert [(x["sku"], x["lot"], x["remaining"]) for x in d["items"]] == [("ADH-1", "A1", 2)]
    assert len(inv.get("/inventory/expiring?days=120")["items"]) == 2


def test_movement_bad_input(inv):
    it = inv.item("Hilo retractor", sku="HR-1")
    iid = it["item_id"]
    for path, body, field in [
        ("receive", {"quantity": 0}, "quantity"),
        ("receive", {"quantity": 1, "expiry": "2026-13-01"}, "expiry"),
        ("consume", {"quantity": "x"}, "quantity"),
        ("consume", {"quantity": 1, "patient_id": "../x"}, "patient_id"),
        ("adjust", {"delta": 3}, "reason"),
        ("adjust", {"delta": 0, "reason": "nada"}, "delta"),
    ]:
        r = inv.api.post(f"/inventory/items/{iid}/{path}", body, token=inv.token)
        assert r.status == 422, (path, body, r.body)
        assert field in [e["field"] for e in r.json()["errors"]], r.body
    r = inv.api.post("/inventory/items/NOPE/receive", {"quantity": 1}, token=inv.token)
    assert r.status == 404
