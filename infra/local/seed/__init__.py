"""The demo data of the local stack. Each module seeds its own part, in dependency order, on
top of what the identity seed returns. Idempotent: an already seeded stack is left alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.billing.common import local_today
from chalicelib.identity.service import get_clinic
from chalicelib.reports.rebuild import rebuild
from infra.local.seed import (
    agenda,
    billing,
    booking,
    bridge,
    charting,
    comms,
    context,
    gdpr,
    history,
    identity,
    imaging,
    inventory,
    labs,
    notes,
    ortho,
    patients,
    perio,
    recalls,
)
from infra.local.seed.context import DemoContext


def run(log: Callable[[str], None] = lambda _m: None) -> DemoContext | None:
    ctx = identity.seed()
    if ctx is None:
        return None  # already seeded
    log("Seeding the demo clinics (first start only)...")

    def step(name: str, seeder: Callable[..., Any], *args: Any) -> Any:
        started = time.monotonic()
        result = seeder(ctx, *args)
        log(f"  {name}: {time.monotonic() - started:.1f} s")
        return result

    patient_ids = step("patients", patients.seed)
    step("agenda", agenda.seed, patient_ids)
    step("comms", comms.seed, patient_ids)  # right after the agenda: settles its queued events
    step("imaging", imaging.seed)  # uses the demo patients
    step("catalog", billing.seed_catalog)  # the treatments and their prices
    # A year of past visits, invoices and payments: before today's invoices, so VERI*FACTU
    # records (chained in the order they are generated) follow their dates.
    step("history", history.seed, patient_ids)
    step("billing", billing.seed, patient_ids)  # budgets, invoices, payments of today
    step("charting", charting.seed, patient_ids)  # findings and plans; after the catalog
    step("perio", perio.seed, patient_ids)
    step("notes", notes.seed, patient_ids)
    step("ortho", ortho.seed, patient_ids)  # orthodontic cases, phases, aligners
    step("inventory", inventory.seed, patient_ids)  # items, movements; materials on the catalog
    step("labs", labs.seed, patient_ids)  # labs and cases in every state
    step("gdpr", gdpr.seed)  # "Paciente Supresión Demo", to erase (ADR 1405); after the catalog
    # Recall rules, recalls due/overdue/booked, unanswered budgets, unscheduled treatment and
    # no-shows; after billing, charting and the agenda (it reads their records), then the
    # reminder job once.
    step("recalls", recalls.seed, patient_ids)
    step("booking", booking.seed, patient_ids)  # online booking on; after every step that books
    step("figures", figures_of_today)  # the dashboard right at start (see below)
    step("bridge", bridge.seed)  # the demo device and captures in the inbox
    log(f"  Demo Bridge device key (Clínica Demo): {context.DEMO_DEVICE_KEY}")
    return ctx


def figures_of_today(ctx: DemoContext) -> None:
    """Today's report figures from today's seeded records at once (the history step rebuilt the
    year before): the reports queue would get there too, but only after working through every
    event the seed published, which takes minutes on a fresh stack."""
    for cid in (ctx.demo_clinic_id, ctx.norte_clinic_id):
        day = local_today(get_clinic(cid).time_zone)
        rebuild(cid, day, day)
