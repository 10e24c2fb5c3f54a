"""Ids inside request bodies and queries are resolved within the caller's clinic (issue 20):
clinic B's admin naming clinic A's patient, budget, budget line, treatment or VAT type gets a
404/422, exactly as for an id that does not exist, and nothing is stored in either clinic (no
budget, invoice, treatment or audit entry in B; A unchanged). test_cross_tenant.py covers the
ids in paths; this file covers every billing route whose body or query carries one."""

from __future__ import annotations

from typing import Any

from tests.integration.billing.test_cross_tenant import _setup, _snapshot

ISSUER = {
    "legal_name": "Clínica Otra Dental, S.L.",
    "tax_id": "B87654323",
    "address": {
        "line1": "Calle Menor 2",
        "city": "Sevilla",
        "postal_code": "41001",
        "country": "ES",
    },
}


def _b_state(b: Any, api: Any) -> dict[str, Any]:
    """Everything of clinic B a refused request could have written."""
    audit = api.get("/audit", token=b.token)
    assert audit.status == 200, audit.body
    return {
        "budgets": b.get("/billing/budgets")["items"],
        "invoices": b.get("/billing/invoices")["items"],
        "treatments": b.get("/billing/treatments")["items"],
        "audit": [e.get("entry_id") or e for e in audit.json()["data"]["items"]],
    }


def test_body_and_query_ids_of_another_clinic_are_refused_and_nothing_is_stored(
    billing, other_billing, api
):
    a, b = billing, other_billing
    ids = _setup(a)
    a_budget = a.get(f"/billing/budgets/{ids['sent']}")
    a_line = a_budget["lines"][0]["line_id"]
    before_a = _snapshot(a, ids)

    r = api.patch("/clinics/current", ISSUER, token=b.token)
    assert r.status == 200, r.body
    b_pid = b.patient_with_nif()
    b_lim = b.treatment("LIMB", "61.00")
    b_sent = b.budget(b_pid, [{"treatment_id": b_lim}])
    b.post(f"/billing/budgets/{b_sent['budget_id']}/send", {})
    b_accepted = b.budget(b_pid, [{"treatment_id": b_lim}])
    b.post(f"/billing/budgets/{b_accepted['budget_id']}/send", {})
    b.post(f"/billing/budgets/{b_accepted['budget_id']}/accept", {"signer_name": "Paciente B"})
    b_draft = b.invoice(b_pid, [{"treatment_id": b_lim}])
    b_issued = b.issue(b.invoice(b_pid, [{"treatment_id": b_lim}])["invoice_id"])
    before_b = _b_state(b, api)
    checked: list[str] = []

    def refused(method: str, path: str, body: Any, status: int, field: str | None = None) -> None:
        r = api.request(method, path, body, token=b.token)
        assert r.status == status, (method, path, body, r.status, r.body[:300])
        if field is not None:
            assert field in [e["field"] for e in r.json()["errors"]], r.body[:300]
        checked.append(f"{method} {path.split('?')[0]} {field or status}")

    # budgets: A's patient, A's treatment, A's VAT type, A's budget line ids
    refused(
        "POST",
        "/billing/budgets",
        {"patient_id": ids["pid"], "lines": [{"treatment_id": b_lim}]},
        404,
    )
    refused(
        "POST",
        "/billing/budgets",
        {"patient_id": b_pid, "lines": [{"treatment_id": ids["lim"]}]},
        422,
        "lines.0.treatment_id",
    )
    refused(
        "POST",
        "/billing/budgets",
        {"patient_id": b_pid, "lines": [{"treatment_id": b_lim, "vat_code": "SOLO_A"}]},
        422,
        "lines.0.vat_code",
    )
    refused(
        "POST",
        f"/billing/budgets/{b_sent['budget_id']}/accept",
        {"signer_name": "Paciente B", "line_ids": [a_line]},
        422,
        "line_ids",
    )
    refused("GET", f"/billing/budgets?patient_id={ids['pid']}", None, 404)

    # invoices: A's patient, budget, budget lines, treatments
    refused(
        "POST",
        "/billing/invoices",
        {"patient_id": ids["pid"], "lines": [{"treatment_id": b_lim}]},
        404,
    )
    refused("POST", "/billing/invoices", {"patient_id": b_pid, "budget_id": ids["accepted"]}, 404)
    refused(
        "POST",
        "/billing/invoices",
        {"budget_id": ids["accepted"], "budget_lines": [{"line_id": a_line}]},
        404,
    )
    refused(
        "POST",
        "/billing/invoices",
        {"budget_id": b_accepted["budget_id"], "budget_lines": [{"line_id": a_line}]},
        422,
        "budget_lines.0.line_id",
    )
    refused(
        "POST",
        "/billing/invoices",
        {"patient_id": b_pid, "lines": [{"treatment_id": ids["lim"]}]},
        422,
        "lines.0.treatment_id",
    )
    refused(
        "PATCH",
        f"/billing/invoices/{b_draft['invoice_id']}",
        {"lines": [{"treatment_id": ids["lim"]}]},
        422,
        "lines.0.treatment_id",
    )
    refused(
        "POST",
        f"/billing/invoices/{b_issued['invoice_id']}/rectify",
        {"reason": "Corrección", "lines": [{"treatment_id": ids["lim"], "quantity": "-1"}]},
        422,
        "lines.0.treatment_id",
    )
    refused("GET", f"/billing/invoices?patient_id={ids['pid']}", None, 404)
    refused("GET", f"/billing/invoices?budget_id={ids['accepted']}", None, 404)

    # catalog: A's VAT type on B's treatments
    refused(
        "POST",
        "/billing/treatments",
        {"code": "NUEVO", "name_es": "Nuevo", "price": "1", "vat_code": "SOLO_A"},
        422,
        "vat_code",
    )
    refused("PATCH", f"/billing/treatments/{b_lim}", {"vat_code": "SOLO_A"}, 422, "vat_code")

    assert len(checked) == 16
    assert b.get(f"/billing/invoices/{b_draft['invoice_id']}")["lines"] == b_draft["lines"]
    assert _b_state(b, api) == before_b  # nothing stored in B, not even an audit entry
    assert _snapshot(a, ids) == before_a  # and nothing of A changed
