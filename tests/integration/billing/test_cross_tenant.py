"""Tenant isolation on every staff billing route: another clinic's admin, with valid bodies,
gets 404 for our ids (indistinguishable from missing ones), sees none of our items in lists and
exports, and changes nothing of ours. The test fails if a route is added without a case here."""

from __future__ import annotations

from chalicelib.billing.routes import router
from chalicelib.core.api import PUBLIC

PDF = {"Accept": "application/pdf"}


def _setup(b):
    """Clinic A's objects, one in each state the routes need."""
    b.post(
        "/billing/vat-types",
        {
            "code": "SOLO_A",
            "name_es": "Solo A",
            "name_en": "Only A",
            "rate": "10",
            "classification": "S1",
        },
        201,
    )
    lim = b.treatment("LIM", "60.00")
    blq = b.treatment("BLQ", "300.00", vat="IVA21")
    pid = b.patient_with_nif()
    draft = b.budget(pid, [{"treatment_id": lim}])
    sent = b.budget(pid, [{"treatment_id": lim}, {"treatment_id": blq}])
    b.post(f"/billing/budgets/{sent['budget_id']}/send", {})
    accepted = b.budget(pid, [{"treatment_id": lim}])
    b.post(f"/billing/budgets/{accepted['budget_id']}/send", {})
    b.post(f"/billing/budgets/{accepted['budget_id']}/accept", {"signer_name": "Paciente A"})
    inv_draft = b.invoice(pid, [{"treatment_id": lim}])
    issued = b.issue(b.invoice(pid, [{"treatment_id": blq}])["invoice_id"])
    paid = b.post(
        f"/billing/invoices/{issued['invoice_id']}/payments",
        {"amount": "10", "method": "cash"},
        201,
    )
    return {
        "lim": lim,
        "pid": pid,
        "draft": draft["budget_id"],
        "sent": sent["budget_id"],
        "accepted": accepted["budget_id"],
        "inv_draft": inv_draft["invoice_id"],
        "issued": issued["invoice_id"],
        "payment": paid["payment"]["payment_id"],
    }


def _snapshot(b, ids):
    return {
        "vat": [v for v in b.get("/billing/vat-types") if v["code"] == "SOLO_A"],
        "treatment": b.get(f"/billing/treatments/{ids['lim']}"),
        "budgets": [b.get(f"/billing/budgets/{ids[k]}") for k in ("draft", "sent", "accepted")],
        "invoices": [b.get(f"/billing/invoices/{ids[k]}") for k in ("inv_draft", "issued")],
        "payments": b.get(f"/billing/invoices/{ids['issued']}/payments"),
        "balance": b.get(f"/billing/patients/{ids['pid']}/balance"),
    }


