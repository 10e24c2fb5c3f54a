"""The demo's year of history (infra/local/seed/history.py), at a smaller volume: appointments
across the twelve months before today in every outcome, written to the agenda's indexes and
never notified; invoices issued in the order of their dates, so the VERI*FACTU chain is intact
and dated in order; balances left open at every age; completed treatments all invoiced; and
the figures rebuilt for exactly that year."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.agenda import schemas as agenda_schemas
from chalicelib.agenda import service as agenda
from chalicelib.agenda.models import Appointment, clinic_index
from chalicelib.billing.models import Invoice
from chalicelib.charting.models import PlanItem
from chalicelib.comms.models import Due
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import now
from chalicelib.verifactu import service as verifactu
from chalicelib.verifactu.models import RecordItem
from infra.local.seed import billing as billing_seed
from infra.local.seed import history
from infra.local.seed.context import DemoContext
from tests.integration.agenda.conftest import make_agenda
from tests.integration.comms.conftest import drain
from tests.integration.conftest import admin_principal, sent_mail
from tests.integration.patients.helpers import create_patient


def test_a_year_of_history(api: Any, clinic: Any, billing: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(history, "APPOINTMENTS_PER_DAY", 3)
    monkeypatch.setattr(history, "NEW_PATIENTS_PER_WEEK", 1)
    monkeypatch.setattr(history, "BUDGETS_PER_WEEK", 0.3)
    monkeypatch.setattr(history, "INVOICED_SHARE", 0.12)
    rebuilt: list[tuple[str, date, date]] = []
    monkeypatch.setattr(history, "rebuild", lambda *a: rebuilt.append(a) or {})
    cid, t = clinic.clinic_id, clinic.admin_token
    make_agenda(api, clinic)  # two cabinets; the admin is the professional
    pids = [
        create_patient(api, t, national_id={"type": "dni", "number": dni})["patient_id"]
        for dni in ("12345678Z", "87654321X", "11111111H")
    ]
    pids.append(create_patient(api, t)["patient_id"])  # no national id: simplified invoices
    who = admin_principal(clinic)
    ctx = DemoContext(
        demo_clinic_id=cid,
        norte_clinic_id="-",
        demo={"admin": who, "receptionist": who, "dentist": who},
    )
    billing_seed.seed_catalog(ctx)
    # A closed day the agenda already has (the agenda seed adds this year's): kept as it is.
    tz = ZoneInfo("Europe/Madrid")
    today = now().astimezone(tz).date()
    may_day = date(today.year if today.month > 5 else today.year - 1, 5, 1)
    agenda.add_holiday(who, agenda_schemas.HolidayIn(date=may_day, name="Fiesta del Trabajo"))
    drain()
    mails = len(sent_mail())

    counts = history.seed(ctx, pids)

    first, last = today - timedelta(days=365), today - timedelta(days=1)
    assert rebuilt == [(cid, first, last)]
    closed = {h.date for h in agenda.list_holidays(who, agenda_schemas.HolidayQuery())}
    assert may_day in closed and len([d for d in closed if first <= d <= last]) >= 9
    # Appointments: in the clinic's time index, all past, over twelve months, every outcome.
    appts = [a for a in Item.gsi4.query(clinic_index(cid)) if isinstance(a, Appointment)]
    assert len(appts) == counts["appointments"] > 300
    starts = [datetime.fromisoformat(a.start).date() for a in appts]
    assert min(starts) >= first and max(starts) <= last
    per_month = Counter(d.strftime("%Y-%m") for d in starts)
    assert len(per_month) >= 12
    august = per_month[f"{today.year if today.month > 8 else today.year - 1}-08"]
    assert august < sum(per_month.values()) / len(per_month) * 0.7  # a quieter August
    status = Counter(a.status for a in appts)
    assert status["completed"] > status["cancelled"] > 0 and status["no_show"] > 0
    late = [
        a
        for a in appts
        if a.status == "cancelled"
        and datetime.fromisoformat(a.start) - datetime.fromisoformat(a.status_history[-1]["at"])
        < timedelta(hours=24)
    ]
    assert 0 < len(late) < status["cancelled"]
    for a in appts[:50]:
        assert a.GSI1SK == a.GSI2SK == a.GSI3SK == a.GSI4SK == f"{a.start_utc}#{a.appointment_id}"
    # No notice and no reminder for any of them.
    drain()
    assert len(sent_mail()) == mails
    assert not list(Due.query(clinic_pk(cid), Due.SK.startswith("DUE#REM#")))
    # Invoices: the chain is intact, and its records are generated and dated in order.
    (head,) = verifactu.heads(cid)
    chain = verifactu.verify_one(cid, head)
    assert chain.intact and chain.records == counts["invoices"] > 20
    records = sorted(
        RecordItem.query(
            clinic_pk(cid), RecordItem.SK.startswith(RecordItem.chain_prefix(head.nif))
        ),
        key=lambda r: int(r.seq),
    )
    made = [r.record["FechaHoraHusoGenRegistro"] for r in records]
    issued = [datetime.strptime(r.fecha_expedicion, "%d-%m-%Y").date() for r in records]
    assert [datetime.fromisoformat(m) for m in made] == sorted(
        datetime.fromisoformat(m) for m in made
    )
    assert issued == sorted(issued) and first <= issued[0] and issued[-1] <= last
    invoices = [i for i in Invoice.query(clinic_pk(cid), Invoice.SK.startswith("INV#"))
                if isinstance(i, Invoice)]  # fmt: skip
    assert sum(1 for i in invoices if i.kind == "rectifying") == 2
    # Balances left open at several ages (the 0-30 ... over 90 days buckets).
    ages = {
        (today - date.fromisoformat(i.issue_date)).days
        for i in invoices
        if i.kind == "ordinary"
        and int(i.total_cents) + int(i.differences_cents or 0) > int(i.paid_cents)
    }
    assert min(ages) <= 30 and max(ages) > 90
    # Completed treatments: each charged on an issued invoice, none left on the desk's list.
    items = [
        it
        for pid in {a.patient_id for a in appts}
        for it in PlanItem.query(clinic_pk(cid), PlanItem.SK.startswith(f"PAT#{pid}#CHART#P#"))
        if isinstance(it, PlanItem)
    ]
    assert len(items) == counts["treatments"] > 0
    ids = {i.invoice_id for i in invoices if i.status != "draft"}
    assert all(it.status == "completed" and it.invoiced and it.invoice_id in ids for it in items)
    assert not any(it.GSI3PK for it in items)
    assert all(it.completed_at < datetime.now(UTC) for it in items)


def test_every_kind_of_past_visit_has_a_colour_the_agenda_answers() -> None:
    # The visits are written to the agenda's model directly, past the API's validation: a colour
    # outside the palette made every list of that patient's appointments answer 500.
    assert {colour for _, colour, _, _ in history.VISITS} <= set(agenda_schemas.PALETTE)
