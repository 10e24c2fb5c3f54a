"""The end-of-day email: at 16:00 in the clinic's own zone, a summary for its owner(s).

Sections: today's appointments by outcome, production invoiced and collected (both from the
reports' figures of the day, :func:`chalicelib.reports.figures.day`), tomorrow's first
appointments, then the sections of the modules in :data:`SECTION_MODULES` (each has
``section(clinic_id, day, lang) -> Section | None``, imported when a summary is built, so the
lazy route loading of ADR 0017 cannot leave one out). Sent at most once per clinic and local
day (conditional write of ``EodSent``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError

from chalicelib.agenda.models import Appointment, clinic_index
from chalicelib.billing import money
from chalicelib.billing.models import Invoice, InvoiceIssuedOn
from chalicelib.comms import service, templates
from chalicelib.comms.models import EodSent
from chalicelib.comms.templates import Section
from chalicelib.core import mail
from chalicelib.core.db import Item
from chalicelib.core.ids import ulid_ceiling, ulid_floor
from chalicelib.identity.models import Clinic
from chalicelib.identity.service import admin_emails
from chalicelib.patients import service as patients
from chalicelib.reports import figures

SectionProvider = Callable[[str, date, str], Section | None]
SECTION_MODULES = ("chalicelib.inventory.eod", "chalicelib.labs.eod")
TOMORROW_FIRST = 5
INVOICE_LOOKBACK_DAYS = 92  # how far back a draft issued today may have been created (backfill)

T = {
    "es": {
        "subject": "{clinic}: resumen del día {day}",
        "intro": "Resumen de la jornada del {day}.",
        "today": "Citas de hoy",
        "completed": "Atendidas",
        "no_show": "No acudieron",
        "cancelled": "Canceladas",
        "pending": "Sin cerrar",
        "money": "Producción",
        "invoiced": "Facturado",
        "collected": "Cobrado",
        "tomorrow": "Primeras citas de mañana",
        "none": "No hay citas.",
        "footer": "Resumen diario de Cúspide para {clinic}.",
    },
    "en": {
        "subject": "{clinic}: summary for {day}",
        "intro": "Summary of {day}.",
        "today": "Today's appointments",
        "completed": "Completed",
        "no_show": "No-shows",
        "cancelled": "Cancelled",
        "pending": "Not closed",
        "money": "Production",
        "invoiced": "Invoiced",
        "collected": "Collected",
        "tomorrow": "Tomorrow's first appointments",
        "none": "No appointments.",
        "footer": "Cúspide daily summary for {clinic}.",
    },
}


def _utc(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def appointments_on(clinic_id: str, day: date, tz: ZoneInfo) -> list[Appointment]:
    lo = _utc(datetime.combine(day, time(0), tz))
    hi = _utc(datetime.combine(day + timedelta(days=1), time(0), tz))
    found = [
        a
        for a in Item.gsi4.query(clinic_index(clinic_id), Item.GSI4SK.between(lo, hi))
        if isinstance(a, Appointment) and a.start_utc < hi
    ]
    return sorted(found, key=lambda a: (a.start_utc, a.appointment_id))


def _euros(cents: int, lang: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    if lang == "es":
        return f"{sign}{whole:,}".replace(",", ".") + f",{frac:02d} €"
    return f"{sign}€{whole:,}.{frac:02d}"


def backfill_invoiced_on(clinic_id: str, day: date) -> int:
    """One-off, for the day the day entries were deployed: write the entries of invoices issued
    that day before it (they have none), reading the invoices the way the email did before: by
    id over the 92 days a draft may go back. Returns how many it wrote; a second run writes 0."""
    end = datetime.combine(day + timedelta(days=1), time(0), UTC) + timedelta(days=1)
    lo = ulid_floor(end - timedelta(days=INVOICE_LOOKBACK_DAYS + 2))
    written = 0
    for inv in Item.gsi1.query(
        Invoice.list_pk(clinic_id), Item.GSI1SK.between(lo, ulid_ceiling(end))
    ):
        if not (isinstance(inv, Invoice) and inv.issue_date == day.isoformat() and inv.issued_at):
            continue
        entry = InvoiceIssuedOn(
            *InvoiceIssuedOn.key(clinic_id, inv.issue_date, inv.invoice_id),
            invoice_id=inv.invoice_id,
            num_serie=inv.num_serie,
            total_cents=int(inv.total_cents or 0),
        )
        try:
            entry.save(condition=InvoiceIssuedOn.SK.does_not_exist())
        except PutError:
            continue  # already there
        written += 1
    return written


def recipients(clinic_id: str) -> list[str]:
    s = service.load_settings(clinic_id)
    if s.eod_recipients:
        return list(s.eod_recipients)
    return admin_emails(clinic_id)


def build(c: Clinic, day: date) -> templates.Rendered:
    cid, tz = c.clinic_id, ZoneInfo(c.time_zone)
    lang = templates.lang_of(c.language)
    t = T[lang]
    # Appointment counts and money from the reports' figures of the day (one source, ADR 1301).
    f = figures.day(cid, day)
    pending = f.appointments - f.attended - f.no_shows
    sections = [
        Section(
            t["today"],
            rows=[
                (t["completed"], str(f.attended)),
                (t["no_show"], str(f.no_shows)),
                (t["cancelled"], str(f.cancellations)),
                (t["pending"], str(pending)),
            ],
        ),
        Section(
            t["money"],
            rows=[
                (t["invoiced"], _euros(money.cents(Decimal(f.invoiced)), lang)),
                (t["collected"], _euros(money.cents(Decimal(f.collected)), lang)),
            ],
        ),
    ]
    tomorrow = [
        a
        for a in appointments_on(cid, day + timedelta(days=1), tz)
        if a.status not in ("cancelled", "no_show")
    ][:TOMORROW_FIRST]
    names = {
        pid: patients.display_name(p)
        for pid, p in patients.load_many(cid, [a.patient_id for a in tomorrow]).items()
    }
    lines = [
        f"{service.local_start(a):%H:%M} · {names.get(a.patient_id, '—')} · "
        f"{a.professional_name or ''} · {a.reason}"
        for a in tomorrow
    ] or [t["none"]]
    sections.append(Section(t["tomorrow"], lines=lines))
    providers: list[SectionProvider] = [importlib.import_module(m).section for m in SECTION_MODULES]
    for provider in providers:
        extra = provider(cid, day, lang)
        if extra is not None:
            sections.append(extra)
    day_text = templates.short_when(datetime.combine(day, time(0)), lang)[:10]
    return templates.sections_email(
        brand=templates.Brand.of(c),
        lang=lang,
        subject=t["subject"].format(clinic=c.name, day=day_text),
        intro=t["intro"].format(day=day_text),
        sections=sections,
        footer=t["footer"].format(clinic=c.name),
    )


def send(c: Clinic, day: date, at: datetime) -> bool:
    """Send the summary of ``day`` unless it was already sent; True when sent now."""
    if not service.load_settings(c.clinic_id).eod_enabled:
        return False
    # An address SES reported as bouncing or complaining gets no more mail, staff included.
    to = [a for a in recipients(c.clinic_id) if not mail.is_undeliverable(a)]
    if not to:
        return False
    marker = EodSent(
        *EodSent.key(c.clinic_id, day.isoformat()),
        day=day.isoformat(),
        sent_at=at,
        recipients=len(to),
    )
    try:
        marker.save(condition=EodSent.SK.does_not_exist())
    except PutError as exc:
        if service.is_claimed_error(exc):
            return False
        raise
    try:
        r = build(c, day)
        for address in to:
            pid = mail.send(to=address, subject=r.subject, text=r.text, html=r.html)
            service.new_message(
                c.clinic_id,
                patient_id=None,
                channel="email",
                direction="out",
                kind="eod",
                status="sent",
                subject=r.subject,
                provider_id=pid,
            ).save()
    except Exception:
        marker.delete()
        raise
    return True