def test_every_billing_route_keeps_clinics_apart(billing, other_billing, api):
    a, ids = billing, _setup(billing)
    before = _snapshot(a, ids)
    tok = other_billing.token
    b_pid = other_billing.patient_with_nif()
    b_lim = other_billing.treatment("LIM", "61.00")  # same code: codes are per clinic
    covered: set[tuple[str, str]] = set()

    def case(method, template, path, body=None, status=404, headers=None):
        covered.add((method, template))
        r = api.request(method, path, body, token=tok, headers=headers)
        assert r.status == status, (method, path, r.status, r.body[:300])
        return r.json()["data"] if r.body and status < 300 and not headers else r

    # VAT types and catalog
    vats = case("GET", "/billing/vat-types", "/billing/vat-types", status=200)
    assert "SOLO_A" not in {v["code"] for v in vats}
    case(
        "POST",
        "/billing/vat-types",
        "/billing/vat-types",
        {
            "code": "SOLO_A",
            "name_es": "De B",
            "name_en": "B's",
            "rate": "4",
            "classification": "S1",
        },
        status=201,
    )
    case("PATCH", "/billing/vat-types/{code}", "/billing/vat-types/SOLO_A", {"active": False}, 200)
    case("PATCH", "/billing/vat-types/{code}", "/billing/vat-types/NO_EXISTE", {"active": False})
    listed = case("GET", "/billing/treatments", "/billing/treatments", status=200)
    assert {t["treatment_id"] for t in listed["items"]} == {b_lim}
    t = case(
        "POST",
        "/billing/treatments",
        "/billing/treatments",
        {"code": "BLQ", "name_es": "Blanqueamiento B", "price": "1"},
        status=201,
    )
    assert t["treatment_id"] != ids["lim"]
    r = case(
        "GET",
        "/billing/treatments/export",
        "/billing/treatments/export",
        status=200,
        headers={"Accept": "text/csv"},
    )
    assert "61,00" in r.body.decode() and "60,00" not in r.body.decode()  # decimal comma
    imp = case(
        "POST",
        "/billing/treatments/import",
        "/billing/treatments/import",
        {"csv": "code;name_es;price\nLIM;Limpieza B;62\nNEW;Nuevo;5\n", "dry_run": False},
        status=200,
    )
    assert (imp["created"], imp["updated"]) == (1, 1)  # B's own LIM, not A's
    case("GET", "/billing/treatments/{treatment_id}", f"/billing/treatments/{ids['lim']}")
    case(
        "PATCH",
        "/billing/treatments/{treatment_id}",
        f"/billing/treatments/{ids['lim']}",
        {"price": "1"},
    )

    # budgets
    listed = case("GET", "/billing/budgets", "/billing/budgets", status=200)
    assert listed["items"] == []
    case("GET", "/billing/budgets", f"/billing/budgets?patient_id={ids['pid']}")
    case(
        "POST",
        "/billing/budgets",
        "/billing/budgets",
        {"patient_id": ids["pid"], "lines": [{"treatment_id": b_lim}]},
    )
    r = api.post(
        "/billing/budgets",
        {"patient_id": b_pid, "lines": [{"treatment_id": ids["lim"]}]},
        token=tok,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "lines.0.treatment_id"
    bud = "/billing/budgets/{budget_id}"
    case("GET", bud, f"/billing/budgets/{ids['draft']}")
    case("PATCH", bud, f"/billing/budgets/{ids['draft']}", {"title": "B"})
    case("POST", bud + "/send", f"/billing/budgets/{ids['draft']}/send", {})
    case("POST", bud + "/accept", f"/billing/budgets/{ids['sent']}/accept", {"signer_name": "B B"})
    case("POST", bud + "/reject", f"/billing/budgets/{ids['sent']}/reject", {})
    case("POST", bud + "/cancel", f"/billing/budgets/{ids['draft']}/cancel")
    case("POST", bud + "/revise", f"/billing/budgets/{ids['sent']}/revise")
    case("GET", bud + "/pdf", f"/billing/budgets/{ids['sent']}/pdf", headers=PDF)
    case(
        "GET",
        bud + "/accepted-pdf",
        f"/billing/budgets/{ids['sent']}/accepted-pdf",
        headers=PDF,
    )

    # invoices and payments
    listed = case("GET", "/billing/invoices", "/billing/invoices", status=200)
    assert listed["items"] == []
    case("GET", "/billing/invoices", f"/billing/invoices?patient_id={ids['pid']}")
    case("GET", "/billing/invoices", f"/billing/invoices?budget_id={ids['accepted']}")
    case("POST", "/billing/invoices", "/billing/invoices", {"budget_id": ids["accepted"]})
    case(
        "POST",
        "/billing/invoices",
        "/billing/invoices",
        {"patient_id": ids["pid"], "lines": [{"treatment_id": b_lim}]},
    )
    inv = "/billing/invoices/{invoice_id}"
    case("GET", inv, f"/billing/invoices/{ids['issued']}")
    case("PATCH", inv, f"/billing/invoices/{ids['inv_draft']}", {"notes": "B"})
    case("DELETE", inv, f"/billing/invoices/{ids['inv_draft']}")
    case("POST", inv + "/issue", f"/billing/invoices/{ids['inv_draft']}/issue")
    case(
        "POST",
        inv + "/rectify",
        f"/billing/invoices/{ids['issued']}/rectify",
        {"reason": "Anulación desde B"},
    )
    case("GET", inv + "/pdf", f"/billing/invoices/{ids['issued']}/pdf", headers=PDF)
    case("POST", inv + "/email", f"/billing/invoices/{ids['issued']}/email", {})
    case("GET", inv + "/payments", f"/billing/invoices/{ids['issued']}/payments")
    case(
        "POST",
        inv + "/payments",
        f"/billing/invoices/{ids['issued']}/payments",
        {"amount": "1", "method": "cash"},
    )
    case(
        "POST",
        inv + "/refunds",
        f"/billing/invoices/{ids['issued']}/refunds",
        {"amount": "1", "method": "cash"},
    )
    case("GET", "/billing/patients/{patient_id}/balance", f"/billing/patients/{ids['pid']}/balance")
    pay = "/billing/payments/{payment_id}"
    receipt = f"/billing/payments/{ids['payment']}/receipt"
    case("GET", pay + "/receipt/pdf", receipt + "/pdf", headers=PDF)
    case("POST", pay + "/receipt/email", receipt + "/email")
    day = case("GET", "/billing/takings", "/billing/takings", status=200)
    assert day["items"] == [] and day["net"] == "0.00"  # A took 10 € today; B took nothing
    r = case(
        "GET",
        "/billing/takings/export",
        "/billing/takings/export",
        status=200,
        headers={"Accept": "text/csv"},
    )
    assert ids["payment"] not in r.body.decode() and "10,00" not in r.body.decode()

    staff = {(s.method, s.path) for s in router.specs if s.permission != PUBLIC}
    assert covered == staff, staff ^ covered
    assert _snapshot(a, ids) == before  # nothing of clinic A changed
