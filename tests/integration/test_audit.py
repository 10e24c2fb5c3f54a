"""The audit log: what is recorded, filters, paging, CSV export, masking, isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from chalicelib.core import audit
from tests.integration.conftest import add_member


def entries(api, clinic, query=""):
    r = api.get(f"/audit{query}", token=clinic.admin_token)
    assert r.status == 200, r.body
    return r.json()["data"]


def test_actions_are_recorded_with_who_what_when_where(api, clinic):
    api.patch(
        "/clinics/current",
        {"legal_name": "Uno S.L."},
        token=clinic.admin_token,
        headers={"User-Agent": "Firefox/130"},
    )
    items = entries(api, clinic)["items"]
    upd = next(e for e in items if e["action"] == "clinic.updated")
    assert upd["actor_type"] == "user" and upd["actor_id"] == clinic.admin_id
    assert upd["entity_type"] == "clinic" and upd["entity_id"] == clinic.clinic_id
    assert upd["user_agent"] == "Firefox/130" and upd["ip"]
    assert upd["changes"] == {"legal_name": {"before": None, "after": "Uno S.L."}}
    assert any(e["action"] == "clinic.created" for e in items)
    # newest first
    ats = [e["at"] for e in items]
    assert ats == sorted(ats, reverse=True)


def test_filters_by_user_entity_and_date_with_cursor_paging(api, clinic):
    m = add_member(api, clinic, "dentist")
    for i in range(5):
        api.patch("/clinics/current", {"legal_name": f"Uno {i}"}, token=clinic.admin_token)
    by_user = entries(api, clinic, f"?user_id={m['user_id']}")["items"]
    assert by_user and all(e["actor_id"] == m["user_id"] for e in by_user)
    by_entity = entries(api, clinic, f"?entity_type=clinic&entity_id={clinic.clinic_id}")
    assert {e["action"] for e in by_entity["items"]} >= {"clinic.updated", "clinic.created"}
    assert all(e["entity_id"] == clinic.clinic_id for e in by_entity["items"])
    # paging: 2 at a time, every entry once
    seen, cursor, pages = [], None, 0
    while True:
        q = "?entity_type=clinic&entity_id=" + clinic.clinic_id + "&limit=2"
        page = entries(api, clinic, q + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["audit_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6 and pages >= 3
    future = quote((datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert entries(api, clinic, f"?from={future}")["items"] == []
    past = quote((datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert len(entries(api, clinic, f"?from={past}&limit=200")["items"]) >= 6


def test_bad_filters_are_422_and_foreign_cursors_400(api, clinic, other_clinic):
    assert api.get("/audit?limit=0", token=clinic.admin_token).status == 422
    assert api.get("/audit?from=yesterday", token=clinic.admin_token).status == 422
    assert api.get("/audit?entity_id=x", token=clinic.admin_token).status == 422
    for i in range(3):
        api.patch("/clinics/current", {"legal_name": f"Otra {i}"}, token=other_clinic.admin_token)
    cursor = entries(api, other_clinic, "?limit=1")["next_cursor"]
    assert cursor
    r = api.get(f"/audit?limit=1&cursor={cursor}", token=clinic.admin_token)
    assert r.status == 400


def test_export_csv_neutralises_formulas(api, clinic):
    api.patch(
        "/clinics/current", {"legal_name": '=HYPERLINK("http://x")'}, token=clinic.admin_token
    )
    r = api.get("/audit/export", token=clinic.admin_token)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert {"clinic.created", "clinic.updated"} <= {row["action"] for row in rows}
    assert all(not row[c].startswith("=") for row in rows for c in row)


def test_audit_is_tenant_scoped(api, clinic, other_clinic):
    api.patch("/clinics/current", {"legal_name": "Secreta S.L."}, token=clinic.admin_token)
    theirs = entries(api, other_clinic, "?limit=200")["items"]
    assert all(e["entity_id"] != clinic.clinic_id for e in theirs)
    r = api.get(f"/audit?user_id={clinic.admin_id}", token=other_clinic.admin_token)
    assert r.json()["data"]["items"] == []
    export = api.get("/audit/export", token=other_clinic.admin_token).body.decode()
    assert clinic.clinic_id not in export and "Secreta" not in export


def test_no_route_changes_or_deletes_an_entry(api, clinic):
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        r = api.request(method, "/audit", {}, token=clinic.admin_token)
        assert r.status in (404, 405), method
    import app as app_module

    audit_routes = [s for r in app_module.ROUTERS for s in r.specs if s.path.startswith("/audit")]
    assert {s.method for s in audit_routes} == {"GET"}


def test_entries_are_append_only_at_the_storage_layer(clinic):
    import pytest
    from pynamodb.exceptions import PutError

    e = audit.record(clinic.clinic_id, {"type": "system", "id": "test"}, "x", "thing", "1")
    e.action = "tampered"
    with pytest.raises(PutError):
        e.save(condition=audit.AuditEntry.SK.does_not_exist())


def test_phi_values_are_masked_in_entries(clinic):
    e = audit.record(
        clinic.clinic_id,
        {"type": "user", "id": "u"},
        "patient.updated",
        "patient",
        "p1",
        before={"national_id": "12345678Z", "name": "Ana"},
        after={"national_id": "X1234567L", "name": "Ana María"},
    )
    assert e.changes["national_id"] == {"before": "***", "after": "***"}
    assert e.changes["name"] == {"before": "Ana", "after": "Ana María"}


def test_a_receptionist_cannot_read_the_audit_log(api, clinic):
    m = add_member(api, clinic, "receptionist")
    assert api.get("/audit", token=m["token"]).status == 403
    assert api.get("/audit/export", token=m["token"]).status == 403
