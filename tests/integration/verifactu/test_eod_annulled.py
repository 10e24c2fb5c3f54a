"""The end-of-day summary leaves annulled invoices out of what the day invoiced (issue 13): an
annulled invoice was issued by mistake; the annulment marks its day entry in its transaction."""

from __future__ import annotations

from datetime import date

from chalicelib.billing.models import InvoiceIssuedOn
from chalicelib.comms import eod
from chalicelib.core.db import clinic_pk
from chalicelib.verifactu import service as _verifactu  # noqa: F401 - registers the issue hooks
from tests.integration.verifactu.conftest import issue_one


def test_annulled_invoice_is_not_counted_as_invoiced(billing, clinic):
    kept = issue_one(billing)  # 60 + 300 + 21 % VAT = 423.00
    wrong = issue_one(billing, iva=False)  # 60.00
    day = date.fromisoformat(kept["issue_date"])
    assert wrong["issue_date"] == kept["issue_date"]
    assert eod.invoiced_on(clinic.clinic_id, day) == 42300 + 6000
    billing.post(f"/verifactu/invoices/{wrong['invoice_id']}/annul", {"reason": "Duplicada"})
    assert eod.invoiced_on(clinic.clinic_id, day) == 42300
    entry = InvoiceIssuedOn.get(
        *InvoiceIssuedOn.key(clinic.clinic_id, str(day), wrong["invoice_id"])
    )
    assert entry.annulled is True and entry.num_serie == wrong["num_serie"]
    assert clinic_pk(clinic.clinic_id) == entry.PK
    # the summary email shows the same figure
    from zoneinfo import ZoneInfo

    from chalicelib.identity.service import get_clinic

    invoiced, _ = eod.production(
        clinic.clinic_id, day, ZoneInfo(get_clinic(clinic.clinic_id).time_zone)
    )
    assert invoiced == 42300
