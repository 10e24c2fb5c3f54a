"""A year of Clínica Demo's history (issue 18), so the dashboard has something to show: the
twelve months before today, with new patients arriving (a few a week), past appointments on
working days across the clinic's cabinets and professionals (mostly attended, some no-shows,
some cancellations, a third of them late), the treatments completed at those visits, budgets
sent (some accepted, some rejected, some still waiting), invoices issued for the completed
work and paid by cash, card, transfer or financing (some left partly unpaid, at every age), and
two rectifying invoices. August and Christmas are quieter. Deterministic (``random.Random``).

How each record is made, and why:

- Patients, budgets, invoices and payments go through their services with the clock at the
  historical instant (``time_machine``): numbering, the VERI*FACTU records (chained and dated
  in the order they were issued), audit entries and events are the real ones. So this step
  runs BEFORE the billing seed issues today's invoices: a record generated after another must
  not be dated before it (Orden HAC/1177/2024 art. 7.i, ``verifactu.service._generated``).
- Appointments and their completed treatments are written through the agenda's and the
  chart's own models and placement functions (``agenda.service._place`` sets the four agenda
  indexes, ``agenda.service.lock_keys`` the slot locks an attended visit keeps), in batches:
  the booking service refuses the past by design (a receptionist records a visit after the
  fact one at a time with ``override``), and a year of visits one service call at a time
  (a booking and three or four status changes each) would take minutes on the local stack.
  No appointment event is published for them, as if the clinic brought its history over from
  its previous software: the notifications consumer would otherwise send cancellation and
  no-show notices for visits months old, and there is no booking to notify. Completed plan
  items are written already linked to the invoice that charged them (what the issue hook
  ``charting.invoicing.mark_invoiced`` would have set), so none lingers on the front desk's
  list of treatments not yet invoiced; no result findings are added to the charts.
- At the end the report figures of the year are rebuilt from those records.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

import chalicelib.verifactu.service  # noqa: F401 - its issue hooks write the VERI*FACTU records
from chalicelib.agenda import schemas as agenda_schemas
from chalicelib.agenda import service as agenda
from chalicelib.agenda.models import Appointment
from chalicelib.billing import budgets, catalog, common, invoices, payments
from chalicelib.billing import schemas as billing
from chalicelib.charting.models import PlanItem
from chalicelib.core import events
from chalicelib.core.db import Item
from chalicelib.core.ids import new_id
from chalicelib.patients import schemas as patient_schemas
from chalicelib.patients import service as patients
from chalicelib.reports.rebuild import rebuild
from infra.local.seed.agenda import NATIONAL_HOLIDAYS
from infra.local.seed.context import DemoContext
from infra.local.seed.patients import _dni

# Volume: what fits the ~30 s this step may add to the first `make run` on a 2-core machine.
# Appointments are cheap (batch writes); each invoice (create, issue, pay: some ten calls to
# the local stand-in) costs 0.2-0.4 s, each budget about as much. Per ordinary week.
APPOINTMENTS_PER_DAY = 7
NEW_PATIENTS_PER_WEEK = 2
BUDGETS_PER_WEEK = 0.5
# Share of the completed visits that bring an invoice (the rest: check-ups and orthodontic
# controls covered by the insurer or by a treatment already paid): one or two a week.
INVOICED_SHARE = 0.055

FIRST = [
    "Alba", "Andrés", "Beatriz", "Carlos", "Clara", "Daniel", "Diego", "Eva", "Fernando",
    "Gloria", "Hugo", "Irene", "Jorge", "Julia", "Luis", "Mercedes", "Miguel", "Noelia",
    "Óscar", "Patricia", "Ramón", "Rosa", "Samuel", "Silvia", "Teresa", "Víctor", "Yolanda",
]  # fmt: skip
LAST = [
    "Aguilar", "Benítez", "Calvo", "Campos", "Carrasco", "Flores", "Fuentes", "Garrido",
    "Gallego", "Herrero", "Lorenzo", "Márquez", "Medina", "Méndez", "Montero", "Pascual",
    "Reyes", "Sáez", "Sanz", "Soler", "Vargas", "Vega",
]  # fmt: skip

# Reason, colour, and the catalog codes a visit of that kind may complete (empty: nothing
# invoiced, e.g. a check-up covered by the insurer), with their weights.
VISITS: list[tuple[str, str, list[str], int]] = [
    ("Revisión", "teal", ["REV", "REV", "OPG", "RXP"], 22),
    ("Limpieza", "blue", ["LIMP"], 18),
    ("Empaste", "indigo", ["OBT1", "OBT2", "OBT2"], 16),
    ("Endodoncia", "purple", ["ENDO1", "ENDO3"], 6),
    ("Ortodoncia", "pink", ["ORTOC"], 12),
    ("Urgencia", "red", ["RXP", "OBT1", "EXO"], 6),
    ("Extracción", "orange", ["EXO", "EXO", "EXOQ"], 6),
    ("Implante", "amber", ["IMP", "CORIMP"], 3),
    ("Periodoncia", "grey", ["PERIO"], 4),
    ("Blanqueamiento", "green", ["BLANQ", "BLANQD"], 3),
    ("Prótesis", "orange", ["CORZR", "FERULA", "PROTC"], 4),
]
BUDGET_PLANS = [
    ("Implante y corona", ["IMP", "CORIMP", "RXP"]),
    ("Endodoncia y corona", ["ENDO3", "CORZR"]),
    ("Ortodoncia con brackets", ["ORTOB", "OPG"]),
    ("Ortodoncia invisible", ["ORTOI", "OPG"]),
    ("Prótesis completa", ["PROTC", "OPG"]),
    ("Blanqueamiento y carilla", ["BLANQ", "CARILLA"]),
    ("Periodoncia por cuadrantes", ["PERIO", "PERIO", "LIMP"]),
    ("Empastes", ["OBT2", "OBT1", "OBT1"]),
]
TOOTHY = ("tooth", "surface")
TEETH = [11, 12, 14, 15, 16, 17, 21, 24, 25, 26, 27, 34, 35, 36, 37, 44, 45, 46, 47]


def _quiet(day: date) -> float:
    """How busy a day is against an ordinary one: August and Christmas are quiet."""
    if day.month == 8:
        return 0.35 if day.day < 25 else 0.6
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 6):
        return 0.3
    if day.month == 7 or (day.month == 4 and day.day <= 14):
        return 0.8
    if day.month in (9, 10):
        return 1.1
    return 1.0


@dataclass
class _Visit:
    a: Appointment
    patient_id: str
    status: str
    local_start: datetime
    codes: list[str] = field(default_factory=list)


@contextmanager
def _at(instant: datetime) -> Iterator[None]:
    """Run the services with the clock at ``instant`` (their "now" stamps, ids and records)."""
    with time_machine.travel(instant, tick=False):
        yield


class _History:
    def __init__(self, ctx: DemoContext, patient_ids: list[str]) -> None:
        self.ctx = ctx
        self.cid = ctx.demo_clinic_id
        self.admin = ctx.demo["admin"]
        self.desk = ctx.demo["receptionist"]
        self.dentist = ctx.demo["dentist"]
        self.rnd = random.Random(18)  # noqa: S311 - demo data
        self.tz = ZoneInfo(common.clinic(self.cid).time_zone)
        self.today = common.local_today(str(self.tz))
        self.first = self.today - timedelta(days=365)
        self.last = self.today - timedelta(days=1)
        # Who was a patient on a day: the demo's own since before the year, then newcomers.
        self.pool: list[tuple[date, str]] = [
            (self.first - timedelta(days=1), p) for p in patient_ids
        ]
        self.treatments = {t.code: t for t in catalog.all_treatments(self.cid)}
        # Who can get a full invoice (above 400 EUR, a customer's tax id): the others (a child)
        # only get what a simplified one can bill.
        found = patients.load_many(self.cid, patient_ids)
        self.with_tax_id = {pid for pid, p in found.items() if p.national_id_sealed}
        self.pros = [(m.user_id, m.name) for m in agenda.professionals(self.cid)]
        self.cabinets = [c.cabinet_id for c in agenda.cabinets(self.cid)]
        self.counts: dict[str, int] = {
            "patients": 0,
            "appointments": 0,
            "treatments": 0,
            "budgets": 0,
            "invoices": 0,
            "payments": 0,
        }

    def local(self, day: date, minutes: int) -> datetime:
        return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=self.tz)

    def days(self) -> Iterator[date]:
        d = self.first
        while d <= self.last:
            yield d
            d += timedelta(days=1)

    def closed(self, day: date) -> bool:
        return day.weekday() >= 5 or day.strftime("%m-%d") in {h for h, _ in NATIONAL_HOLIDAYS}

    # --- closed days -------------------------------------------------------------------------

    def holidays(self) -> None:
        """The national holidays of the past year the agenda seed did not add (it adds this
        year's and next year's), so the year's opening minutes leave them out."""
        listed = agenda.list_holidays(self.admin, agenda_schemas.HolidayQuery())
        have = {h.date.isoformat() for h in listed}
        for year in range(self.first.year, self.today.year + 1):
            for mmdd, name in NATIONAL_HOLIDAYS:
                day = date.fromisoformat(f"{year}-{mmdd}")
                if self.first <= day < self.today and day.isoformat() not in have:
                    agenda.add_holiday(self.admin, agenda_schemas.HolidayIn(date=day, name=name))

    # --- patients ----------------------------------------------------------------------------

    def newcomers(self) -> None:
        rnd = self.rnd
        for day in self.days():
            if self.closed(day) or rnd.random() > NEW_PATIENTS_PER_WEEK / 5 * _quiet(day):
                continue
            first, last, second = rnd.choice(FIRST), rnd.choice(LAST), rnd.choice(LAST)
            user = f"{first}.{last}{rnd.randint(1, 99)}".lower()
            user = user.translate(str.maketrans("áéíóúñ", "aeioun"))
            mobile = f"+346{rnd.randint(10_000_000, 99_999_999)}"
            body = patient_schemas.PatientIn.model_validate(
                {
                    "first_name": first,
                    "last_name": last,
                    "second_last_name": second,
                    "date_of_birth": date(rnd.randint(1945, 2006), rnd.randint(1, 12), 10),
                    "gender": "female" if first[-1] == "a" else "male",
                    "national_id": {"type": "dni", "number": _dni(rnd)},
                    "email": f"{user}@example.com",
                    "phone": mobile,
                    "preferred_channel": "email",
                    "language": "es",
                    "confirm_duplicate": True,
                }
            )
            with _at(self.local(day, rnd.randint(9 * 60, 13 * 60))):
                p = patients.create(self.desk, body)
            self.pool.append((day, p.patient_id))
            self.with_tax_id.add(p.patient_id)
            self.counts["patients"] += 1

    # --- appointments and treatments -----------------------------------------------------------

    def appointments(self) -> list[_Visit]:
        rnd = self.rnd
        visits: list[_Visit] = []
        weights = [w for *_x, w in VISITS]
        for day in self.days():
            if self.closed(day):
                continue
            wanted = max(1, round(APPOINTMENTS_PER_DAY * _quiet(day) * rnd.uniform(0.8, 1.2)))
            pool = [pid for since, pid in self.pool if since <= day]
            seen: set[str] = set()
            free = {c: [9 * 60, 16 * 60] for c in self.cabinets}  # next free minute per block
            for n in range(wanted):
                c = n % len(self.cabinets)
                cab = self.cabinets[c]
                pro_id, pro_name = self.pros[c % len(self.pros)]
                block = rnd.random() < 0.55 or c == 2  # Gabinete 3 works mornings only
                b = 0 if block else 1
                end_of_block = 14 * 60 if b == 0 else 20 * 60
                start_min = free[cab][b] + rnd.choice((0, 0, 15, 30))
                reason, colour, codes, _w = rnd.choices(VISITS, weights)[0]
                duration = rnd.choice((30, 30, 45, 60)) if reason != "Implante" else 90
                if start_min + duration > end_of_block:
                    continue
                free[cab][b] = start_min + duration
                patient = rnd.choice(pool)
                if patient in seen:
                    continue
                seen.add(patient)
                visits.append(
                    self.visit(day, start_min, duration, cab, pro_id, pro_name, patient, reason,
                               colour, codes)
                )  # fmt: skip
        self.counts["appointments"] = len(visits)
        return visits

    def visit(
        self,
        day: date,
        start_min: int,
        duration: int,
        cab: str,
        pro_id: str,
        pro_name: str,
        patient: str,
        reason: str,
        colour: str,
        codes: list[str],
    ) -> _Visit:
        rnd = self.rnd
        local = self.local(day, start_min)
        booked = local - timedelta(days=rnd.randint(1, 30), hours=rnd.randint(0, 8))
        r = rnd.random()
        status = "completed" if r < 0.82 else ("no_show" if r < 0.88 else "cancelled")
        by = self.desk.user_id
        history = [{"status": "scheduled", "at": booked.astimezone(UTC), "by": by}]
        if status == "cancelled":
            late = rnd.random() < 0.35  # less than 24 h before the start
            hours = rnd.randint(2, 20) if late else rnd.randint(26, 24 * 6)
            history.append(
                {
                    "status": "cancelled",
                    "at": max(booked + timedelta(hours=1), local - timedelta(hours=hours)),
                    "by": by,
                    "reason": "El paciente avisó por teléfono",
                }
            )
        elif status == "no_show":
            history.append({"status": "no_show", "at": local + timedelta(minutes=20), "by": by})
        else:
            history += [
                {"status": "confirmed", "at": local - timedelta(days=1, hours=2), "by": by},
                {"status": "checked_in", "at": local - timedelta(minutes=5), "by": by},
                {"status": "in_progress", "at": local + timedelta(minutes=2), "by": pro_id},
                {"status": "completed", "at": local + timedelta(minutes=duration), "by": pro_id},
            ]
        aid = new_id()
        at_booked = booked.astimezone(UTC)
        a = Appointment(
            *Appointment.key(self.cid, aid),
            appointment_id=aid,
            patient_id=patient,
            professional_id=pro_id,
            professional_name=pro_name,
            cabinet_id=cab,
            reason=reason,
            treatment=None,
            colour=colour,
            status=status,
            status_history=[
                {
                    "status": h["status"],
                    "at": h["at"].astimezone(UTC).isoformat(),
                    "by": h["by"],
                    "reason": h.get("reason"),
                }
                for h in history
            ],
            reschedules=[],
            outside_hours=False,
            created_at=at_booked,
            created_by=by,
            updated_at=history[-1]["at"].astimezone(UTC),
            version=len(history),
        )
        agenda._place(a, self.cid, local, duration)  # noqa: SLF001 - the booking's own indexes
        v = _Visit(a, patient, status, local)
        if status == "completed" and rnd.random() < INVOICED_SHARE:
            v.codes = [rnd.choice(codes)]
            if rnd.random() < 0.25:
                v.codes.append(rnd.choice(("RXP", "OPG", "FLUOR", "CEPI")))
            if patient not in self.with_tax_id and self.price(v.codes) > 400:
                v.codes = ["REV"]
        return v

    def price(self, codes: list[str]) -> float:
        """What the codes add up to, VAT included (roughly: for the simplified limit)."""
        vat = {"IVA21": 1.21}
        return sum(
            int(self.treatments[c].price_cents) / 100 * vat.get(self.treatments[c].vat_code, 1)
            for c in codes
        )

    def write_visits(self, visits: list[_Visit]) -> None:
        """The appointments, in batches. Without the slot locks an attended visit keeps: on
        the local stand-in (moto) every query of the clinic's partition reads all of it, and a
        year of 5-minute locks (some 25,000 items) made every later query in the demo several
        times slower. A past slot is booked again only with ``override`` (a visit recorded
        after the fact), where a clash with the history is then not refused."""
        with Item.batch_write() as batch:
            for v in visits:
                batch.save(v.a)

    def plan_items(self, v: _Visit, invoice_id: str | None) -> list[tuple[PlanItem, Any]]:
        """The visit's treatments, completed at its end, with what each is billed as."""
        out = []
        done = datetime.fromisoformat(v.a.status_history[-1]["at"])
        for code in v.codes:
            t = self.treatments[code]
            tooth = self.rnd.choice(TEETH) if t.scope in TOOTHY else None
            surfaces = ["O", "D"][: 1 + (code == "OBT2")] if t.scope == "surface" else []
            iid = new_id()
            it = PlanItem(
                *PlanItem.key(self.cid, v.patient_id, iid),
                item_id=iid,
                patient_id=v.patient_id,
                treatment_id=t.treatment_id,
                treatment_code=t.code,
                name_es=t.name_es,
                name_en=t.name_en,
                scope=t.scope,
                tooth=tooth,
                surfaces=surfaces,
                quadrant=self.rnd.randint(1, 4) if t.scope == "quadrant" else None,
                status="completed",
                created_at=v.a.created_at,
                created_by=v.a.professional_id,
                completed_at=done,
                completed_by=v.a.professional_id,
                invoiced=invoice_id is not None,
                invoice_id=invoice_id,
                version=2,
            )
            line = billing.InvoiceLineIn(treatment_id=t.treatment_id, tooth=tooth)
            out.append((it, line))
        return out

    # --- budgets -------------------------------------------------------------------------------

    def budget_plan(self) -> list[tuple[datetime, str, str, list[str]]]:
        rnd = self.rnd
        plan = []
        for day in self.days():
            if self.closed(day) or rnd.random() > BUDGETS_PER_WEEK / 5 * _quiet(day):
                continue
            pool = [pid for since, pid in self.pool if since <= day]
            title, codes = rnd.choice(BUDGET_PLANS)
            plan.append((self.local(day, rnd.randint(10 * 60, 19 * 60)), rnd.choice(pool), title,
                         codes))  # fmt: skip
        return plan

    def budget(self, when: datetime, pid: str, title: str, codes: list[str]) -> list[Any]:
        """Sent (no email: the patient took it home); most answered within two weeks. What
        comes later (an answer) is returned as (instant, callable) to run in time order."""
        rnd = self.rnd
        lines = [
            billing.BudgetLineIn(
                treatment_id=self.treatments[c].treatment_id,
                tooth=rnd.choice(TEETH) if self.treatments[c].scope in TOOTHY else None,
                surfaces=["O"] if self.treatments[c].scope == "surface" else [],
            )
            for c in codes
        ]
        with _at(when):
            b = budgets.create(
                self.dentist, billing.BudgetIn(patient_id=pid, title=title, lines=lines)
            )
            budgets.send(self.desk, b.budget_id, billing.SendBudgetIn(valid_days=30, email=False))
        self.counts["budgets"] += 1
        answer = when + timedelta(days=rnd.randint(1, 14), hours=rnd.randint(0, 3))
        if answer.date() >= self.today:
            return []
        r = rnd.random()
        if r < 0.45:
            body = billing.AcceptBudgetIn(signer_name="Paciente", relationship="self")
            return [(answer, lambda: budgets.accept(self.desk, b.budget_id, body))]
        if r < 0.7:
            body_r = billing.RejectBudgetIn(reason=rnd.choice(("Precio", "Prefiere pensarlo")))
            return [(answer, lambda: budgets.reject(self.desk, b.budget_id, body_r))]
        return []  # still pending (the recent ones) or expired by the daily job

    # --- invoices and payments ------------------------------------------------------------------

    def invoice(self, v: _Visit) -> list[PlanItem]:
        """Issued at the end of the visit; paid then, later or (some) not in full yet."""
        rnd = self.rnd
        done = datetime.fromisoformat(v.a.status_history[-1]["at"])
        items = self.plan_items(v, "pending")
        with _at(done + timedelta(minutes=5)):
            draft = invoices.create(
                self.desk,
                billing.InvoiceIn(patient_id=v.patient_id, lines=[ln for _i, ln in items]),
            )
            inv = invoices.issue(self.desk, draft.invoice_id)
        self.counts["invoices"] += 1
        for it, _ln in items:
            it.invoice_id = inv.invoice_id
        total = Decimal(inv.total)
        age = (self.today - v.local_start.date()).days
        r = rnd.random()
        if r < 0.07 or (age < 30 and r < 0.2):
            paid = Decimal(0) if rnd.random() < 0.5 else (total / 2).quantize(Decimal("0.01"))
        else:
            paid = total
        if paid > 0:
            method = (
                "financing"
                if total >= 900 and rnd.random() < 0.6
                else rnd.choices(("card", "cash", "transfer"), (55, 30, 15))[0]
            )
            later = 0 if method in ("card", "cash") else rnd.randint(0, 10)
            when = done + timedelta(days=later, minutes=10)
            if when.date() >= self.today:
                when = done + timedelta(minutes=10)
            with _at(when):
                payments.record(
                    self.desk,
                    inv.invoice_id,
                    billing.PaymentIn(amount=paid, method=method),
                )
            self.counts["payments"] += 1
        return [it for it, _ln in items]

    def rectify(self, invoice_id: str) -> None:
        """A line charged by mistake: a rectifying invoice by differences, the money back
        (run at its moment, in the timeline)."""
        inv = invoices.get(self.admin, invoice_id)
        line = inv.lines[-1]
        rect = invoices.rectify(
            self.admin,
            invoice_id,
            billing.RectifyIn(
                reason="Tratamiento facturado por error",
                lines=[
                    billing.InvoiceLineIn(
                        treatment_id=line.treatment_id, tooth=line.tooth, quantity=Decimal(-1)
                    )
                ],
            ),
        )
        invoices.issue(self.admin, rect.invoice_id)
        self.counts["invoices"] += 1
        paid = Decimal(invoices.get(self.admin, invoice_id).paid)
        if paid > 0:
            back = min(paid, Decimal(line.total))
            payments.refund(self.desk, invoice_id, billing.RefundIn(amount=back, method="card"))


