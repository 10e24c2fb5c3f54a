"""The end-of-day summary leaves annulled invoices out of what the day invoiced (issue 13): an
annulled invoice was issued by mistake; the annulment marks its day entry in its transaction
and publishes ``invoice.annulled``, which takes it out of the reports' figures the email reads
(issue 18)."""

from __future__ import annotations

from datetime import date

from chalicelib.billing.models import InvoiceIssuedOn
from chalicelib.core.db import clinic_pk
from chalicelib.reports import figures
from chalicelib.verifactu import service as _verifactu  # noqa: F401 - registers the issue hooks
from tests.integration.reports.records import feed
from tests.integration.verifactu.conftest import issue_one


def test_annulled_invoice_is_not_counted_as_invoiced(billing, clinic, published):
    kept = issue_one(billing)  # 60 + 300 + 21 % VAT = 423.00
    wrong = issue_one(billing, iva=False)  # 60.00
    day = date.fromisoformat(kept["issue_date"])
    assert wrong["issue_date"] == kept["issue_date"]
    feed(published)
    assert figures.day(clinic.clinic_id, day).invoiced == "483.00"
    billing.post(f"/verifactu/invoices/{wrong['invoice_id']}/annul", {"reason": "Duplicada"})
    annulled = [d for n, d in published if n == "invoice.annulled"]
    assert [d["invoice_id"] for d in annulled] == [wrong["invoice_id"]]
    assert annulled[0]["restored"] == [] and "reason" not in annulled[0]
    feed(published)
    f = figures.day(clinic.clinic_id, day)
    assert (f.invoiced, f.invoices_issued) == ("423.00", 1)
    entry = InvoiceIssuedOn.get(
        *InvoiceIssuedOn.key(clinic.clinic_id, str(day), wrong["invoice_id"])
    )
    assert entry.annulled is True and entry.num_serie == wrong["num_serie"]
    assert clinic_pk(clinic.clinic_id) == entry.PK
