"""Demo agenda of Clínica Demo: Gabinete 1..3, opening hours Mon-Fri 09:00-14:00 and
16:00-20:00, the national holidays of the year plus a local closed day next Friday, and
appointments across this week and next in every status (through the agenda service, so slot
locks, audit and events are real)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from chalicelib.agenda import schemas, service
from chalicelib.core.errors import Conflict
from chalicelib.core.ids import now
from infra.local.seed.context import DemoContext

NATIONAL_HOLIDAYS = [
    ("01-01", "Año Nuevo"),
    ("01-06", "Epifanía del Señor"),
    ("05-01", "Fiesta del Trabajo"),
    ("05-02", "Fiesta de la Comunidad de Madrid"),
    ("08-15", "Asunción de la Virgen"),
    ("10-12", "Fiesta Nacional de España"),
    ("11-01", "Todos los Santos"),
    ("12-06", "Día de la Constitución"),
    ("12-08", "Inmaculada Concepción"),
    ("12-25", "Navidad"),
]
REASONS = [
    ("Revisión", None, "teal"),
    ("Limpieza", "Tartrectomía", "blue"),
    ("Empaste", "Obturación composite", "indigo"),
    ("Endodoncia", "Endodoncia molar", "purple"),
    ("Ortodoncia", "Control brackets", "pink"),
    ("Urgencia", "Dolor agudo", "red"),
    ("Extracción", "Exodoncia simple", "orange"),
    ("Implante", "Revisión implante", "amber"),
    ("Blanqueamiento", None, "green"),
    ("Primera visita", None, "grey"),
]


def _status_plan(start: datetime, end: datetime, current: datetime, n: int) -> list[str]:
    if end <= current:
        return (
            ["confirmed", "checked_in", "in_progress", "completed"]
            if n % 6
            else (["no_show"] if n % 12 else ["cancelled"])
        )
    if start <= current < end:
        return ["confirmed", "checked_in", "in_progress"]
    return [] if n % 3 else (["confirmed"] if n % 9 else ["cancelled"])


def seed(ctx: DemoContext, patient_ids: list[str]) -> int:
    """Returns how many appointments were booked."""
    rnd = random.Random(42)  # noqa: S311 - demo data
    admin = ctx.demo["admin"]
    cabinets = [
        service.create_cabinet(admin, schemas.CabinetIn(name=f"Gabinete {i}", position=i))
        for i in (1, 2, 3)
    ]
    ranges = [{"start": "09:00", "end": "14:00"}, {"start": "16:00", "end": "20:00"}]
    service.set_hours(
        admin,
        schemas.OpeningHoursIn.model_validate(
            {d: ranges for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
        ),
    )
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    local_day = monday + timedelta(days=11)  # next week's Friday
    service.add_holiday(admin, schemas.HolidayIn(date=local_day, name="Fiesta local"))
    seeded_days = {monday + timedelta(days=i) for i in range(14)}
    for year in (today.year, today.year + 1):
        for mmdd, name in NATIONAL_HOLIDAYS:
            day = date.fromisoformat(f"{year}-{mmdd}")
            if day not in seeded_days:
                service.add_holiday(admin, schemas.HolidayIn(date=day, name=name))
    pros = [m.user_id for m in service.professionals(ctx.demo_clinic_id)]
    tz = service.clinic_zone(ctx.demo_clinic_id)
    current = now()
    used: set[str] = set()
    booked = 0
    for offset in range(14):
        day = monday + timedelta(days=offset)
        if day.weekday() >= 5 or day == local_day:
            continue
        for c, cab in enumerate(cabinets):
            pro = pros[c % len(pros)]
            # Gabinete 3 (hygiene) works mornings only; a real day has gaps between visits.
            blocks = ((9 * 60, 14 * 60), (16 * 60, 20 * 60))[: 1 if c == 2 else 2]
            for block_start, block_end in blocks:
                t = block_start + rnd.choice((0, 15, 30))
                while True:
                    duration = rnd.choice((30, 45, 60, 60, 90))
                    if t + duration > block_end:
                        break
                    start = datetime(day.year, day.month, day.day, t // 60, t % 60)
                    reason, treatment, colour = rnd.choice(REASONS)
                    try:
                        appt = service.create(
                            admin,
                            schemas.AppointmentIn(
                                patient_id=rnd.choice(patient_ids),
                                professional_id=pro,
                                cabinet_id=cab.cabinet_id,
                                start=start,
                                duration_min=duration,
                                reason=reason,
                                treatment=treatment,
                                colour=colour,  # type: ignore[arg-type]
                                # this week's days gone by are booked after the fact
                                override=start < current.astimezone(tz).replace(tzinfo=None),
                            ),
                        )
                    except Conflict:
                        t += 15
                        continue
                    booked += 1
                    local = start.replace(tzinfo=tz)
                    end = local + timedelta(minutes=duration)
                    for status in _status_plan(local, end, current, booked):
                        service.change_status(
                            admin,
                            appt.appointment_id,
                            schemas.StatusIn(
                                status=status,  # type: ignore[arg-type]
                                reason="El paciente avisó por teléfono"
                                if status == "cancelled"
                                else None,
                            ),
                        )
                        used.add(status)
                    t += duration + rnd.choice((0, 15, 30, 60))
    _cover_every_status(ctx, used)
    return booked


def _cover_every_status(ctx: DemoContext, used: set[str]) -> None:
    """If the seed runs on a weekend or at night, no appointment is under way: put the
    workflow's middle states on the next scheduled ones so the demo shows every status."""
    admin = ctx.demo["admin"]
    missing = [
        s
        for s in ("confirmed", "checked_in", "in_progress", "completed", "no_show", "cancelled")
        if s not in used
    ]
    if not missing:
        return
    paths = {
        "confirmed": ["confirmed"],
        "checked_in": ["checked_in"],
        "in_progress": ["checked_in", "in_progress"],
        "completed": ["checked_in", "in_progress", "completed"],
        "no_show": ["no_show"],
        "cancelled": ["cancelled"],
    }
    day = date.today()
    candidates: list[str] = []
    for offset in range(14):
        q = schemas.DayQuery(date=day + timedelta(days=offset))
        for a in service.day_view(admin, q).appointments:
            if a.status == "scheduled":
                candidates.append(a.appointment_id)
    for status, aid in zip(missing, candidates, strict=False):
        for step in paths[status]:
            service.change_status(admin, aid, schemas.StatusIn(status=step))  # type: ignore[arg-type]
