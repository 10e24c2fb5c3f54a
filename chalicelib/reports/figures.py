"""Reading the figures (ADR 1301): a period's summary, one day (the end-of-day email), the
state figures and the lists behind them. Every read is a fixed number of DynamoDB calls
whatever the clinic's history: a range of up to 62 days reads its day items (one Query), a
longer one its month items and the days of the months it only covers in part (three Queries
at most); open minutes come from the opening hours, holidays and active cabinets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.agenda import service as agenda
from chalicelib.agenda.models import Cabinet
from chalicelib.agenda.schemas import WEEKDAYS
from chalicelib.billing import money
from chalicelib.billing.common import local_today
from chalicelib.core.db import clinic_pk
from chalicelib.core.errors import BadRequest
from chalicelib.core.i18n import tr
from chalicelib.identity.models import Clinic, Membership
from chalicelib.identity.service import get_clinic
from chalicelib.reports import models as m
from chalicelib.reports import schemas, store

MAX_DAYS = 400
DAILY_UP_TO = 62
MONEY = (
    "production",
    "invoiced",
    "collected",
    "refunded",
    "budgets_presented_value",
    "budgets_accepted_value",
)
COUNTS = (
    "treatments_completed",
    "invoices_issued",
    "appointments",
    "attended",
    "no_shows",
    "cancellations",
    "late_cancellations",
    "booked_minutes",
    "attended_minutes",
    "new_patients",
    "budgets_presented",
    "budgets_accepted",
)
PROFESSIONAL = (
    "production",
    "treatments_completed",
    "appointments",
    "attended",
    "no_shows",
    "booked_minutes",
    "attended_minutes",
)
CABINET = ("booked_minutes", "attended_minutes")
BUCKETS = (("0_30", 0, 30), ("31_60", 31, 60), ("61_90", 61, 90))


# --- input -----------------------------------------------------------------------------------


def parse_day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat(str(text or ""))
    except ValueError as exc:
        raise BadRequest(
            tr(
                f"'{field}' must be a date as YYYY-MM-DD, e.g. 2026-12-01.",
                f"'{field}' debe ser una fecha AAAA-MM-DD, p. ej. 2026-12-01.",
            ),
            errors=[{"field": field, "message": tr("not a date", "no es una fecha")}],
        ) from exc


def parse_range(date_from: str | None, date_to: str | None) -> tuple[date, date]:
    first, last = parse_day(date_from, "from"), parse_day(date_to, "to")
    if first > last:
        raise BadRequest(
            tr(
                "'from' is after 'to': swap the dates.",
                "'from' es posterior a 'to': intercambia las fechas.",
            )
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest(
            tr(
                f"A report covers at most {MAX_DAYS} days; choose a shorter range.",
                f"Un informe abarca como mucho {MAX_DAYS} días; elige un periodo más corto.",
            )
        )
    return first, last


# --- the clinic's calendar -------------------------------------------------------------------


@dataclass
class Calendar:
    clinic: Clinic
    hours: dict[str, list[dict[str, str]]]
    holidays: set[str]
    cabinets: list[Cabinet]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic.time_zone)

    def open_per_cabinet(self, day: date) -> int:
        if day.isoformat() in self.holidays:
            return 0
        total = 0
        for span in self.hours.get(WEEKDAYS[day.weekday()]) or []:
            sh, sm = (int(x) for x in span["start"].split(":"))
            eh, em = (int(x) for x in span["end"].split(":"))
            total += max(0, (eh * 60 + em) - (sh * 60 + sm))
        return total

    def open_minutes(self, first: date, last: date) -> int:
        """Minutes open per active cabinet over the days, times the active cabinets."""
        per = sum(self.open_per_cabinet(d) for d in days(first, last))
        return per * len(self.cabinets)


def calendar(cid: str, first: date, last: date) -> Calendar:
    return Calendar(
        clinic=get_clinic(cid),
        hours=agenda.opening_hours(cid),
        holidays=set(agenda.holidays_between(cid, first, last)),
        cabinets=[c for c in agenda.cabinets(cid) if c.active],
    )


def days(first: date, last: date) -> Iterable[date]:
    for i in range((last - first).days + 1):
        yield first + timedelta(days=i)


# --- aggregates ------------------------------------------------------------------------------


def _sum(items: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items:
        for k, v in it.items():
            out[k] = out.get(k, 0) + v
    return out


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def day_items(cid: str, first: date, last: date) -> dict[str, dict[str, int]]:
    """{YYYY-MM-DD: figures} of the days (one Query)."""
    got = store.query_range(cid, m.day_sk(first.isoformat()), m.day_sk(last.isoformat()))
    return {sk[len(m.DAY_PREFIX) :]: v for sk, v in got.items()}


def series(cid: str, first: date, last: date) -> tuple[str, list[tuple[str, dict[str, int]]]]:
    """(granularity, [(period, figures)]) with every period of the range, empty ones too."""
    if (last - first).days + 1 <= DAILY_UP_TO:
        got = day_items(cid, first, last)
        return "day", [(d.isoformat(), got.get(d.isoformat(), {})) for d in days(first, last)]
    # Whole months from their month items; the months the range covers only in part from
    # their days.
    head_end = _month_end(first)
    tail_start = last.replace(day=1)
    whole_from = first if first.day == 1 else head_end + timedelta(days=1)
    whole_to = last if last == _month_end(last) else tail_start - timedelta(days=1)
    months: dict[str, dict[str, int]] = {}
    if whole_from <= whole_to:
        got = store.query_range(
            cid, m.month_sk(whole_from.isoformat()[:7]), m.month_sk(whole_to.isoformat()[:7])
        )
        months = {sk[len(m.MONTH_PREFIX) :]: v for sk, v in got.items()}
    partial: dict[str, dict[str, int]] = {}
    if first.day != 1:
        partial.update(day_items(cid, first, min(head_end, last)))
    if last != _month_end(last) and tail_start > first:
        partial.update(day_items(cid, max(tail_start, first), last))
    out = []
    cursor = first.replace(day=1)
    while cursor <= last:
        key = cursor.isoformat()[:7]
        if key in months or whole_from <= cursor <= whole_to:
            out.append((key, months.get(key, {})))
        else:
            out.append((key, _sum(v for d, v in partial.items() if d.startswith(key))))
        cursor = _month_end(cursor) + timedelta(days=1)
    return "month", out


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def figures_of(agg: dict[str, int], open_minutes: int) -> dict[str, Any]:
    out: dict[str, Any] = {k: money.fmt(int(agg.get(k, 0))) for k in MONEY}
    out.update({k: int(agg.get(k, 0)) for k in COUNTS})
    out["collected_by_method"] = {
        k.split("|m:", 1)[1]: money.fmt(int(v))
        for k, v in sorted(agg.items())
        if k.startswith("collected|m:")
    }
    out["show_rate"] = _rate(out["attended"], out["attended"] + out["no_shows"])
    out["open_minutes"] = open_minutes
    out["utilisation"] = _rate(out["booked_minutes"], open_minutes)
    return out


def _period_bounds(period: str, first: date, last: date) -> tuple[date, date]:
    if len(period) == 10:
        d = date.fromisoformat(period)
        return d, d
    start = date.fromisoformat(period + "-01")
    return max(start, first), min(_month_end(start), last)


def _dimension(totals: dict[str, int], marker: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for k, v in totals.items():
        if f"|{marker}:" in k:
            figure, ident = k.split(f"|{marker}:", 1)
            out.setdefault(ident, {})[figure] = v
    return out


def staff_names(cid: str) -> dict[str, str]:
    return {
        mb.user_id: mb.name
        for mb in Membership.query(clinic_pk(cid), Membership.SK.startswith("MEMBER#"))
        if isinstance(mb, Membership)
    }


def summary(cid: str, first: date, last: date) -> Any:
    cal = calendar(cid, first, last)
    granularity, periods = series(cid, first, last)
    totals = _sum(v for _, v in periods)
    rows = []
    for period, agg in periods:
        lo, hi = _period_bounds(period, first, last)
        rows.append(
            schemas.PeriodFigures(period=period, **figures_of(agg, cal.open_minutes(lo, hi)))
        )
    per_cabinet_open = cal.open_minutes(first, last) // max(1, len(cal.cabinets))
    names = staff_names(cid)
    pros = _dimension(totals, "p")
    cabs = _dimension(totals, "c")
    professionals = [
        schemas.ProfessionalFigures(
            professional_id=pid,
            name=names.get(pid, ""),
            production=money.fmt(int(f.get("production", 0))),
            **{k: int(f.get(k, 0)) for k in PROFESSIONAL if k != "production"},
        )
        for pid, f in sorted(pros.items(), key=lambda kv: (names.get(kv[0], ""), kv[0]))
        if any(f.values())
    ]
    cabinets = [
        schemas.CabinetFigures(
            cabinet_id=c.cabinet_id,
            name=c.name,
            open_minutes=per_cabinet_open,
            booked_minutes=int(cabs.get(c.cabinet_id, {}).get("booked_minutes", 0)),
            attended_minutes=int(cabs.get(c.cabinet_id, {}).get("attended_minutes", 0)),
            utilisation=_rate(
                int(cabs.get(c.cabinet_id, {}).get("booked_minutes", 0)), per_cabinet_open
            ),
        )
        for c in cal.cabinets
    ]
    return schemas.SummaryOut(
        **{"from": first.isoformat(), "to": last.isoformat()},
        currency=cal.clinic.currency,
        time_zone=cal.clinic.time_zone,
        granularity=granularity,
        totals=schemas.Figures(**figures_of(totals, cal.open_minutes(first, last))),
        series=rows,
        professionals=professionals,
        cabinets=cabinets,
    )


def day(clinic_id: str, day: date) -> schemas.Figures:
    """The figures of one local day (the end-of-day email's appointments and money)."""
    cal = calendar(clinic_id, day, day)
    agg = store.get_one(clinic_id, m.day_sk(day.isoformat()))
    return schemas.Figures(**figures_of(agg, cal.open_minutes(day, day)))


# --- state figures ---------------------------------------------------------------------------


def _ages(
    by_day: dict[str, dict[str, int]], today: date, amount: str, count: str, total: dict[str, int]
) -> list[schemas.AgeBucket]:
    out = []
    left_amount, left_count = int(total.get(amount, 0)), int(total.get(count, 0))
    for name, lo, hi in BUCKETS:
        a = c = 0
        for d, v in by_day.items():
            age = (today - date.fromisoformat(d)).days
            if lo <= max(age, 0) <= hi:
                a, c = a + int(v.get(amount, 0)), c + int(v.get(count, 0))
        left_amount, left_count = left_amount - a, left_count - c
        out.append(schemas.AgeBucket(bucket=name, amount=money.fmt(a), count=c))  # type: ignore[arg-type]
    out.append(schemas.AgeBucket(bucket="over_90", amount=money.fmt(left_amount), count=left_count))
    return out


def pending(cid: str) -> schemas.PendingOut:
    """As of now: one GetItem of the totals, one Query of the last 91 days' state items."""
    clinic = get_clinic(cid)
    today = local_today(clinic.time_zone)
    total = store.get_one(cid, m.STATE_SK)
    got = store.query_range(
        cid, m.state_day_sk((today - timedelta(days=90)).isoformat()), m.state_day_sk("9999")
    )
    by_day = {sk[len(m.STATE_DAY_PREFIX) :]: v for sk, v in got.items()}
    return schemas.PendingOut(
        as_of=today.isoformat(),
        currency=clinic.currency,
        balances=schemas.Balances(
            outstanding=money.fmt(int(total.get("outstanding", 0))),
            invoices=int(total.get("outstanding_invoices", 0)),
            ages=_ages(by_day, today, "outstanding", "outstanding_invoices", total),
        ),
        budgets=schemas.PendingBudgets(
            pending=int(total.get("pending_budgets", 0)),
            pending_value=money.fmt(int(total.get("pending_budgets_value", 0))),
            ages=_ages(by_day, today, "pending_budgets_value", "pending_budgets", total),
        ),
    )