def seed(ctx: DemoContext, patient_ids: list[str]) -> dict[str, Any]:
    h = _History(ctx, patient_ids)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    h.holidays()
    with events.batched():  # hundreds of events: ten per call
        h.newcomers()
    lap("patients")
    visits = h.appointments()  # written at the end: the services below query the clinic's
    # partition, which on the local stand-in costs in proportion to what is in it
    # Everything the services write, in time order: VERI*FACTU records are chained in the
    # order they are generated, and budget and invoice numbers follow their dates. What
    # happens later (a budget's answer, a rectification) waits in ``later`` for its moment.
    timeline: list[tuple[datetime, int, Any]] = [
        (when, 0, (when, pid, title, codes)) for when, pid, title, codes in h.budget_plan()
    ]
    timeline += [
        (datetime.fromisoformat(v.a.status_history[-1]["at"]), 1, v) for v in visits if v.codes
    ]
    timeline.sort(key=lambda x: (x[0], x[1]))
    # Two invoices with a line charged by mistake, found and put right twelve days later.
    several = [x for _w, kind, x in timeline if kind == 1 and len(x.codes) > 1]
    mistakes = {id(several[len(several) // 4]), id(several[len(several) // 2])}
    later: list[tuple[datetime, Any]] = []
    items: list[PlanItem] = []

    def until(moment: datetime | None) -> None:
        while later and (moment is None or later[0][0] <= moment):
            at, act = later.pop(0)
            with _at(at):
                act()

    with events.batched():
        for when, kind, what in timeline:
            until(when)
            if kind == 0:
                later += h.budget(*what)
            else:
                done = h.invoice(what)
                items += done
                if id(what) in mistakes:
                    inv_id = done[0].invoice_id
                    later.append((when + timedelta(days=12), lambda i=inv_id: h.rectify(i)))
            later.sort(key=lambda x: x[0])
        until(None)
    lap("billing")
    h.write_visits(visits)
    with Item.batch_write() as batch:
        for it in items:
            batch.save(it)
    h.counts["treatments"] = len(items)
    lap("visits")
    figures = rebuild(h.cid, h.first, h.last)
    lap("rebuild")
    return {**h.counts, "seconds": timings, "rebuilt": figures}
