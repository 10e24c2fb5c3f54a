from __future__ import annotations

import io

from pypdf import PdfReader


def _lines(b):
    return [
        {
            "treatment_id": b.treatment("OBT", "45.00", scope="surface"),
            "tooth": 36,
            "surfaces": ["O", "d", "B"],
            "quantity": "1",
            "discount": {"kind": "percent", "value": "10"},
        },
        {"treatment_id": b.treatment("BLQ", "300.00", vat="IVA21"), "quantity": "1"},
        {
            "treatment_id": b.treatment("END", "180.00", scope="tooth"),
            "tooth": 46,
            "discount": {"kind": "amount", "value": "20"},
        },
    ]


def test_create_budget_computes_totals_half_up_and_numbers_per_year(billing):
    pid = billing.patient()
    d = billing.budget(pid, _lines(billing), global_discount={"kind": "amount", "value": "10.01"})
    year = d["created_at"][:4]
    assert d["number"] == f"PRES-{year}-0001" and d["status"] == "draft" and d["revision"] == 1
    l0, l1, l2 = d["lines"]
    assert l0["surfaces"] == ["O", "D", "V"] and l0["tooth"] == 36
    assert (l0["gross"], l0["line_discount"]) == ("45.00", "4.50")
    assert l2["line_discount"] == "20.00"
    # 10.01 spread over 40.50 / 300.00 / 160.00 (total 500.50) by largest remainder
    shares = [ln["global_discount"] for ln in d["lines"]]
    assert sum(float(s) * 100 for s in shares) == 1001
    assert shares == ["0.81", "6.00", "3.20"]
    assert l1["base"] == "294.00" and l1["vat"] == "61.74" and l1["total"] == "355.74"
    assert d["totals"]["base"] == "490.49"
    assert d["totals"]["vat"] == "61.74"
    assert d["totals"]["total"] == "552.23"
    bd = {(x["classification"], x["rate"]): x for x in d["breakdown"]}
    assert bd[("E1", "0.00")]["base"] == "196.49" and bd[("S1", "21.00")]["vat"] == "61.74"
    d2 = billing.budget(pid, _lines(billing)[:1])
    assert d2["number"] == f"PRES-{year}-0002"


def test_line_validation_teeth_and_surfaces(billing, api):
    pid = billing.patient()
    obt = billing.treatment("OBT", "45.00", scope="surface")
    for line, field in [
        ({"treatment_id": obt, "tooth": 19, "surfaces": ["O"]}, "lines.0.tooth"),
        ({"treatment_id": obt, "tooth": 11}, "lines.0.tooth"),
        ({"treatment_id": obt, "tooth": 55, "surfaces": ["X"]}, "lines.0.surfaces.0"),
        ({"treatment_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}, "lines.0.treatment_id"),
    ]:
        r = api.post("/billing/budgets", {"patient_id": pid, "lines": [line]}, token=billing.token)
        assert r.status == 422, r.body
        assert any(e["field"].startswith(field.rsplit(".", 1)[0]) for e in r.json()["errors"])
    ok = billing.budget(pid, [{"treatment_id": obt, "tooth": 55, "surfaces": ["P"]}])
    assert ok["lines"][0]["surfaces"] == ["L"]


def test_workflow_partial_acceptance_and_events(billing, api):
    pid = billing.patient()
    d = billing.budget(pid, _lines(billing))
    bid = d["budget_id"]
    r = api.post(f"/billing/budgets/{bid}/accept", {"signer_name": "Ana"}, token=billing.token)
    assert r.status == 409  # a draft is not accepted
    s = billing.post(f"/billing/budgets/{bid}/send", {"valid_days": 15})
    assert s["budget"]["status"] == "sent" and "/api/v1/public/budgets/" in s["link"]
    r = api.patch(f"/billing/budgets/{bid}", {"title": "x"}, token=billing.token)
    assert r.status == 409
    picked = [d["lines"][0]["line_id"], d["lines"][2]["line_id"]]
    a = billing.post(
        f"/billing/budgets/{bid}/accept",
        {"line_ids": picked, "signer_name": "Lucía García", "relationship": "self"},
    )
    assert a["status"] == "accepted" and a["partial"] is True
    assert [ln["accepted"] for ln in a["lines"]] == [True, False, True]
    assert len(a["acceptance"]["pdf_sha256"]) == 64
    r = api.post(f"/billing/budgets/{bid}/reject", {}, token=billing.token)
    assert r.status == 409


def test_revision_supersedes_and_reject(billing):
    pid = billing.patient()
    d = billing.budget(pid, _lines(billing))
    bid = d["budget_id"]
    billing.post(f"/billing/budgets/{bid}/send", {"valid_days": 7})
    rej = billing.post(f"/billing/budgets/{bid}/reject", {"reason": "caro"})
    assert rej["status"] == "rejected"
    v2 = billing.post(f"/billing/budgets/{bid}/revise", None, 201)
    assert v2["number"] == d["number"] and v2["revision"] == 2 and v2["status"] == "draft"
    assert v2["supersedes"] == bid
    old = billing.get(f"/billing/budgets/{bid}")
    assert old["status"] == "superseded" and old["superseded_by"] == v2["budget_id"]
    upd = billing.ok(
        billing.api.patch(
            f"/billing/budgets/{v2['budget_id']}",
            {"global_discount": {"kind": "percent", "value": "5"}},
            token=billing.token,
        )
    )
    assert upd["totals"]["global_discount"] != "0.00"
    listed = billing.get(f"/billing/budgets?patient_id={pid}")["items"]
    assert {b["budget_id"] for b in listed} == {bid, v2["budget_id"]}


def test_budget_pdf_is_branded_and_deterministic(billing, api):
    pid = billing.patient(first_name="Pilar", last_name="Gómez")
    d = billing.budget(pid, _lines(billing), notes="Incluye revisión")
    r1 = api.get(
        f"/billing/budgets/{d['budget_id']}/pdf",
        token=billing.token,
        headers={"Accept": "application/pdf"},
    )
    r2 = api.get(
        f"/billing/budgets/{d['budget_id']}/pdf",
        token=billing.token,
        headers={"Accept": "application/pdf"},
    )
    assert r1.status == 200 and r1.headers["Content-Type"] == "application/pdf"
    assert r1.body == r2.body
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r1.body)).pages)
    for s in (
        "PRESUPUESTO",
        d["number"],
        "Pilar Gómez",
        "Clínica Uno",
        "B12345674",
        "36",
        "ODV",
        "Exento (E1)",
        "21%",
        "563,50 €",
        "Incluye revisión",
    ):
        assert s in text, s


