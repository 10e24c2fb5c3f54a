"""The end-of-day figures read only the day (issues 23 and 18): the same DynamoDB calls and
items read with one invoice in the clinic or with hundreds of days of history; the backfill of
billing's day entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.billing.models import Invoice, InvoiceIssuedOn
from chalicelib.comms import eod
from chalicelib.core.ids import new_id, ulid_floor
from chalicelib.reports import figures, store
from chalicelib.reports import models as m
from tests.integration.billing import conftest as billing_fixtures
from tests.integration.ddb_calls import dynamodb_calls
from tests.integration.reports.records import feed

TZ = ZoneInfo("Europe/Madrid")
billing = billing_fixtures.billing  # a clinic that can issue (the billing tests' fixture)


def _today() -> datetime:
    return datetime.now(UTC).astimezone(TZ)


def _measure(cid: str, day) -> tuple[str, int, int]:
    with dynamodb_calls() as calls:
        invoiced = figures.day(cid, day).invoiced
    return invoiced, calls.count, calls.read_items


def _old_invoices(cid: str, n: int) -> list[str]:
    """``n`` invoices issued on earlier days, created over the last 90 days: what the old sum
    read (by invoice id) and discarded."""
    now = datetime.now(UTC)
    days = []
    with Invoice.batch_write() as w:
        for i in range(n):
            created = now - timedelta(days=1 + i % 90, minutes=i)
            iid = ulid_floor(created)[:10] + new_id()[10:]
            issued = created.astimezone(TZ).date().isoformat()
            days.append(issued)
            w.save(
                Invoice(
                    *Invoice.key(cid, iid),
                    GSI1PK=Invoice.list_pk(cid),
                    GSI1SK=iid,
                    invoice_id=iid,
                    patient_id="p",
                    status="issued",
                    series="F",
                    description="x",
                    issue_date=issued,
                    issued_at=created,
                    total_cents=1000,
                    created_by="t",
                    created_at=created,
                    updated_at=created,
                )
            )
            w.save(
                InvoiceIssuedOn(
                    *InvoiceIssuedOn.key(cid, issued, iid),
                    invoice_id=iid,
                    num_serie=f"F-X-{i}",
                    total_cents=1000,
                )
            )
    return days


def test_the_day_total_costs_the_same_on_a_small_and_a_large_clinic(billing, clinic, published):
    cid = clinic.clinic_id
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    # A draft created long ago and issued today counts today.
    billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    feed(published)
    today = _today().date()
    small = _measure(cid, today)
    assert small[0] == "60.00"

    _old_invoices(cid, 400)
    for i in range(1, 400):  # their figures, as the consumer keeps them, on 400 earlier days
        day = (today - timedelta(days=i)).isoformat()
        store.overwrite(cid, m.day_sk(day), {"invoiced": 1000, "invoices_issued": 1})
    large = _measure(cid, today)
    assert large == small  # same total, same calls, same items read
    yesterday = today - timedelta(days=1)
    assert _measure(cid, yesterday)[0] == "10.00"


def test_backfill_writes_the_entries_of_invoices_issued_before_them(billing, clinic):
    cid = clinic.clinic_id
    limp = billing.treatment("LIM", "60.00")
    inv = billing.issue(billing.invoice(billing.patient(), [{"treatment_id": limp}])["invoice_id"])
    today = _today().date()
    key = InvoiceIssuedOn.key(cid, today.isoformat(), inv["invoice_id"])
    InvoiceIssuedOn(*key).delete()  # as if issued before the day entries existed
    assert eod.backfill_invoiced_on(cid, today) == 1
    assert eod.backfill_invoiced_on(cid, today) == 0
    assert InvoiceIssuedOn.get(*key).total_cents == 6000


def test_a_clinic_never_totals_another_clinics_invoices(billing, clinic, other_clinic, published):
    limp = billing.treatment("LIM", "60.00")
    billing.issue(billing.invoice(billing.patient(), [{"treatment_id": limp}])["invoice_id"])
    feed(published)
    today = _today().date()
    assert figures.day(clinic.clinic_id, today).invoiced == "60.00"
    assert figures.day(other_clinic.clinic_id, today).invoiced == "0.00"
