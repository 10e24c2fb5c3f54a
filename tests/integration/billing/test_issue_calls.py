"""Issuing an invoice reads what it needs in two BatchGetItems before its one transaction, on
a clinic with one invoice or with dozens (issue 23), and keeps every check it made."""

from __future__ import annotations

from chalicelib.billing import invoices
from chalicelib.billing.models import InvoiceIssuedOn
from chalicelib.core.db import clinic_pk
from tests.integration.conftest import admin_principal
from tests.integration.ddb_calls import dynamodb_calls

READS = ("GetItem", "BatchGetItem", "Query", "TransactGetItems")


def _issue_counted(clinic, invoice_id: str) -> tuple[list[str], int]:
    with dynamodb_calls() as calls:
        out = invoices.issue(admin_principal(clinic), invoice_id)
    assert out.status == "issued"
    return calls.ops, calls.read_items


def _reads_before_the_transaction(ops: list[str]) -> list[str]:
    return [o for o in ops[: ops.index("TransactWriteItems")] if o in READS]


def test_issue_reads_are_two_batches_on_a_small_and_a_larger_clinic(billing, clinic):
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient_with_nif()  # a sealed national id: the customer's NIF is read too
    billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])  # chain exists
    small_ops, small_read = _issue_counted(
        clinic, billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"]
    )
    assert _reads_before_the_transaction(small_ops) == ["BatchGetItem", "BatchGetItem"]
    # clinic + invoice, then counter, patient, series block, VERI*FACTU settings, chain head
    assert small_read == 2 + 3  # the block and the settings do not exist (their defaults)

    for _ in range(25):
        other = billing.patient_with_nif()
        billing.issue(billing.invoice(other, [{"treatment_id": limp}])["invoice_id"])
    large_ops, large_read = _issue_counted(
        clinic, billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"]
    )
    assert large_ops == small_ops and large_read == small_read
    # ... and the issue wrote the day entry the end-of-day email totals
    days = list(
        InvoiceIssuedOn.query(clinic_pk(clinic.clinic_id), InvoiceIssuedOn.SK.startswith("INVDAY#"))
    )
    assert len(days) == 28 and all(int(d.total_cents) == 6000 for d in days)


def test_a_rectifying_issue_reads_the_rectified_invoice_in_the_same_batch(billing, clinic):
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient_with_nif()
    orig = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    rect = billing.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {"reason": "Anulación por error", "code": "R1", "mode": "I"},
        201,
    )
    ops, _ = _issue_counted(clinic, rect["invoice_id"])
    assert _reads_before_the_transaction(ops) == ["BatchGetItem", "BatchGetItem"]
    o = billing.get(f"/billing/invoices/{orig['invoice_id']}")
    assert o["cancelled"] is True and o["rectified_by"] == [rect["invoice_id"]]


def test_issue_checks_hold_with_batched_reads(billing, api, other_billing):
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient_with_nif()
    inv = billing.invoice(pid, [{"treatment_id": limp}])
    done = billing.issue(inv["invoice_id"])
    # state: an issued invoice is not issued twice; numbering: consecutive per series
    r = api.post(f"/billing/invoices/{inv['invoice_id']}/issue", token=billing.token)
    assert r.status == 409
    nxt = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    assert int(nxt["num_serie"].rsplit("-", 1)[1]) == int(done["num_serie"].rsplit("-", 1)[1]) + 1
    # tenant: another clinic's token cannot issue (or see) this clinic's draft
    draft = billing.invoice(pid, [{"treatment_id": limp}])
    r = api.post(f"/billing/invoices/{draft['invoice_id']}/issue", token=other_billing.token)
    assert r.status == 404
    assert billing.get(f"/billing/invoices/{draft['invoice_id']}")["status"] == "draft"
    # VERI*FACTU chain: each issued invoice has its record chained after the previous one
    a = billing.get(f"/verifactu/invoices/{done['invoice_id']}")
    b = billing.get(f"/verifactu/invoices/{nxt['invoice_id']}")
    assert a["records"] and b["records"]
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] and v["chains"][0]["records"] == 2, v