def test_expiry_job_expires_only_due_sent_budgets(billing, own_credentials):
    from datetime import UTC, date, datetime, timedelta

    from chalicelib.billing import budgets
    from chalicelib.core.ids import now

    pid = billing.patient()
    today = date.fromisoformat(billing.budget(pid, _lines(billing))["created_at"][:10])
    due = billing.budget(pid, _lines(billing), valid_until=(today + timedelta(days=3)).isoformat())
    billing.post(f"/billing/budgets/{due['budget_id']}/send", {"valid_days": 7})
    later = billing.budget(pid, _lines(billing), valid_days=40)
    billing.post(f"/billing/budgets/{later['budget_id']}/send", {"valid_days": 7})
    draft = billing.budget(pid, _lines(billing), valid_until=due["valid_until"])
    assert budgets.expire_due(now()) == {"expired": 0, "skipped": 0}  # nothing is due yet
    # the job at 00:05 UTC of the day after the validity date (Madrid is already on that day)
    moment = datetime.combine(
        date.fromisoformat(due["valid_until"]) + timedelta(days=1), datetime.min.time(), UTC
    ) + timedelta(minutes=5)
    own_credentials.clear()
    assert budgets.expire_due(moment) == {"expired": 1, "skipped": 0}
    # its own role has the global path only (ADR 0012): each budget is its clinic's work
    assert own_credentials and set(own_credentials) == {"global"}, own_credentials
    expired = billing.get(f"/billing/budgets/{due['budget_id']}")
    assert expired["status"] == "expired" and expired["decided_at"].startswith(
        moment.date().isoformat()
    )
    assert billing.get(f"/billing/budgets/{later['budget_id']}")["status"] == "sent"
    assert billing.get(f"/billing/budgets/{draft['budget_id']}")["status"] == "draft"
    # a second run (a redelivered schedule) finds nothing: the expired budget left the index
    assert budgets.expire_due(moment) == {"expired": 0, "skipped": 0}


def test_half_up_rounding_per_line_through_the_api(billing):
    """1.5 x 10.15 = 15.225 -> 15.23; 12.5% of 10.60 = 1.325 -> 1.33; three lines of 0.50 at
    21% have 0.11 VAT each (0.33, not the 0.32 of rounding the total's VAT); an invoice of
    the accepted budget carries the same amounts."""
    pid = billing.patient_with_nif()
    rev = billing.treatment("REV", "10.15")
    hil = billing.treatment("HIL", "0.50", vat="IVA21")
    kit = billing.treatment("KIT", "10.60", vat="IVA10")
    d = billing.budget(
        pid,
        [
            {"treatment_id": rev, "quantity": "1.5"},
            {"treatment_id": kit, "discount": {"kind": "percent", "value": "12.5"}},
            {"treatment_id": hil},
            {"treatment_id": hil},
            {"treatment_id": hil},
        ],
    )
    l0, l1, *hilo = d["lines"]
    assert (l0["gross"], l0["base"], l0["total"]) == ("15.23", "15.23", "15.23")
    assert (l1["line_discount"], l1["base"], l1["vat"], l1["total"]) == (
        "1.33",
        "9.27",
        "0.93",
        "10.20",
    )
    assert [x["vat"] for x in hilo] == ["0.11", "0.11", "0.11"]
    assert d["totals"] == {
        "gross": "27.33",
        "discount": "1.33",
        "global_discount": "0.00",
        "base": "26.00",
        "vat": "1.26",
        "total": "27.26",
    }
    billing.post(f"/billing/budgets/{d['budget_id']}/send", {})
    billing.post(f"/billing/budgets/{d['budget_id']}/accept", {"signer_name": "Paciente"})
    inv = billing.post("/billing/invoices", {"budget_id": d["budget_id"]}, 201)
    assert [(x["base"], x["vat"]) for x in inv["lines"]] == [
        (x["base"], x["vat"]) for x in d["lines"]
    ]
    assert (inv["total_base"], inv["total_vat"], inv["total"]) == ("26.00", "1.26", "27.26")


def test_budget_cross_tenant_is_404(billing, other_billing, api):
    pid = billing.patient()
    d = billing.budget(pid, _lines(billing))
    for path in (f"/billing/budgets/{d['budget_id']}", f"/billing/budgets/{d['budget_id']}/pdf"):
        assert api.get(path, token=other_billing.token).status == 404
    r = api.post(f"/billing/budgets/{d['budget_id']}/send", {}, token=other_billing.token)
    assert r.status == 404
    r = api.post(
        "/billing/budgets",
        {"patient_id": pid, "lines": [{"treatment_id": "x"}]},
        token=other_billing.token,
    )
    assert r.status == 404
