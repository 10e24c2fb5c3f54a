"""Retention periods and the retention job (ADR 1405).

* **Periods** per clinic, in years: ``clinical`` (historia clínica, Ley 41/2002 art. 17.1: at
  least 5 years from the end of each care episode; autonomous communities may ask for more)
  and ``billing`` (Código de Comercio art. 30: 6 years). Setting one below its legal minimum
  is a 422 that says the minimum and the law.
* **Clocks**: a blocked patient's clinical data is kept until ``last care episode + clinical
  years``; billing data until the 31 December of ``last invoice's year + billing years``
  (the accounting year closes then). Computed once at the erasure request: a blocked patient
  gets no new episodes nor invoices.
* **Expiry index**: ``JOB#RETDUE#<day>`` / ``C#<cid>#<pid>#<category>``, written on the day
  after the period ends. The daily job (:func:`run_job`) reads only the days since its last
  run (its cursor ``JOB#RETENTION``), so its cost grows with what expires, not with the data.
  A period lengthened since is honoured: the entry moves to the new day. A shortened one
  applies from the day already written (never earlier than the law allows).
* **Messages** (every patient, not only the blocked ones): an optional period in years (1-20;
  none by default: kept until the patient's record goes). Communications are not part of the
  historia clínica, so no law sets a minimum; minimisation (GDPR art. 5.1.e) favours one. A
  clinic with a period has a global item ``JOB#RETMSG`` / ``C#<cid>`` (written and deleted
  with its settings, in one transaction), so the job finds those clinics by one Query. Per
  clinic the job reads, with the clinic's credentials, the messages whose ULID is below the
  cutoff (``GSI2 C#<cid>#MSG``, oldest first, pages of 100, at most 1,000 a run; the rest the
  next run) and deletes them with what hangs on them (the WhatsApp ``WAMID#`` reference, a
  conversation whose last activity is older than the cutoff): its cost grows with what expires.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core import audit, events, scoping
from chalicelib.core.api import Principal
from chalicelib.core.db import Item, transaction
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import now, ulid_floor
from chalicelib.core.observability import logger
from chalicelib.gdpr import schemas
from chalicelib.gdpr.models import (
    Erasure,
    MessageRetention,
    RetentionCursor,
    RetentionDue,
    RetentionSettings,
)

MINIMUM = {"clinical": 5, "billing": 6}
"""Legal minimums in years: Ley 41/2002 art. 17.1; Código de Comercio art. 30."""
DEFAULTS = dict(MINIMUM)
MAXIMUM_YEARS = 100
MAX_DAYS_PER_RUN = 400
"""Days one run catches up (a job stopped for longer resumes from its cursor next run)."""
MESSAGES_RANGE = {"min": 1, "max": 20}
"""Allowed messages period in years (no legal minimum: communications are not the historia
clínica)."""
MESSAGES_PAGE = 100
MAX_MESSAGES_PER_RUN = 1000
"""Messages one run deletes per clinic; the rest go the next run (oldest first)."""

SYSTEM = {"type": "system", "id": "gdpr-retention", "name": "GDPR retention"}


# --- settings ----------------------------------------------------------------------------------


def _settings(clinic_id: str) -> RetentionSettings | None:
    try:
        return RetentionSettings.get(*RetentionSettings.key(clinic_id))
    except DoesNotExist:
        return None


def periods(clinic_id: str) -> dict[str, int]:
    s = _settings(clinic_id)
    got = {k: int(v) for k, v in ((s.periods or {}) if s else {}).items()}
    return {k: max(MINIMUM[k], got.get(k, DEFAULTS[k])) for k in DEFAULTS}


def messages_years(clinic_id: str) -> int | None:
    """Years a patient's messages are kept; None: until the patient's record goes."""
    s = _settings(clinic_id)
    v = ((s.periods or {}) if s else {}).get("messages")
    return int(v) if v is not None else None


def _out(clinic_id: str) -> schemas.RetentionOut:
    s = _settings(clinic_id)
    return schemas.RetentionOut(
        periods=periods(clinic_id),
        minimums=dict(MINIMUM),
        messages=messages_years(clinic_id),
        messages_range=dict(MESSAGES_RANGE),
        updated_at=s.updated_at if s else None,
    )


def get_settings(principal: Principal) -> schemas.RetentionOut:
    return _out(principal.clinic_id)


def put_settings(principal: Principal, data: schemas.RetentionIn) -> schemas.RetentionOut:
    cid = principal.clinic_id
    wanted = {k: v for k, v in data.model_dump().items() if v is not None and k in MINIMUM}
    errors = []
    laws = {"clinical": "Ley 41/2002, art. 17.1", "billing": "Código de Comercio, art. 30"}
    for k, v in wanted.items():
        if v < MINIMUM[k]:
            errors.append(
                {
                    "field": k,
                    "message": tr(
                        f"at least {MINIMUM[k]} years ({laws[k]})",
                        f"al menos {MINIMUM[k]} años ({laws[k]})",
                    ),
                }
            )
    if errors:
        raise Unprocessable(
            tr(
                "A retention period cannot be shorter than the law requires: clinical records "
                "5 years, invoices 6 years.",
                "Un plazo de conservación no puede ser más corto que el legal: historia clínica "
                "5 años, facturas 6 años.",
            ),
            errors=errors,
            code="RETENTION_BELOW_MINIMUM",
        )
    lo, hi = MESSAGES_RANGE["min"], MESSAGES_RANGE["max"]
    if data.messages is not None and not lo <= data.messages <= hi:
        raise Unprocessable(
            tr(
                f"Messages can be kept between {lo} and {hi} years; leave it empty to keep "
                "them until the patient's record is erased.",
                f"Los mensajes se pueden conservar entre {lo} y {hi} años; déjalo vacío para "
                "conservarlos hasta que se borre la ficha del paciente.",
            ),
            errors=[
                {
                    "field": "messages",
                    "message": tr(f"between {lo} and {hi} years", f"entre {lo} y {hi} años"),
                }
            ],
            code="RETENTION_MESSAGES_OUT_OF_RANGE",
        )
    before: dict[str, int | None] = {**periods(cid), "messages": messages_years(cid)}
    after = {**before, **wanted}
    if "messages" in data.model_fields_set:  # absent: unchanged; null: no limit
        after["messages"] = data.messages
    stored = {k: v for k, v in after.items() if v is not None}
    marker = MessageRetention(
        *MessageRetention.key(cid), clinic_id=cid, years=after["messages"] or 0
    )
    with transaction() as tx:
        tx.save(
            RetentionSettings(
                *RetentionSettings.key(cid),
                periods=stored,
                updated_at=now(),
                updated_by=principal.user_id,
            )
        )
        # The job's list of clinics with a messages period (ADR 1405): with the settings.
        if after["messages"] is not None:
            tx.save(marker)
        else:
            tx.delete(marker)
    audit.record(
        cid, principal.actor, "gdpr.retention_updated", "clinic", cid, before=before, after=after
    )
    return _out(cid)


# --- clocks ------------------------------------------------------------------------------------


def _day_of(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v)
    try:
        return date.fromisoformat(s[:10])
    except ValueError:
        return None


def _latest(items: list[Any], attrs: tuple[str, ...]) -> date | None:
    days = [d for it in items for a in attrs if (d := _day_of(getattr(it, a, None))) is not None]
    return max(days) if days else None


def clinical_last(clinic_id: str, patient_id: str) -> date | None:
    """The last day of care on record: the last appointment attended, clinical note, image,
    document, periodontal exam, chart entry, orthodontic or lab case, medical history update."""
    from chalicelib.gdpr import erasers as x

    today = local_today(clinic_id)
    seen = [
        a
        for a in x._appointments(clinic_id, patient_id)
        if a.status not in ("cancelled", "no_show") and _day_of(a.start_utc) <= today
    ]
    days = [
        _latest(seen, ("start_utc",)),
        _latest(x._notes(clinic_id, patient_id), ("created_at",)),
        _latest(x._images(clinic_id, patient_id), ("acquired_at", "created_at")),
        _latest(x._documents(clinic_id, patient_id), ("created_at",)),
        _latest(x._perio(clinic_id, patient_id), ("exam_date",)),
        _latest(x._chart(clinic_id, patient_id), ("updated_at", "created_at")),
        _latest(x._ortho(clinic_id, patient_id), ("updated_at", "created_at")),
        _latest(x._labs(clinic_id, patient_id), ("updated_at", "created_at")),
    ]
    p = x._get(clinic_id, patient_id)
    if p is not None and p.medical_sealed:
        days.append(_day_of(p.medical_updated_at))
    found = [d for d in days if d is not None]
    return max(found) if found else None


def billing_last(clinic_id: str, patient_id: str) -> date | None:
    from chalicelib.gdpr import erasers as x

    days = [
        _latest(x._billing(clinic_id, patient_id, "INV"), ("issue_date", "created_at")),
        _latest(x._billing(clinic_id, patient_id, "PAY"), ("paid_at", "created_at")),
        _latest(x._billing(clinic_id, patient_id, "BUD"), ("created_at",)),
    ]
    found = [d for d in days if d is not None]
    return max(found) if found else None


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def local_today(clinic_id: str) -> date:
    from chalicelib.agenda.service import clinic_zone

    return now().astimezone(clinic_zone(clinic_id)).date()


def untils(clinic_id: str, patient_id: str, years: dict[str, int]) -> dict[str, str]:
    """Per category with data to keep, the last day it must be kept (ISO); a category whose
    period is already over (or with nothing in it) is absent: erased now."""
    today = local_today(clinic_id)
    out: dict[str, str] = {}
    c = clinical_last(clinic_id, patient_id)
    if c is not None and (u := add_years(c, years["clinical"])) >= today:
        out["clinical"] = u.isoformat()
    b = billing_last(clinic_id, patient_id)
    if b is not None and (u := date(b.year + years["billing"], 12, 31)) >= today:
        out["billing"] = u.isoformat()
    return out


# --- the expiry index and the job -----------------------------------------------------------------


def due_day(until: str) -> str:
    """The day the kept data becomes erasable: the day after the last day it must be kept (in
    any time zone, the period is then over)."""
    return (date.fromisoformat(until) + timedelta(days=1)).isoformat()


def schedule(clinic_id: str, patient_id: str, category: str, until: str) -> None:
    RetentionDue(
        *RetentionDue.key(due_day(until), clinic_id, patient_id, category),
        clinic_id=clinic_id,
        patient_id=patient_id,
        category=category,
    ).save()


def _cursor() -> RetentionCursor | None:
    try:
        return RetentionCursor.get(*RetentionCursor.key(), consistent_read=True)
    except DoesNotExist:
        return None


def run_job(today: date | None = None) -> dict[str, int]:
    """Erase what expired on every day since the last run (inclusive of today, UTC)."""
    today = today or now().astimezone(UTC).date()
    cur = _cursor()
    first = date.fromisoformat(cur.last_day) + timedelta(days=1) if cur else today
    counts = {"days": 0, "due": 0, "purged": 0, "moved": 0}
    day = first
    while day <= today and counts["days"] < MAX_DAYS_PER_RUN:
        for entry in RetentionDue.query(f"JOB#RETDUE#{day.isoformat()}"):
            counts["due"] += 1
            with scoping.for_clinic(entry.clinic_id):
                outcome = _expire(entry)
            counts[outcome] = counts.get(outcome, 0) + 1
            entry.delete()
        RetentionCursor(*RetentionCursor.key(), last_day=day.isoformat()).save()
        counts["days"] += 1
        day += timedelta(days=1)
    at = now() if today is None else datetime.combine(today, time(12), UTC)
    counts["messages"] = purge_messages(at)
    logger.info("retention job", extra=counts)
    return counts


def _expire(entry: RetentionDue) -> str:
    from chalicelib.gdpr.erasers import ERASERS

    cid, pid, category = entry.clinic_id, entry.patient_id, entry.category
    try:
        e = Erasure.get(*Erasure.key(cid, pid), consistent_read=True)
    except DoesNotExist:
        return "no_erasure"  # only a patient whose erasure was requested is ever purged
    if category in (e.purged or []) or category not in (e.until or {}):
        return "already"
    # A period lengthened since the request: keep it longer (move the entry).
    years = periods(cid)
    last = clinical_last(cid, pid) if category == "clinical" else billing_last(cid, pid)
    if last is not None:
        later = (
            add_years(last, years["clinical"])
            if category == "clinical"
            else date(last.year + years["billing"], 12, 31)
        )
        if later.isoformat() > e.until[category]:
            schedule(cid, pid, category, later.isoformat())
            e.update(actions=[Erasure.until.set({**e.until, category: later.isoformat()})])
            return "moved"
    counts = {er.kind: er.erase(cid, pid) for er in ERASERS if er.category == category}
    report = [
        {**r, "action": "purged"} if r.get("category") == category else r for r in e.report or []
    ]
    purged = sorted({*(e.purged or []), category})
    final = "purged" if set(purged) >= set(e.until or {}) else e.status
    e.update(
        actions=[
            Erasure.purged.set(purged),
            Erasure.report.set(report),
            Erasure.status.set(final),
        ]
    )
    audit.record(
        cid,
        SYSTEM,
        "gdpr.retention_purged",
        "patient",
        pid,
        after={"erasure_id": e.erasure_id, "category": category, "counts": counts},
    )
    events.publish(
        "gdpr.retention_purged",
        cid,
        SYSTEM,
        erasure_id=e.erasure_id,
        patient_id=pid,
        category=category,
    )
    return "purged"


# --- messages (every patient) ---------------------------------------------------------------------


def messages_cutoff(clinic_id: str, years: int, at: datetime) -> datetime:
    """The start of the clinic's day ``years`` years before ``at``'s: a message sent before it
    is past its period."""
    from chalicelib.agenda.service import clinic_zone

    zone = clinic_zone(clinic_id)
    day = add_years(at.astimezone(zone).date(), -years)
    return datetime.combine(day, time(0), tzinfo=zone)


def purge_messages(at: datetime | None = None) -> int:
    """Delete, in every clinic with a messages period, the messages older than it."""
    at = at or now()
    total = 0
    for mark in MessageRetention.query(MessageRetention.pk()):
        if not isinstance(mark, MessageRetention) or not mark.years:
            continue
        with scoping.for_clinic(mark.clinic_id):
            try:
                total += _purge_clinic_messages(mark.clinic_id, int(mark.years), at)
            except NotFound:  # a clinic that no longer exists: nothing to do
                continue
    return total


def _purge_clinic_messages(cid: str, years: int, at: datetime) -> int:
    from chalicelib.comms.models import Conversation, Message, WaMessageRef
    from chalicelib.gdpr.erasers import _delete

    cutoff = messages_cutoff(cid, years, at)
    bound = ulid_floor(cutoff)
    deleted, more = 0, False
    patients: set[str] = set()
    start: dict[str, Any] | None = None
    while True:
        it = Message.gsi2.query(
            Message.list_pk(cid),
            bound > Item.GSI2SK,
            limit=MESSAGES_PAGE,
            page_size=MESSAGES_PAGE,
            last_evaluated_key=start,
        )
        gone: list[Item] = []
        for m in it:
            if not isinstance(m, Message):
                continue
            gone.append(m)
            if m.channel == "whatsapp" and m.provider_id:
                wamid = hashlib.sha256(m.provider_id.encode()).hexdigest()
                gone.append(WaMessageRef(*WaMessageRef.key(wamid)))
            if m.patient_id:
                patients.add(m.patient_id)
            deleted += 1
        _delete(gone)
        start = it.last_evaluated_key
        if not start:
            break
        if deleted >= MAX_MESSAGES_PER_RUN:
            more = True  # the rest the next run
            break
    # A conversation whose last activity is older than the cutoff shows an expired message's
    # text as its preview: it goes too (the next message makes a new one).
    convs = 0
    for pid in sorted(patients):
        try:
            c = Conversation.get(*Conversation.key(cid, pid))
        except DoesNotExist:
            continue
        if c.last_activity_at < cutoff:
            c.delete()
            convs += 1
    if deleted:
        audit.record(
            cid,
            SYSTEM,
            "gdpr.retention_messages_purged",
            "clinic",
            cid,
            after={
                "messages": deleted,
                "conversations": convs,
                "years": years,
                "before": cutoff.date().isoformat(),
                "more": more,
            },
        )
    return deleted
