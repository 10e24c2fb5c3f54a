"""Benchmark: what loading the production dashboard costs in DynamoDB for a clinic with one
month of history and one with five years (issue 18; the goal is a ratio of 1.0).

    .venv/bin/python bench/reports.py              # 1 month vs 5 years
    .venv/bin/python bench/reports.py --years 1    # quicker

Same in-process stack and meter as ``bench/api.py`` (moto's ``mock_aws``, calls counted on
every DynamoDB client the product makes, read units computed from item sizes). Each clinic's
history is written through the reports consumer's own write (``reports.store.apply`` of the
contribution ``reports.sources`` computes for each record), one record at a time, so the
report items are exactly those the consumer keeps: per working day appointments (some
completed, no-shows, late and early cancellations) over three cabinets and two professionals,
completed treatments, issued invoices (a few unpaid), payments and refunds, new patients and
budgets (some pending). The dashboard is then loaded as the SPA loads it: the summary of
today, this week, this month and this year, each with the same period a year earlier, the
pending figures and one page of a list.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import api as benchapi  # noqa: E402 - bench/api.py: environment, meter, client, sign-up

TZ = ZoneInfo("Europe/Madrid")


def seed(cid: str, pros: list[str], cabs: list[str], days: int, per_day: int, rnd: Any) -> int:
    """``days`` of history up to today, through the consumer's write. Returns the records."""
    from chalicelib.agenda.models import Appointment
    from chalicelib.billing.models import Budget, Invoice, Payment
    from chalicelib.charting.models import PlanItem
    from chalicelib.core import scoping
    from chalicelib.core.ids import new_id
    from chalicelib.patients.models import Patient
    from chalicelib.reports import sources, store

    today = datetime.now(UTC).astimezone(TZ).date()
    n = 0

    def put(kind: str, rid: str, c: Any) -> None:
        nonlocal n
        store.apply(cid, kind, rid, lambda: c)
        n += 1

    with scoping.clinic(cid):
        for back in range(days, -1, -1):
            d = today - timedelta(days=back)
            if d.weekday() >= 5:
                continue
            for i in range(per_day):
                start = datetime(d.year, d.month, d.day, 9 + i % 10, 30 * (i % 2), tzinfo=TZ)
                status = rnd.choices(
                    ["completed", "no_show", "cancelled", "scheduled"], [80, 6, 10, 4]
                )[0]
                hist = (
                    [
                        {
                            "status": "cancelled",
                            "at": (start - timedelta(hours=rnd.choice([2, 72]))).isoformat(),
                        }
                    ]
                    if status == "cancelled"
                    else []
                )
                aid = new_id()
                a = Appointment(
                    appointment_id=aid,
                    patient_id="P",
                    professional_id=pros[i % 2],
                    cabinet_id=cabs[i % 3],
                    start=start.isoformat(),
                    start_utc=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    duration_min=30,
                    reason="Revisión",
                    status=status,
                    status_history=hist,
                )
                put("appointment", aid, sources.appointment(a, TZ))
            at = datetime(d.year, d.month, d.day, 12, tzinfo=TZ)
            for _ in range(per_day // 4):
                it = PlanItem(
                    item_id=new_id(),
                    patient_id="P",
                    name_es="Obturación",
                    status="completed",
                    completed_at=at,
                    completed_by=rnd.choice(pros),
                    treatment_id="T",
                )
                put("treatment", it.item_id, sources.treatment(it, TZ, None, None))
                total = rnd.randrange(3000, 90000)
                paid = total if rnd.random() < 0.9 else 0
                inv = Invoice(
                    invoice_id=new_id(),
                    patient_id="P",
                    status="paid" if paid else "issued",
                    issue_date=d.isoformat(),
                    total_cents=total,
                    paid_cents=paid,
                    num_serie=f"F-{d.year}-{n:06d}",
                    kind="ordinary",
                )
                put("invoice", inv.invoice_id, sources.invoice(inv))
                if paid:
                    p = Payment(
                        payment_id=new_id(),
                        invoice_id=inv.invoice_id,
                        patient_id="P",
                        kind="payment",
                        method=rnd.choice(["cash", "card", "transfer"]),
                        amount_cents=paid,
                        paid_at=at,
                    )
                    put("payment", p.payment_id, sources.payment(p, TZ))
            pat = Patient(patient_id=new_id(), created_at=at)
            put("patient", pat.patient_id, sources.patient(pat, TZ))
            b = Budget(
                budget_id=new_id(),
                patient_id="P",
                number="PRES",
                sent_at=at,
                status=rnd.choice(["sent", "accepted", "rejected"]),
                decided_at=at,
                lines=[{"line_id": "L0", "total": "300.00"}],
                accepted_line_ids=["L0"],
                totals={"total": "300.00"},
            )
            put("budget", b.budget_id, sources.budget(b, TZ))
    return n


def dashboard(api: Any, token: str) -> list[tuple[str, str]]:
    """The requests of one dashboard load: (name, path)."""
    today = datetime.now(UTC).astimezone(TZ).date()
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    year = today.replace(month=1, day=1)

    def ago(d: date) -> date:
        return (
            d.replace(year=d.year - 1)
            if not (d.month == 2 and d.day == 29)
            else d - timedelta(days=366)
        )

    out = []
    for name, first in (("today", today), ("week", week), ("month", month), ("year", year)):
        out.append((name, f"/reports/summary?from={first}&to={today}"))
        out.append((name + " last year", f"/reports/summary?from={ago(first)}&to={ago(today)}"))
    out.append(("pending", "/reports/pending"))
    out.append(
        ("items page", f"/reports/items?figure=appointments&from={month}&to={today}&limit=50")
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=float, default=5, help="the large clinic's history")
    ap.add_argument("--per-day", type=int, default=12, help="appointments per working day")
    args = ap.parse_args()
    resources = benchapi._environment()  # noqa: SLF001
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    from chalicelib.core.keys import generate_secret_value
    from infra.local import moto_dynamodb
    from infra.local.provision import provision

    moto_dynamodb.apply()
    provision(resources, None, os.environ["AWS_REGION"], secret_value=generate_secret_value())  # type: ignore[arg-type]
    meter = benchapi.Meter()
    meter.install()
    import app as app_module

    api = benchapi.Client(app_module.app)
    rnd = random.Random(18)
    results: dict[str, dict[str, Any]] = {}
    for label, days in (("1 month", 31), (f"{args.years:g} years", int(365 * args.years))):
        t0 = time.time()
        c = benchapi.signup(api, f"Clínica {label}")
        cabs = [
            api.call("POST", "/agenda/cabinets", {"name": f"Gabinete {i}"}, c.token).json()["data"][
                "cabinet_id"
            ]
            for i in range(3)
        ]
        n = seed(c.clinic_id, [c.admin_id, "PRO2"], cabs, days, args.per_day, rnd)
        print(f"{label}: {n} records through the consumer's write in {time.time() - t0:.0f} s")
        rows = {}
        for name, path in dashboard(api, c.token):
            with meter.count() as t:
                r = api.call("GET", path, token=c.token)
            assert r.status == 200, (path, r.status, r.body[:300])
            rows[name] = t
        results[label] = rows
    small, large = results.values()
    labels = list(results)
    print(
        f"\n{'request':<20} {'calls':>7} {'RCU':>8} | {'calls':>7} {'RCU':>8} | ratio calls / RCU"
    )
    print(f"{'':<20} {labels[0]:>16} | {labels[1]:>16} |")
    tot = [0, 0.0, 0, 0.0]
    for name in small:
        s, g = small[name], large[name]
        tot = [tot[0] + s.calls, tot[1] + s.rcu, tot[2] + g.calls, tot[3] + g.rcu]
        print(
            f"{name:<20} {s.calls:>7} {s.rcu:>8.1f} | {g.calls:>7} {g.rcu:>8.1f} | "
            f"{g.calls / max(1, s.calls):.2f} / {g.rcu / max(0.5, s.rcu):.2f}"
        )
    print(
        f"{'dashboard':<20} {tot[0]:>7} {tot[1]:>8.1f} | {tot[2]:>7} {tot[3]:>8.1f} | "
        f"{tot[2] / max(1, tot[0]):.2f} / {tot[3] / max(0.5, tot[1]):.2f}  (goal 1.0)"
    )
    mock.stop()


if __name__ == "__main__":
    main()
