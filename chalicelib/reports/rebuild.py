"""Rebuild the figures of a clinic's local days, and its state figures, from the records
(ADR 1301):
``python -m chalicelib.reports.rebuild --clinic <id> --from YYYY-MM-DD --to YYYY-MM-DD``.

The records come through their modules' indexes: appointments by start (agenda GSI4), payments
by local paid day (billing GSI3 ``PAYDAY``), invoices and budgets from their clinic lists
(GSI1, all of them: the state figures are as of now whatever the dates), patients from theirs
(GSI1) and each one's chart plan for the completed treatments. Each record's contribution is
computed as the consumer would; what it adds to the days in range and to the state replaces
what was stored (what it adds outside the range is kept, so the next event's difference stays
right), and the day items of the range, the month items that cover them, the state-by-day items
and the state totals are written whole from the contributions: a corrupted aggregate is
repaired. A one-off for backfills and repairs; it reads the clinic's whole lists, not per day.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.agenda.models import Appointment, clinic_index
from chalicelib.billing.models import Budget, Invoice, Payment, Treatment
from chalicelib.charting.models import PlanItem, chart_prefix
from chalicelib.core import scoping
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.observability import logger
from chalicelib.identity.service import get_clinic
from chalicelib.patients.models import Patient
from chalicelib.reports import figures, sources, store
from chalicelib.reports import models as m
from chalicelib.reports.store import Contribution

Key = tuple[str, str]


def _in_scope(sk: str, first: str, last: str) -> bool:
    """What the rebuild owns: the days of the range, the state (months follow their days)."""
    if sk.startswith(m.DAY_PREFIX):
        return first <= sk[len(m.DAY_PREFIX) :] <= last
    return sk == m.STATE_SK or sk.startswith(m.STATE_DAY_PREFIX)


def _entry_in_scope(sk: str, first: str, last: str) -> bool:
    listing, _, rest = sk[len("RPT#I#") :].partition("#")
    if listing.split("|", 1)[0] in ("outstanding", "pending_budgets"):
        return True
    return first <= rest[:10] <= last


def _utc(d: date, tz: ZoneInfo) -> str:
    return datetime.combine(d, time(0), tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fresh(cid: str, first: date, last: date, tz: ZoneInfo) -> Iterator[tuple[Key, Contribution]]:
    lo, hi = _utc(first, tz), _utc(last + timedelta(days=1), tz)
    for a in Item.gsi4.query(clinic_index(cid), Item.GSI4SK.between(lo, hi)):
        if isinstance(a, Appointment) and a.start_utc < hi:
            yield ("appointment", a.appointment_id), sources.appointment(a, tz)
    for d in figures.days(first, last):
        for p in Item.gsi3.query(Payment.day_pk(cid, d.isoformat())):
            if isinstance(p, Payment):
                yield ("payment", p.payment_id), sources.payment(p, tz)
    for inv in Item.gsi1.query(Invoice.list_pk(cid)):
        if isinstance(inv, Invoice):
            yield ("invoice", inv.invoice_id), sources.invoice(inv)
    budgets: dict[str, Budget] = {}
    for b in Item.gsi1.query(Budget.list_pk(cid)):
        if isinstance(b, Budget):
            budgets[b.budget_id] = b
            yield ("budget", b.budget_id), sources.budget(b, tz)
    catalog = {
        t.treatment_id: t
        for t in Item.query(clinic_pk(cid), Item.SK.startswith("TRT#"))
        if isinstance(t, Treatment)
    }
    for p in Item.gsi1.query(Patient.list_pk(cid)):
        if not isinstance(p, Patient):
            continue
        yield ("patient", p.patient_id), sources.patient(p, tz)
        for it in Item.query(clinic_pk(cid), Item.SK.startswith(chart_prefix(p.patient_id) + "P#")):
            if isinstance(it, PlanItem) and it.status == "completed":
                c = sources.treatment(
                    it, tz, budgets.get(it.budget_id or ""), catalog.get(it.treatment_id)
                )
                yield ("treatment", it.item_id), c


def _stored(cid: str) -> dict[Key, Contribution]:
    out = {}
    for c in m.ReportContribution.query(
        clinic_pk(cid), m.ReportContribution.SK.startswith("RPT#C#")
    ):
        if isinstance(c, m.ReportContribution):
            out[(c.kind, c.record_id)] = Contribution(
                dict(c.aggregates or {}), dict(c.entries or {})
            )
    return out


def _with_months(aggs: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The day parts with the month parts they make (a contribution's months are its days')."""
    out = {sk: v for sk, v in aggs.items() if not sk.startswith(m.MONTH_PREFIX)}
    for sk, v in list(out.items()):
        if sk.startswith(m.DAY_PREFIX):
            month = out.setdefault(m.month_sk(sk[len(m.DAY_PREFIX) : len(m.DAY_PREFIX) + 7]), {})
            for k, n in v.items():
                month[k] = month.get(k, 0) + n
    return out


