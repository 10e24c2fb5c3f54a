"""Items: create, edit, archive, search by name or SKU prefix, the below-threshold filter,
paging, bad input."""

from __future__ import annotations

from tests.integration.ddb_calls import dynamodb_calls


def test_create_get_and_edit(inv):
    it = inv.item("Guantes de nitrilo M", sku="glv-m", unit="caja", lab="Lab Dental Sur")
    assert it["sku"] == "GLV-M" and it["stock"] == 0 and it["cost"] == "12.50"
    assert it["low"] is True and it["lab"] == "Lab Dental Sur"
    got = inv.get(f"/inventory/items/{it['item_id']}")
    assert got["name"] == "Guantes de nitrilo M" and got["lots"] == []
    upd = inv.patch(
        f"/inventory/items/{it['item_id']}", {"reorder_threshold": 0, "cost": None, "lab": None}
    )
    assert upd["reorder_threshold"] == 0 and upd["cost"] is None and upd["lab"] is None
    assert upd["low"] is False and upd["version"] == 2


def test_sku_is_unique_per_clinic(inv, other_inv):
    inv.item("Anestesia articaína", sku="ART-4")
    r = inv.api.post(
        "/inventory/items", {"name": "Otra", "sku": "art-4", "unit": "ud"}, token=inv.token
    )
    assert r.status == 409 and r.json()["code"] == "SKU_TAKEN"
    other_inv.item("Anestesia articaína", sku="ART-4")  # another clinic may use it
    b = inv.item("Segunda", sku="ART-5")
    r = inv.api.patch(f"/inventory/items/{b['item_id']}", {"sku": "ART-4"}, token=inv.token)
    assert r.status == 409 and r.json()["code"] == "SKU_TAKEN"
    # renaming the SKU frees the old one
    inv.patch(f"/inventory/items/{b['item_id']}", {"sku": "ART-6"})
    inv.item("Tercera", sku="ART-5")


def test_search_by_name_or_sku_prefix_with_constant_calls(inv):
    inv.item("Composite A2", sku="CMP-A2")
    inv.item("Composite A3", sku="CMP-A3")
    inv.item("Cemento ionómero", sku="ION-1")
    names = lambda d: sorted(i["name"] for i in d["items"])  # noqa: E731
    assert names(inv.get("/inventory/items?q=compo")) == ["Composite A2", "Composite A3"]
    assert names(inv.get("/inventory/items?q=cmp-a3")) == ["Composite A3"]
    assert names(inv.get("/inventory/items?q=cemento%20ion")) == ["Cemento ionómero"]
    assert names(inv.get("/inventory/items?q=ionomero")) == []
    for n in range(8):
        inv.item(f"Relleno {n}", sku=f"FILL-{n}")
    with dynamodb_calls() as calls:
        d = inv.get("/inventory/items?q=compo")
    assert len(d["items"]) == 2
    assert calls.of("Query", "BatchGetItem") <= 2 and calls.of("Scan") == 0
    assert calls.read_items <= 10  # nothing read to be discarded


def test_paging_and_below_filter(inv):
    ids = [inv.item(f"Item {n:02d}", sku=f"PG-{n}")["item_id"] for n in range(5)]
    for i in ids[:3]:
        inv.receive(i, 10)
    seen, cursor = [], None
    while True:
        d = inv.get("/inventory/items?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(d["items"]) <= 2
        seen += [i["name"] for i in d["items"]]
        cursor = d["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Item {n:02d}" for n in range(5)]
    below = inv.get("/inventory/items?below=true")
    assert sorted(i["item_id"] for i in below["items"]) == sorted(ids[3:])


def test_archive_moves_it_out_of_the_list_and_refuses_movements(inv):
    it = inv.item("Fresa diamante", sku="FRS-1")
    inv.receive(it["item_id"], 3)
    a = inv.patch(f"/inventory/items/{it['item_id']}", {"archived": True})
    assert a["archived"] is True
    assert inv.get("/inventory/items")["items"] == []
    assert [i["name"] for i in inv.get("/inventory/items?archived=true")["items"]] == [
        "Fresa diamante"
    ]
    assert inv.get("/inventory/items?q=frs")["items"] == []
    assert inv.get("/inventory/items?below=true")["items"] == []
    r = inv.api.post(f"/inventory/items/{it['item_id']}/consume", {"quantity": 1}, token=inv.token)
    assert r.status == 409 and r.json()["code"] == "ITEM_ARCHIVED"
    inv.patch(f"/inventory/items/{it['item_id']}", {"archived": False})
    assert [i["name"] for i in inv.get("/inventory/items?q=frs")["items"]] == ["Fresa diamante"]


def test_bad_input_is_a_422_with_fields(inv):
    for body, field in [
        ({"name": "x", "sku": "A", "unit": "ud"}, "name"),
        ({"name": "Guantes", "sku": "A B", "unit": "ud"}, "sku"),
        (
            {"name": "Guantes", "sku": "AB", "unit": "ud", "reorder_threshold": -1},
            "reorder_threshold",
        ),
        ({"name": "Guantes", "sku": "AB", "unit": "ud", "cost": 1.5}, "cost"),
        ({"name": "Guantes", "sku": "AB"}, "unit"),
    ]:
        r = inv.api.post("/inventory/items", body, token=inv.token)
        assert r.status == 422, (body, r.body)
        assert field in [e["field"] for e in r.json()["errors"]]
    it = inv.item("Guantes", sku="GLV")
    r = inv.api.patch(f"/inventory/items/{it['item_id']}", {"name": None}, token=inv.token)
    assert r.status == 422
    r = inv.api.get("/inventory/items?limit=0", token=inv.token)
    assert r.status == 422
    r = inv.api.get("/inventory/items?cursor=garbage", token=inv.token)
    assert r.status == 400
