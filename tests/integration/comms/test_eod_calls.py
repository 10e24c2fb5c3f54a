"""The end-of-day total reads only the day's invoices (issue 23): the same DynamoDB calls and
items read with one invoice in the clinic or with hundreds over the last three months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.billing.models import Invoice, InvoiceIssuedOn
from chalicelib.comms import eod
from chalicelib.core.ids import new_id, ulid_floor
from tests.integration.billing import conftest as billing_fixtures
from tests.integration.ddb_calls import dynamodb_calls

TZ = ZoneInfo("Europe/Madrid")
billing = billing_fixtures.billing  # a clinic that can issue (the billing tests' fixture)


def _today() -> datetime:
    return datetime.now(UTC).astimezone(TZ)


def _measure(cid: str, day) -> tuple[int, int, int]:
    with dynamodb_calls() as calls:
        invoiced, _ = eod.production(cid, day, TZ)
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


def test_the_day_total_costs_the_same_on_a_small_and_a_large_clinic(billing, clinic):
    cid = clinic.clinic_id
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    # A draft created long ago and issued today counts today (what the 92-day look-back was for).
    billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    today = _today().date()
    small = _measure(cid, today)
    assert small[0] == 6000

    days = _old_invoices(cid, 400)
    large = _measure(cid, today)
    assert large == small  # same total, same calls, same items read
    assert small[1] == 2  # the day's invoices, the day's payments
    # Another day is its own entries, nothing else.
    yesterday = today - timedelta(days=1)
    assert _measure(cid, yesterday)[0] == 1000 * days.count(yesterday.isoformat()) > 0


def test_backfill_writes_the_entries_of_invoices_issued_before_them(billing, clinic):
    cid = clinic.clinic_id
    limp = billing.treatment("LIM", "60.00")
    inv = billing.issue(billing.invoice(billing.patient(), [{"treatment_id": limp}])["invoice_id"])
    today = _today().date()
    InvoiceIssuedOn(*InvoiceIssuedOn.key(cid, today.isoformat(), inv["invoice_id"])).delete()
    assert eod.invoiced_on(cid, today) == 0  # as if issued before the day entries existed
    assert eod.backfill_invoiced_on(cid, today) == 1
    assert eod.backfill_invoiced_on(cid, today) == 0
    assert eod.invoiced_on(cid, today) == 6000


def test_a_clinic_never_totals_another_clinics_invoices(billing, clinic, other_clinic):
    limp = billing.treatment("LIM", "60.00")
    billing.issue(billing.invoice(billing.patient(), [{"treatment_id": limp}])["invoice_id"])
    today = _today().date()
    assert eod.invoiced_on(clinic.clinic_id, today) == 6000
    assert eod.invoiced_on(other_clinic.clinic_id, today) == 0