def _merge(fresh: Contribution, stored: Contribution, first: str, last: str) -> Contribution:
    aggs = {sk: v for sk, v in stored.aggregates.items() if not _in_scope(sk, first, last)}
    aggs.update({sk: v for sk, v in fresh.aggregates.items() if _in_scope(sk, first, last)})
    entries = {sk: r for sk, r in stored.entries.items() if not _entry_in_scope(sk, first, last)}
    entries.update({sk: r for sk, r in fresh.entries.items() if _entry_in_scope(sk, first, last)})
    return Contribution(_with_months(aggs), entries)


def _write_entries(cid: str, old: Contribution, new: Contribution) -> None:
    pk = clinic_pk(cid)
    for sk in set(old.entries) - set(new.entries):
        m.ReportEntry(pk, sk).delete()
    for sk, row in new.entries.items():
        if old.entries.get(sk) != row:
            store.db.client().put_item(
                TableName=store.db.table_name(),
                Item=store._entry_item(pk, sk, row),  # noqa: SLF001
            )


def rebuild(clinic_id: str, start: date, end: date) -> dict[str, int]:
    """Recompute the figures of the local days ``start``..``end`` and the state figures."""
    cid = clinic_id
    with scoping.clinic(cid):
        tz = ZoneInfo(get_clinic(cid).time_zone)
        first, last = start.isoformat(), end.isoformat()
        stored = _stored(cid)
        fresh = dict(_fresh(cid, start, end, tz))
        targets: dict[Key, Contribution] = {}
        written = 0
        for key in set(stored) | set(fresh):
            old = stored.get(key, Contribution())
            new = _merge(fresh.get(key, Contribution()), old, first, last)
            targets[key] = new
            if (new.aggregates, new.entries) != (old.aggregates, old.entries):
                _write_entries(cid, old, new)
                store.put_contribution(cid, key[0], key[1], new)
                written += 1
        # The aggregates the rebuild owns, whole from the contributions.
        sums: dict[str, dict[str, int]] = {}
        for c in targets.values():
            for sk, v in c.aggregates.items():
                if _in_scope(sk, first, last) or sk.startswith(m.MONTH_PREFIX):
                    bucket = sums.setdefault(sk, {})
                    for k, n in v.items():
                        bucket[k] = bucket.get(k, 0) + n
        days = [m.day_sk(d.isoformat()) for d in figures.days(start, end)]
        months = sorted({sk[:-3].replace(m.DAY_PREFIX, m.MONTH_PREFIX) for sk in days})
        existing_state = store.query_range(cid, m.STATE_DAY_PREFIX, m.STATE_DAY_PREFIX + "~")
        for sk in [
            *days,
            *months,
            m.STATE_SK,
            *existing_state,
            *(s for s in sums if s.startswith(m.STATE_DAY_PREFIX)),
        ]:
            figures_ = {k: v for k, v in sums.get(sk, {}).items() if v}
            if figures_:
                store.overwrite(cid, sk, figures_)
            else:
                store.delete(cid, sk)
        return {
            "days": len(days),
            "months": len(months),
            "records": len(targets),
            "contributions_written": written,
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clinic", required=True)
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
    args = p.parse_args(argv)
    counts = rebuild(args.clinic, args.start, args.end)
    logger.info("report figures rebuilt", extra={"clinic_id": args.clinic, **counts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
