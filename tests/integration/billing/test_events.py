"""The billing events (docs/events.md): each one published once, after its write, with ids,
statuses and amounts, never a name."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.integration.billing.signatures import DRAWN

PNG = DRAWN


def _names(published, since=0):
    return [n for n, _ in published[since:]]


def test_the_whole_workflow_publishes_each_event(billing, api, published, clinic):
    pid = billing.patient_with_nif()
    name = billing.get(f"/patients/{pid}")["last_name"]
    lim = billing.treatment("LIM", "60.00")
    blq = billing.treatment("BLQ", "300.00", vat="IVA21")

    n = len(published)
    b = billing.budget(pid, [{"treatment_id": lim}, {"treatment_id": blq}])
    assert _names(published, n) == ["budget.created"]
    _, d = published[-1]
    assert d["clinic_id"] == clinic.clinic_id and d["actor"]["type"] == "user"
    assert (d["budget_id"], d["patient_id"], d["number"], d["total"]) == (
        b["budget_id"],
        pid,
        b["number"],
        "423.00",
    )

    n = len(published)
    billing.post(f"/billing/budgets/{b['budget_id']}/send", {})
    billing.post(f"/billing/budgets/{b['budget_id']}/send", {})  # a fresh link: no new event
    assert _names(published, n) == ["budget.sent"]
    assert published[-1][1]["budget_id"] == b["budget_id"]

    n = len(published)
    billing.post(
        f"/billing/budgets/{b['budget_id']}/accept",
        {"line_ids": [b["lines"][0]["line_id"]], "signer_name": "Firmante Uno"},
    )
    assert _names(published, n) == ["budget.accepted"]
    d = published[-1][1]
    assert d["partial"] is True and d["accepted_line_ids"] == [b["lines"][0]["line_id"]]
    assert d["channel"] == "staff"

    other = billing.budget(pid, [{"treatment_id": lim}])
    billing.post(f"/billing/budgets/{other['budget_id']}/send", {})
    n = len(published)
    billing.post(f"/billing/budgets/{other['budget_id']}/reject", {"reason": "Prefiere pensarlo"})
    assert _names(published, n) == ["budget.rejected"]
    assert "reason" not in published[-1][1]  # free text stays in the budget

    n = len(published)
    inv = billing.post("/billing/invoices", {"budget_id": b["budget_id"]}, 201)
    assert _names(published, n) == ["invoice.created"]
    assert published[-1][1]["budget_id"] == b["budget_id"] and published[-1][1]["total"] == "60.00"

    n = len(published)
    issued = billing.issue(inv["invoice_id"])
    assert _names(published, n) == ["invoice.issued"]
    d = published[-1][1]
    assert (d["num_serie"], d["tipo_factura"], d["issue_date"], d["total"]) == (
        issued["num_serie"],
        "F1",
        issued["issue_date"],
        "60.00",
    )

    n = len(published)
    iid = inv["invoice_id"]
    billing.post(f"/billing/invoices/{iid}/payments", {"amount": "20", "method": "card"}, 201)
    assert _names(published, n) == ["payment.recorded"]
    d = published[-1][1]
    assert (d["kind"], d["method"], d["amount"], d["outstanding"]) == (
        "payment",
        "card",
        "20.00",
        "40.00",
    )
    n = len(published)
    billing.post(f"/billing/invoices/{iid}/payments", {"amount": "40", "method": "cash"}, 201)
    assert _names(published, n) == ["payment.recorded", "invoice.paid"]
    assert published[-1][1]["invoice_id"] == iid and published[-1][1]["num_serie"]
    n = len(published)
    billing.post(f"/billing/invoices/{iid}/refunds", {"amount": "10", "method": "cash"}, 201)
    billing.post(f"/billing/invoices/{iid}/payments", {"amount": "10", "method": "cash"}, 201)
    assert _names(published, n) == ["payment.recorded", "payment.recorded", "invoice.paid"]
    assert published[n][1]["kind"] == "refund"

    # failures publish nothing
    n = len(published)
    r = api.post(
        f"/billing/invoices/{iid}/payments", {"amount": "1", "method": "cash"}, token=billing.token
    )
    assert r.status == 400
    assert api.post(f"/billing/invoices/{iid}/issue", token=billing.token).status == 409
    assert len(published) == n

    # no event carries the patient's or the signer's name
    text = json.dumps([d for _, d in published], default=str, ensure_ascii=False)
    assert name not in text and "Firmante Uno" not in text


def test_acceptance_by_link_publishes_as_the_link_without_the_signers_name(billing, api, published):
    pid = billing.patient()
    b = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    link = billing.post(f"/billing/budgets/{b['budget_id']}/send", {})["link"]
    path = link.split("/api/v1", 1)[1]
    n = len(published)
    r = api.request(
        "POST",
        path,
        raw=urlencode(
            {
                "signer_name": "María Pérez Gil",
                "signature": PNG,
                "line_ids": b["lines"][0]["line_id"],
            }
        ).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 200, r.body
    assert _names(published, n) == ["budget.accepted"]
    d = published[-1][1]
    assert d["channel"] == "link" and d["partial"] is False
    assert d["actor"]["type"] == "link" and d["actor"]["id"]
    assert "María" not in json.dumps(d, ensure_ascii=False)
    # the signer is in the acceptance record
    acc = billing.get(f"/billing/budgets/{b['budget_id']}")["acceptance"]
    assert acc["signer_name"] == "María Pérez Gil"
