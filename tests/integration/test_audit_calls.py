"""GET /audit serves every filter from its own partition (ADR 0015): the same DynamoDB calls and
the same items read on a small log and on one with hundreds of unrelated entries (issue 23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from chalicelib.audit.backfill import backfill
from chalicelib.core import audit
from chalicelib.core.audit import AuditEntry
from tests.integration.conftest import signup
from tests.integration.ddb_calls import dynamodb_calls

A, B = "user-a", "user-b"
LIMIT = 5


def _write(cid: str, rows: list[tuple[str, str, str]]) -> None:
    with AuditEntry.batch_write() as w:
        for actor, etype, eid in rows:
            w.save(audit.entry(cid, {"type": "user", "id": actor}, f"{etype}.updated", etype, eid))


def _filters(cid: str) -> dict[str, dict[str, str]]:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return {
        "none": {},
        "user": {"user_id": A},
        "type": {"entity_type": "patient"},
        "entity": {"entity_type": "patient", "entity_id": "p1"},
        "user+type": {"user_id": A, "entity_type": "patient"},
        "user+entity": {"user_id": A, "entity_type": "patient", "entity_id": "p1"},
        "type+dates": {"entity_type": "patient", "from": since},
        "user+type+dates": {"user_id": A, "entity_type": "patient", "from": since},
    }


def _get(api, clinic, params: dict[str, str]) -> tuple[dict, int, int]:
    qs = urlencode({**params, "limit": LIMIT}, quote_via=quote)
    with dynamodb_calls() as calls:
        r = api.get(f"/audit?{qs}", token=clinic.admin_token)
    assert r.status == 200, r.body
    return r.json()["data"], calls.count, calls.read_items


def test_each_filter_costs_the_same_on_a_small_and_a_large_log(api):
    clinic = signup(api, "Clínica Auditada")
    cid = clinic.clinic_id
    # Small: 6 entries per (user, type); p1 has 3 by each user.
    small = [
        (u, t, f"{t[0]}{i % 2 + 1}")
        for u in (A, B)
        for t in ("patient", "invoice")
        for i in range(6)
    ]
    _write(cid, small)
    before = {name: _get(api, clinic, f) for name, f in _filters(cid).items()}

    # Large: hundreds of entries none of the filters asks for, some on the same entity or type.
    noise = [(f"noise-{i % 7}", "appointment", f"a{i}") for i in range(300)]
    noise += [(f"noise-{i % 7}", "patient", f"px{i}") for i in range(150)]
    noise += [(B, "patient", f"pb{i}") for i in range(100)]
    noise += [(A, "invoice", f"ia{i}") for i in range(100)]
    _write(cid, noise)
    # ... and older than them, the entries each filter should find on its first page.
    _write(cid, small)
    after = {name: _get(api, clinic, f) for name, f in _filters(cid).items()}

    for name, f in _filters(cid).items():
        (page0, calls0, read0), (page1, calls1, read1) = before[name], after[name]
        assert calls1 == calls0, (name, calls0, calls1)
        assert read1 == read0, (name, read0, read1)
        for e in page1["items"]:
            assert e["actor_id"] == f.get("user_id", e["actor_id"]), name
            assert e["entity_type"] == f.get("entity_type", e["entity_type"]), name
            assert e["entity_id"] == f.get("entity_id", e["entity_id"]), name
        if name != "user+entity":
            # Served by a key: a full page, read item for item, at both sizes.
            assert len(page0["items"]) == len(page1["items"]) == LIMIT, name
            assert page1["next_cursor"], name
        else:
            # One entity's history filtered by actor: one Query of LIMIT entries (ADR 0015).
            assert 0 < len(page1["items"]) <= LIMIT
        ats = [e["at"] for e in page1["items"]]
        assert ats == sorted(ats, reverse=True)


def test_type_filters_page_with_cursors_through_every_match(api):
    clinic = signup(api, "Clínica Paginada")
    cid = clinic.clinic_id
    rows = [(u, t, f"{t}-{i}") for i in range(7) for u in (A, B) for t in ("patient", "invoice")]
    _write(cid, rows)
    for f, expected in (
        ({"entity_type": "patient"}, 14),
        ({"entity_type": "patient", "user_id": A}, 7),
    ):
        seen, cursor, calls = [], None, []
        while True:
            params = {**f, **({"cursor": cursor} if cursor else {})}
            page, n, _ = _get(api, clinic, params)
            seen += page["items"]
            calls.append(n)
            cursor = page["next_cursor"]
            if not cursor:
                break
        ids = [e["audit_id"] for e in seen]
        assert len(ids) == len(set(ids)) == expected, f
        assert ids == sorted(ids, reverse=True)
        assert len(set(calls)) == 1  # every page costs the same
        # A cursor of one listing is refused by another.
        first = _get(api, clinic, f)[0]["next_cursor"]
        r = api.get(f"/audit?user_id={B}&cursor={first}", token=clinic.admin_token)
        assert r.status == 400


def test_export_keeps_every_filter(api):
    clinic = signup(api, "Clínica Exporta")
    cid = clinic.clinic_id
    _write(
        cid, [(u, t, f"{t}-{i}") for i in range(3) for u in (A, B) for t in ("patient", "invoice")]
    )
    r = api.get(f"/audit/export?entity_type=invoice&user_id={B}", token=clinic.admin_token)
    assert r.status == 200
    lines = r.body.decode().strip().splitlines()
    assert len(lines) == 1 + 3
    assert all(f",{B}," in ln and ",invoice," in ln for ln in lines[1:])


def test_type_filters_are_tenant_scoped(api):
    one, two = signup(api, "Clínica T1"), signup(api, "Clínica T2")
    _write(one.clinic_id, [(A, "patient", "p1")])
    for f in ({"entity_type": "patient"}, {"entity_type": "patient", "user_id": A}):
        qs = urlencode(f)
        assert api.get(f"/audit?{qs}", token=two.admin_token).json()["data"]["items"] == []
        assert len(api.get(f"/audit?{qs}", token=one.admin_token).json()["data"]["items"]) == 1


def test_backfill_lists_entries_written_before_the_type_keys(api):
    clinic = signup(api, "Clínica Antigua")
    cid = clinic.clinic_id
    old = [
        audit.entry(cid, {"type": "user", "id": A}, "patient.updated", "patient", "p1")
        for _ in range(3)
    ]
    for e in old:  # as written before ADR 0015: no GSI3 / GSI4 keys
        e.GSI3PK = e.GSI3SK = e.GSI4PK = e.GSI4SK = None
        e.save()
    by_type = "/audit?entity_type=patient"
    assert api.get(by_type, token=clinic.admin_token).json()["data"]["items"] == []
    assert (
        len(
            api.get("/audit?entity_type=patient&entity_id=p1", token=clinic.admin_token).json()[
                "data"
            ]["items"]
        )
        == 3
    )
    assert backfill(cid) == 3
    assert backfill(cid) == 0  # nothing left to do
    items = api.get(by_type, token=clinic.admin_token).json()["data"]["items"]
    assert [e["audit_id"] for e in items] == sorted((e.audit_id for e in old), reverse=True)
    mine = api.get(f"{by_type}&user_id={A}", token=clinic.admin_token).json()["data"]["items"]
    assert len(mine) == 3
