"""Demo recalls and follow-ups of Clínica Demo (ADR 1404), so the Follow-up page shows data on
``make run``: the default rules, a dozen patients whose check-up (or retention check) is
overdue, due this week or later, some already booked (their next appointment is in the agenda),
a few estimates sent weeks ago and never answered, treatment planned and not scheduled, and
patients who missed an appointment. Then the reminder job runs once, so the lists show what
was sent (by email, to the patients who consented) and who has no channel.

Written through the recalls services (the same writes the consumer makes); only the start
dates of the follow-ups are set in the past, as if the budgets had been sent weeks ago. Fast:
a few dozen items.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.billing import budgets
from chalicelib.billing import schemas as billing_schemas
from chalicelib.recalls import common, followups, reminders, service
from infra.local.seed.context import DemoContext

# Days from today each demo recall is due (negative: overdue), for the first patients.
DUE_OFFSETS = (-45, -30, -21, -12, -6, -2, 0, 1, 3, 5, 12, 40)


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    if not patient_ids:
        return
    cid = ctx.demo_clinic_id
    tz = common.zone(cid)
    today = common.local_day(cid, tz=tz)
    rules = common.rules(cid)  # the defaults
    checkup = next(r for r in rules if "REV" in (r.codes or []))
    retention = next(r for r in rules if r.ortho_finished)
    days = common.reminder_days(common.settings_of(cid))
    picked = patient_ids[: len(DUE_OFFSETS)]
    for i, (pid, offset) in enumerate(zip(picked, DUE_OFFSETS, strict=False)):
        rule = retention if i % 5 == 4 else checkup
        due = today + timedelta(days=offset)
        done = common.add_months(due, -int(rule.interval_months))
        source = "ortho" if rule is retention else "treatment"
        service.completed(cid, pid, rule, done, source, None, days)
        booked = common.next_booked(cid, pid)
        if booked:  # what the consumer does when the patient has an appointment ahead
            service.booked(cid, pid, booked, days)
    _budgets(ctx, today)
    rest = patient_ids[len(DUE_OFFSETS) :]
    _plans(cid, rest, today, tz)
    _no_shows(cid, rest, today)
    reminders.run()


def _aged(cid: str, pid: str, fid: str, since: str) -> None:
    f = followups.get(cid, pid, fid)
    if f is not None:
        f.since = since
        followups.save(cid, f, int(f.version))


def _budgets(ctx: DemoContext, today) -> None:  # type: ignore[no-untyped-def]
    """The estimates the billing seed left sent: as if sent three to five weeks ago."""
    cid = ctx.demo_clinic_id
    desk = ctx.demo.get("receptionist") or ctx.demo["admin"]
    page = budgets.list_budgets(desk, billing_schemas.BudgetQuery(status="sent", limit=20))
    for n, b in enumerate(page.items):
        fid = followups.fid_budget(b.budget_id)
        followups.on_budget(cid, b.budget_id, common.zone(cid))
        _aged(cid, b.patient_id, fid, (today - timedelta(days=20 + 7 * n)).isoformat())


def _plans(cid: str, patient_ids: list[str], today, tz) -> None:  # type: ignore[no-untyped-def]
    """Patients with treatment planned on the chart and no appointment ahead."""
    found = 0
    for pid in patient_ids[:40]:
        if followups.on_plan(cid, pid, tz) == "opened":
            _aged(cid, pid, "plan", (today - timedelta(days=35 + 9 * found)).isoformat())
            found += 1
        if found >= 4:
            break


def _no_shows(cid: str, patient_ids: list[str], today) -> None:  # type: ignore[no-untyped-def]
    """Two patients who missed an appointment last week and have not booked again."""
    made = 0
    for pid in reversed(patient_ids):
        if made >= 2:
            break
        if common.next_booked(cid, pid) is None and followups.get(cid, pid, "noshow") is None:
            since = (today - timedelta(days=4 + 3 * made)).isoformat()
            followups._open(cid, pid, "noshow", "noshow", since)  # noqa: SLF001
            made += 1
