"""Budgets (presupuestos): lines from the catalog, totals on the server, numbering per clinic
and year (PRES-2026-0001), workflow, revisions, expiry, PDF and acceptance (staff or link).

Workflow: draft -> sent -> accepted (all or some lines) | rejected | expired (daily job);
draft/sent -> cancelled; sent/rejected/expired -> superseded by a new revision (same number,
``revision + 1``, a new draft). Every change is a conditional write on ``version`` and status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.billing import catalog, common, money, rules, schemas
from chalicelib.billing.models import Budget, BudgetAcceptance, BudgetLink, Counter
from chalicelib.core import audit, events, scoping, storage
from chalicelib.core.api import Page, Principal
from chalicelib.core.config import settings
from chalicelib.core.db import decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.links import InvalidLink, LinkSigner
from chalicelib.core.observability import logger

DEFAULT_VALID_DAYS = 30
# The patient's acceptance link, valid until the budget's validity date, single use (ADR 0505).
LINKS = LinkSigner("budget-link", ("accept",))
OPEN = ("draft", "sent")
REVISABLE = ("sent", "rejected", "expired")
MAX_SIGNATURE_BYTES = 300_000
_SVG_PATH = re.compile(r"^[MLHVCSQTAZmlhvcsqtaz0-9\s,.\-eE]+$")
# What ``_need`` says cannot be done, in Spanish.
_ACTION_ES = {
    "edited": "editar",
    "sent": "enviar",
    "accepted": "aceptar",
    "rejected": "rechazar",
    "cancelled": "anular",
    "revised": "revisar",
}


_VALIDITY_PAST = tr("the validity date is in the past", "la fecha de validez ya ha pasado")


def _unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        tr("Some fields are not valid.", "Algunos campos no son válidos."),
        errors=[{"field": field, "message": message}],
    )


# --- shaping -------------------------------------------------------------------------------


def budget_out(b: Budget, acceptance: BudgetAcceptance | None = None) -> schemas.BudgetOut:
    acc = None
    if acceptance is not None:
        acc = {
            "channel": acceptance.channel,
            "signer_name": acceptance.signer_name,
            "relationship": acceptance.relationship,
            "accepted_at": acceptance.accepted_at.isoformat(),
            "ip": acceptance.ip,
            "user_agent": acceptance.user_agent,
            "pdf_sha256": acceptance.pdf_sha256,
            "has_signature": bool(acceptance.signature),
            "accepted_line_ids": list(acceptance.accepted_line_ids),
        }
    return schemas.BudgetOut(
        budget_id=b.budget_id,
        number=b.number,
        revision=int(b.revision),
        patient_id=b.patient_id,
        status=b.status,
        title=b.title,
        notes=b.notes,
        valid_until=date.fromisoformat(b.valid_until),
        lines=[schemas.BudgetLineOut(**ln) for ln in b.lines],
        global_discount=b.global_discount,
        totals=schemas.TotalsOut(**b.totals),
        breakdown=[schemas.BreakdownOut(**x) for x in b.breakdown],
        partial=bool(b.partial),
        supersedes=b.supersedes,
        superseded_by=b.superseded_by,
        rejection_reason=b.rejection_reason,
        created_at=b.created_at,
        updated_at=b.updated_at,
        sent_at=b.sent_at,
        decided_at=b.decided_at,
        acceptance=acc,
        sent_to=b.sent_to,
        emailed_at=b.emailed_at,
    )


def load(clinic_id: str, budget_id: str, *, consistent: bool = False) -> Budget:
    try:
        return Budget.get(*Budget.key(clinic_id, budget_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No budget with that id in this clinic.",
                "No hay ningún presupuesto con ese id en esta clínica.",
            ),
            code="BUDGET_NOT_FOUND",
        ) from exc


def acceptance_of(clinic_id: str, budget_id: str) -> BudgetAcceptance | None:
    try:
        return BudgetAcceptance.get(*BudgetAcceptance.key(clinic_id, budget_id))
    except DoesNotExist:
        return None


# --- lines ---------------------------------------------------------------------------------


def build_lines(
    clinic_id: str,
    lines_in: list[schemas.BudgetLineIn],
    global_discount: schemas.Discount | None,
    language: str = "es",
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Lines with unit prices copied from the catalog (unless given) and amounts computed."""
    treatments = catalog.load_treatments(clinic_id, [ln.treatment_id for ln in lines_in])
    vats = catalog.vat_types(clinic_id)
    errors = []
    inputs, partial = [], []
    for i, ln in enumerate(lines_in):
        t = treatments.get(ln.treatment_id)
        if t is None:
            errors.append(
                {
                    "field": f"lines.{i}.treatment_id",
                    "message": tr("unknown treatment", "tratamiento desconocido"),
                }
            )
            continue
        problem = rules.check_placement(t.scope, ln.tooth, ln.surfaces)
        if problem:
            errors.append({"field": f"lines.{i}.tooth", "message": problem})
        vat_code = ln.vat_code or t.vat_code
        vat = vats.get(vat_code)
        if vat is None:
            errors.append(
                {
                    "field": f"lines.{i}.vat_code",
                    "message": tr("unknown VAT type", "tipo de IVA desconocido"),
                }
            )
            continue
        unit = ln.unit_price if ln.unit_price is not None else catalog.price_of(t)
        rate = Decimal(vat.rate)
        inputs.append(
            money.LineInput(
                quantity=ln.quantity,
                unit_price=unit,
                rate=rate,
                discount_kind=ln.discount.kind if ln.discount else None,
                discount_value=ln.discount.value if ln.discount else money.ZERO,
            )
        )
        name = (t.name_en or t.name_es) if language == "en" else t.name_es
        partial.append(
            {
                "line_id": new_id(),
                "treatment_id": t.treatment_id,
                "code": t.code,
                "description": ln.description or name,
                "tooth": ln.tooth,
                "surfaces": ln.surfaces,
                "quantity": money.fmt_qty(ln.quantity),
                "unit_price": money.fmt(unit),
                "discount": (
                    {"kind": ln.discount.kind, "value": money.fmt(ln.discount.value)}
                    if ln.discount and ln.discount.value
                    else None
                ),
                "vat_code": vat.code,
                "vat_rate": vat.rate,
                "classification": vat.classification,
                "accepted": None,
                "invoiced_quantity": "0",
                "invoiced_base": "0.00",
            }
        )
    if errors:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."), errors=errors
        )
    try:
        amounts, totals = money.compute(
            inputs,
            global_discount.kind if global_discount else None,
            global_discount.value if global_discount else money.ZERO,
        )
    except money.MoneyError as exc:
        raise _unprocessable("lines", str(exc)) from exc
    for ln, a in zip(partial, amounts, strict=True):
        ln.update(
            gross=money.fmt(a.gross),
            line_discount=money.fmt(a.line_discount),
            global_discount=money.fmt(a.global_discount),
            base=money.fmt(a.base),
            vat=money.fmt(a.vat),
            total=money.fmt(a.total),
        )
    return partial, totals_dict(totals)


def totals_dict(t: money.Totals) -> dict[str, str]:
    return {
        "gross": money.fmt(t.gross),
        "discount": money.fmt(t.discount),
        "global_discount": money.fmt(t.global_discount),
        "base": money.fmt(t.base),
        "vat": money.fmt(t.vat),
        "total": money.fmt(t.total),
    }


# --- numbering -----------------------------------------------------------------------------


def _next_budget_number(clinic_id: str, year: int) -> tuple[Counter, int, int]:
    try:
        c = Counter.get(*Counter.budget_key(clinic_id, year), consistent_read=True)
        last = int(c.last)
    except DoesNotExist:
        c, last = Counter(*Counter.budget_key(clinic_id, year), last=0), 0
    return c, last, last + 1


def _counter_write(tx: Any, counter: Counter, last: int, n: int) -> None:
    """Move a counter from ``last`` to ``n`` only if nobody else did (fails the transaction)."""
    counter.last = n
    if last == 0:
        tx.save(counter, condition=Counter.SK.does_not_exist() | (Counter.last == 0))
    else:
        tx.save(counter, condition=Counter.last == last)


# --- create / update -----------------------------------------------------------------------


def create(
    principal: Principal,
    data: schemas.BudgetIn,
    *,
    plan_items: list[str] | None = None,
    also: Callable[[Any, Budget], None] | None = None,
) -> schemas.BudgetOut:
    """``plan_items`` (one id per line) links each line back to the treatment-plan item it
    prices, and ``also`` adds the plan's own writes to the budget's transaction (the chart's
    "make a budget", ADR 0604)."""
    cid = principal.clinic_id
    p = common.patient(cid, data.patient_id)
    clinic = common.clinic(cid)
    lang = p.language if p.language in ("es", "en") else "es"
    lines, totals = build_lines(cid, data.lines, data.global_discount, lang)
    for ln, item_id in zip(lines, plan_items or [], strict=False):
        ln["plan_item_id"] = item_id
    today = common.local_today(clinic.time_zone)
    valid_until = data.valid_until or today + timedelta(days=data.valid_days or DEFAULT_VALID_DAYS)
    if valid_until < today:
        raise _unprocessable("valid_until", _VALIDITY_PAST)
    bid = new_id()
    at = now()
    for _ in range(20):
        counter, last, n = _next_budget_number(cid, today.year)
        b = Budget(
            *Budget.key(cid, bid),
            GSI1PK=Budget.list_pk(cid),
            GSI1SK=bid,
            GSI2PK=Budget.patient_pk(cid, p.patient_id),
            GSI2SK=bid,
            budget_id=bid,
            patient_id=p.patient_id,
            number=f"PRES-{today.year}-{n:04d}",
            revision=1,
            status="draft",
            title=data.title,
            notes=data.notes,
            language=lang,
            valid_until=valid_until.isoformat(),
            time_zone=clinic.time_zone,
            lines=lines,
            global_discount=_gd(data.global_discount),
            totals=totals,
            breakdown=money.breakdown(lines),
            created_by=principal.user_id,
            created_at=at,
            updated_at=at,
            version=1,
        )
        try:
            with transaction() as tx:
                _counter_write(tx, counter, last, n)
                tx.save(b, condition=Budget.SK.does_not_exist())
                if also is not None:
                    also(tx, b)
                tx.save(
                    audit.entry(
                        cid,
                        principal.actor,
                        "billing.budget.created",
                        "budget",
                        bid,
                        after={"number": b.number, "total": totals["total"]},
                    )
                )
            break
        except TransactWriteError:
            time.sleep(0.01)
    else:
        raise Conflict(
            tr(
                "Could not number the budget; try again.",
                "No se ha podido numerar el presupuesto; inténtalo de nuevo.",
            )
        )
    events.publish(
        "budget.created",
        cid,
        principal.actor,
        budget_id=bid,
        patient_id=p.patient_id,
        number=b.number,
        total=totals["total"],
    )
    return budget_out(b)


def _gd(d: schemas.Discount | None) -> dict[str, str] | None:
    return {"kind": d.kind, "value": money.fmt(d.value)} if d and d.value else None


def _save(
    principal: Principal | None,
    b: Budget,
    old_version: int,
    old_status: str | tuple[str, ...],
    action: str,
    before: dict[str, Any] | None = None,
    extra: list[Any] | None = None,
    actor: dict[str, Any] | None = None,
) -> None:
    statuses = (old_status,) if isinstance(old_status, str) else old_status
    b.version = old_version + 1
    b.updated_at = now()
    cid = b.PK.removeprefix("C#")
    try:
        with transaction() as tx:
            tx.save(
                b,
                condition=(Budget.version == old_version) & Budget.status.is_in(*statuses),
            )
            for op in extra or []:
                op(tx)
            tx.save(
                audit.entry(
                    cid,
                    actor or (principal.actor if principal else {"type": "system"}),
                    action,
                    "budget",
                    b.budget_id,
                    before=before,
                    after={"status": b.status},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The budget changed meanwhile (or is no longer in a state that allows this); "
                "reload it and try again.",
                "El presupuesto ha cambiado mientras tanto (o ya no está en un estado que lo "
                "permita); recárgalo y vuelve a intentarlo.",
            ),
            code="BUDGET_CONFLICT",
        ) from exc


def _need(b: Budget, statuses: tuple[str, ...], what: str) -> None:
    if b.status not in statuses:
        raise Conflict(
            tr(
                f"A budget that is {b.status} cannot be {what} (only {', '.join(statuses)}).",
                f"Un presupuesto {common.budget_status_es(b.status)} no se puede "
                f"{_ACTION_ES.get(what, what)} (solo si está "
                f"{common.either_es([common.budget_status_es(s) for s in statuses])}).",
            ),
            code="BUDGET_STATE",
            data={"status": b.status},
        )


def get(principal: Principal, budget_id: str) -> schemas.BudgetOut:
    b = load(principal.clinic_id, budget_id)
    out = budget_out(b, acceptance_of(principal.clinic_id, budget_id))
    out.history = history(principal, budget_id)
    return out


def update(principal: Principal, budget_id: str, data: schemas.BudgetUpdate) -> schemas.BudgetOut:
    cid = principal.clinic_id
    b = load(cid, budget_id, consistent=True)
    _need(b, ("draft",), "edited")
    old = int(b.version)
    fields = data.model_fields_set
    if "title" in fields:
        b.title = data.title
    if "notes" in fields:
        b.notes = data.notes
    if data.valid_until is not None:
        if data.valid_until < common.local_today(b.time_zone):
            raise _unprocessable("valid_until", _VALIDITY_PAST)
        b.valid_until = data.valid_until.isoformat()
    gd = (
        None
        if data.clear_global_discount
        else (
            data.global_discount
            if "global_discount" in fields
            else (schemas.Discount(**b.global_discount) if b.global_discount else None)
        )
    )
    if data.lines is not None or "global_discount" in fields or data.clear_global_discount:
        lines_in = data.lines if data.lines is not None else _lines_back(b)
        b.lines, b.totals = build_lines(cid, lines_in, gd, b.language)
        b.global_discount = _gd(gd)
        b.breakdown = money.breakdown(b.lines)
    _save(principal, b, old, "draft", "billing.budget.updated")
    return budget_out(b)


def _lines_back(b: Budget) -> list[schemas.BudgetLineIn]:
    return [
        schemas.BudgetLineIn(
            treatment_id=ln["treatment_id"],
            description=ln["description"],
            tooth=ln["tooth"],
            surfaces=ln["surfaces"],
            quantity=ln["quantity"],
            unit_price=ln["unit_price"],
            discount=schemas.Discount(**ln["discount"]) if ln["discount"] else None,
            vat_code=ln["vat_code"],
        )
        for ln in b.lines
    ]


def list_budgets(principal: Principal, q: schemas.BudgetQuery) -> Page:
    cid = principal.clinic_id
    if q.patient_id:
        common.patient(cid, q.patient_id)
        pk = Budget.patient_pk(cid, q.patient_id)
        start = decode_cursor(q.cursor, partition=("GSI2PK", pk))
        it = Budget.gsi2.query(
            pk,
            scan_index_forward=False,
            limit=q.limit,
            last_evaluated_key=start,
            filter_condition=(Budget.status == q.status) if q.status else None,
        )
    else:
        pk = Budget.list_pk(cid)
        start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
        it = Budget.gsi1.query(
            pk,
            scan_index_forward=False,
            limit=q.limit,
            last_evaluated_key=start,
            filter_condition=(Budget.status == q.status) if q.status else None,
        )
    found = [b for b in it if isinstance(b, Budget)]
    from chalicelib.patients import service as patients  # noqa: PLC0415

    people = patients.load_many(cid, {b.patient_id for b in found})
    items = []
    for b in found:
        out = budget_out(b)
        p = people.get(b.patient_id)
        out.patient_name = patients.full_name(p) if p else None
        items.append(out)
    return Page(items, encode_cursor(it.last_evaluated_key))


# --- workflow ------------------------------------------------------------------------------


def send(principal: Principal, budget_id: str, data: schemas.SendBudgetIn) -> schemas.SendBudgetOut:
    """draft -> sent (or a fresh link for a sent budget). Returns the patient's signed link."""
    cid = principal.clinic_id
    b = load(cid, budget_id, consistent=True)
    _need(b, ("draft", "sent"), "sent")
    if date.fromisoformat(b.valid_until) < common.local_today(b.time_zone):
        raise Conflict(
            tr(
                "The budget's validity date has passed; change it first.",
                "La fecha de validez del presupuesto ya ha pasado; cámbiala primero.",
            ),
            code="BUDGET_EXPIRED",
        )
    was = b.status
    old = int(b.version)
    at = now()
    b.status = "sent"
    b.sent_at = b.sent_at or at
    b.GSI3PK, b.GSI3SK = Budget.expiry_pk(b.valid_until), f"{b.PK}#{b.budget_id}"
    link_id = new_id()
    expires_at = at + timedelta(days=data.valid_days)
    link = BudgetLink(
        *BudgetLink.key(link_id),
        clinic_id=cid,
        budget_id=budget_id,
        action="accept",
        used=False,
        valid_until=expires_at,
        expires_at=expires_at + timedelta(days=30),
    )
    _save(
        principal,
        b,
        old,
        was,
        "billing.budget.sent",
        extra=[lambda tx: tx.save(link, condition=BudgetLink.PK.does_not_exist())],
    )
    token = LINKS.sign(link_id, "accept", budget_id, int(expires_at.timestamp()))
    url = f"{settings().app_url}/api/v1/public/budgets/{token}"
    emailed = _email_link(cid, b, url, expires_at) if data.email else None
    if was == "draft":
        events.publish(
            "budget.sent",
            cid,
            principal.actor,
            budget_id=budget_id,
            patient_id=b.patient_id,
            number=b.number,
            total=b.totals["total"],
            link_expires_at=expires_at.isoformat(),
        )
    return schemas.SendBudgetOut(
        budget=budget_out(b),
        link=url,
        link_expires_at=expires_at,
        emailed_to=emailed.get("to") if emailed else None,
        not_emailed=emailed.get("why") if emailed else "not_requested",
    )


EMAIL_TEXT = {
    "es": {
        "subject": "{clinic}: su presupuesto {number}",
        "hello": "Hola, {name}:",
        "lead": "Le enviamos el presupuesto {number} de {clinic} por un total de {total}.",
        "cta": "Ver y aceptar el presupuesto",
        "note": "Puede aceptar todos los tratamientos o solo algunos, y firmar desde el móvil. "
        "El enlace caduca el {until}.",
        "footer": "Ha recibido este mensaje porque es paciente de {clinic}.",
    },
    "en": {
        "subject": "{clinic}: your treatment estimate {number}",
        "hello": "Hello {name},",
        "lead": "Here is the treatment estimate {number} from {clinic}, for a total of {total}.",
        "cta": "View and accept the estimate",
        "note": "You can accept every treatment or only some, and sign on your phone. "
        "The link expires on {until}.",
        "footer": "You received this message because you are a patient of {clinic}.",
    },
}


def _email_link(cid: str, b: Budget, url: str, expires_at: datetime) -> dict[str, str]:
    """Email the signed link to the patient, by the same rules and module as the appointment
    notices (consent, undeliverable addresses), and record it in the patient's messages.
    Returns ``{"to": address}`` or ``{"why": no_email|no_consent|undeliverable|failed}``."""
    from html import escape  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from chalicelib.comms import service as comms  # noqa: PLC0415
    from chalicelib.comms import templates  # noqa: PLC0415
    from chalicelib.core import mail  # noqa: PLC0415

    p = common.patient(cid, b.patient_id)
    if not p.email:
        return {"why": "no_email"}
    route, why = comms.route_for(cid, p, ["email"])
    if route is None:
        return {"why": why or "no_consent"}
    clinic = common.clinic(cid)
    lang = b.language if b.language in EMAIL_TEXT else "es"
    t = EMAIL_TEXT[lang]
    brand = templates.Brand.of(clinic)
    total = money.fmt_eur(Decimal(b.totals["total"]), lang)
    until = expires_at.astimezone(ZoneInfo(b.time_zone))
    until_s = until.strftime("%d/%m/%Y") if lang == "es" else until.strftime("%d %b %Y")
    subject = t["subject"].format(clinic=clinic.name, number=b.number)
    hello = t["hello"].format(name=p.first_name)
    lead = t["lead"].format(number=b.number, clinic=clinic.name, total=total)
    note = t["note"].format(until=until_s)
    footer = t["footer"].format(clinic=clinic.name)
    text = "\n".join([hello, "", lead, "", f"{t['cta']}: {url}", "", note, "", "--", footer])
    colour = escape(brand.colour)
    body = (
        f"<p>{escape(hello)}</p><p>{escape(lead)}</p>"
        f'<p><a href="{escape(url)}" style="background:{colour};color:#fff;padding:10px 16px;'
        f'border-radius:6px;text-decoration:none;display:inline-block">{escape(t["cta"])}</a></p>'
        f'<p style="color:#737373;font-size:13px">{escape(note)}</p>'
    )
    html = templates.layout(brand, lang, subject, body, footer)
    raw = comms.mime(
        to=route.address, subject=subject, text=text, html=html, sender_name=clinic.name
    )
    try:
        provider_id = mail.send_raw_email(to=route.address, raw=raw)
    except Exception:  # noqa: BLE001 - the budget is sent; the desk sees it was not emailed
        logger.exception("budget email not sent")
        return {"why": "failed"}
    m = comms.new_message(
        cid,
        patient_id=p.patient_id,
        channel="email",
        direction="out",
        kind="budget",
        status="sent",
        subject=subject,
        provider_id=provider_id,
    )
    m.save()
    comms.emit_message_event(cid, m)
    _record_sent_to(cid, b.budget_id, route.address)
    return {"to": route.address}


def _record_sent_to(cid: str, budget_id: str, address: str) -> None:
    """Where the budget was last emailed (shown on the budget; not part of its version)."""
    try:
        Budget(*Budget.key(cid, budget_id)).update(
            actions=[Budget.sent_to.set(address), Budget.emailed_at.set(now())],
            condition=Budget.SK.exists(),
        )
    except Exception:  # noqa: BLE001
        logger.exception("budget sent_to not recorded")


# --- history -------------------------------------------------------------------------------

_HISTORY_ACTIONS = {
    "billing.budget.created": "created",
    "billing.budget.updated": "updated",
    "billing.budget.sent": "sent",
    "billing.budget.accepted": "accepted",
    "billing.budget.rejected": "rejected",
    "billing.budget.cancelled": "cancelled",
    "billing.budget.superseded": "superseded",
    "billing.budget.expired": "expired",
}


def history(principal: Principal, budget_id: str) -> list[dict[str, Any]]:
    """What happened to the budget, oldest first, from its audit entries."""
    from chalicelib.core.audit import AuditEntry  # noqa: PLC0415

    cid = principal.clinic_id
    load(cid, budget_id)
    pk = audit.index_keys(cid, "x", "budget", budget_id)["GSI2PK"]
    out = []
    for e in AuditEntry.gsi2.query(pk, scan_index_forward=True, limit=200):
        if not isinstance(e, AuditEntry) or e.action not in _HISTORY_ACTIONS:
            continue
        out.append(
            {
                "at": e.at.isoformat(),
                "event": _HISTORY_ACTIONS[e.action],
                "actor_type": e.actor_type,
                "actor_name": e.actor_name,
            }
        )
    return out


def _accepted_ids(b: Budget, line_ids: list[str] | None) -> list[str]:
    all_ids = [ln["line_id"] for ln in b.lines]
    if line_ids is None:
        return all_ids
    unknown = [i for i in line_ids if i not in all_ids]
    if unknown:
        raise _unprocessable(
            "line_ids",
            tr(
                f"not lines of this budget: {', '.join(unknown)}",
                f"no son líneas de este presupuesto: {', '.join(unknown)}",
            ),
        )
    if not line_ids:
        raise _unprocessable(
            "line_ids",
            tr(
                "accept at least one line (or reject the budget)",
                "acepta al menos una línea (o rechaza el presupuesto)",
            ),
        )
    return [i for i in all_ids if i in set(line_ids)]


def _mark_accepted(b: Budget, ids: list[str], at: datetime) -> None:
    chosen = set(ids)
    lines = []
    for ln in b.lines:
        lines.append({**ln, "accepted": ln["line_id"] in chosen})
    b.lines = lines
    b.accepted_line_ids = ids
    b.partial = len(ids) < len(lines)
    b.status = "accepted"
    b.decided_at = at
    b.GSI3PK = b.GSI3SK = None


def render_pdf(b: Budget, acceptance: BudgetAcceptance | None = None) -> bytes:
    """The budget as it stands: for a sent one, what the patient reviews (its SHA-256 is the
    evidence of what was accepted); once decided, with its state; once accepted (with the
    acceptance), with the lines accepted, the signer, the signature and the time."""
    from chalicelib.billing import pdf  # lazy: reportlab stays out of the API cold start

    clinic = common.clinic(b.PK.removeprefix("C#"))
    p = common.patient(clinic.clinic_id, b.patient_id)
    return pdf.budget_pdf(b, clinic, common.patient_name(p), acceptance)


def pdf_bytes(principal: Principal, budget_id: str) -> bytes:
    b = load(principal.clinic_id, budget_id)
    acc = acceptance_of(principal.clinic_id, budget_id) if b.status == "accepted" else None
    return render_pdf(b, acc)


def accepted_pdf_key(clinic_id: str, budget_id: str) -> str:
    return f"clinics/{clinic_id}/budgets/{budget_id}/accepted.pdf"


def _store_accepted_pdf(clinic_id: str, budget_id: str, data: bytes) -> None:
    try:
        storage.write(
            accepted_pdf_key(clinic_id, budget_id),
            data,
            content_type="application/pdf",
            cache_control="private, no-store",
        )
    except Exception:  # noqa: BLE001 - rebuilt from the record on the first read (below)
        logger.exception("accepted budget pdf not stored")


def accepted_pdf_bytes(principal: Principal, budget_id: str) -> tuple[bytes, str]:
    """The accepted budget's PDF as stored at acceptance (rebuilt and stored again from the
    acceptance record if the object is missing). 409 unless the budget is accepted."""
    cid = principal.clinic_id
    b = load(cid, budget_id)
    acc = acceptance_of(cid, budget_id) if b.status == "accepted" else None
    if acc is None:
        raise Conflict(
            tr(
                "This budget has not been accepted, so there is no accepted PDF.",
                "Este presupuesto no está aceptado, así que no hay PDF de aceptación.",
            ),
            code="BUDGET_NOT_ACCEPTED",
            data={"status": b.status},
        )
    key = accepted_pdf_key(cid, budget_id)
    try:
        return storage.read(key), b.number
    except storage.ObjectMissing:
        data = render_pdf(b, acc)
        _store_accepted_pdf(cid, budget_id, data)
        return data, b.number


def _store_pdf(clinic_id: str, budget_id: str, data: bytes, digest: str) -> str | None:
    key = f"clinics/{clinic_id}/budgets/{budget_id}/accepted-{digest}.pdf"
    try:
        storage.write(key, data, content_type="application/pdf")
    except Exception:  # noqa: BLE001 - the hash in the record is the evidence; log and go on
        logger.exception("accepted budget pdf not stored")
        return None
    return key


def _publish_accepted(cid: str, actor: dict[str, Any], b: Budget, channel: str) -> None:
    events.publish(
        "budget.accepted",
        cid,
        actor,
        budget_id=b.budget_id,
        patient_id=b.patient_id,
        number=b.number,
        partial=bool(b.partial),
        accepted_line_ids=list(b.accepted_line_ids or []),
        total=b.totals["total"],
        channel=channel,
    )


def accept(principal: Principal, budget_id: str, data: schemas.AcceptBudgetIn) -> schemas.BudgetOut:
    """Accepted at the desk (the patient signs on paper): records who and the PDF's hash."""
    cid = principal.clinic_id
    b = load(cid, budget_id, consistent=True)
    _need(b, ("sent",), "accepted")
    ids = _accepted_ids(b, data.line_ids)
    data_pdf = render_pdf(b)
    digest = hashlib.sha256(data_pdf).hexdigest()
    _store_pdf(cid, budget_id, data_pdf, digest)  # the budget as the patient saw it
    at = now()
    old = int(b.version)
    _mark_accepted(b, ids, at)
    acc = BudgetAcceptance(
        *BudgetAcceptance.key(cid, budget_id),
        budget_id=budget_id,
        channel="staff",
        signer_name=data.signer_name,
        relationship=data.relationship,
        accepted_line_ids=ids,
        ip=principal.ip,
        user_agent=(principal.user_agent or "")[:512] or None,
        accepted_at=at,
        pdf_sha256=digest,
        pdf_key=accepted_pdf_key(cid, budget_id),
        staff_user_id=principal.user_id,
    )
    accepted_pdf = render_pdf(b, acc)
    _save(
        principal,
        b,
        old,
        "sent",
        "billing.budget.accepted",
        extra=[lambda tx: tx.save(acc, condition=BudgetAcceptance.SK.does_not_exist())],
    )
    _store_accepted_pdf(cid, budget_id, accepted_pdf)
    _publish_accepted(cid, principal.actor, b, "staff")
    return budget_out(b, acc)


def reject(principal: Principal, budget_id: str, data: schemas.RejectBudgetIn) -> schemas.BudgetOut:
    cid = principal.clinic_id
    b = load(cid, budget_id, consistent=True)
    _need(b, ("sent",), "rejected")
    old = int(b.version)
    b.status, b.rejection_reason, b.decided_at = "rejected", data.reason, now()
    b.GSI3PK = b.GSI3SK = None
    _save(principal, b, old, "sent", "billing.budget.rejected")
    events.publish(
        "budget.rejected",
        cid,
        principal.actor,
        budget_id=budget_id,
        patient_id=b.patient_id,
        number=b.number,
    )
    return budget_out(b)


def cancel(principal: Principal, budget_id: str) -> schemas.BudgetOut:
    cid = principal.clinic_id
    b = load(cid, budget_id, consistent=True)
    _need(b, OPEN, "cancelled")
    old, was = int(b.version), b.status
    b.status = "cancelled"
    b.GSI3PK = b.GSI3SK = None
    _save(principal, b, old, was, "billing.budget.cancelled")
    events.publish(
        "budget.cancelled",
        cid,
        principal.actor,
        budget_id=budget_id,
        patient_id=b.patient_id,
        number=b.number,
        previous_status=was,
    )
    return budget_out(b)


def revise(principal: Principal, budget_id: str) -> schemas.BudgetOut:
    """A renegotiated budget: a new draft revision (same number) that supersedes this one."""
    cid = principal.clinic_id
    old_b = load(cid, budget_id, consistent=True)
    _need(old_b, REVISABLE, "revised")
    clinic = common.clinic(cid)
    today = common.local_today(clinic.time_zone)
    nid = new_id()
    at = now()
    valid_until = max(
        date.fromisoformat(old_b.valid_until), today + timedelta(days=DEFAULT_VALID_DAYS)
    )
    new = Budget(
        *Budget.key(cid, nid),
        GSI1PK=Budget.list_pk(cid),
        GSI1SK=nid,
        GSI2PK=Budget.patient_pk(cid, old_b.patient_id),
        GSI2SK=nid,
        budget_id=nid,
        patient_id=old_b.patient_id,
        number=old_b.number,
        revision=int(old_b.revision) + 1,
        status="draft",
        title=old_b.title,
        notes=old_b.notes,
        language=old_b.language,
        valid_until=valid_until.isoformat(),
        time_zone=clinic.time_zone,
        lines=[
            {
                **ln,
                "line_id": new_id(),
                "accepted": None,
                "invoiced_quantity": "0",
                "invoiced_base": "0.00",
            }
            for ln in old_b.lines
        ],
        global_discount=old_b.global_discount,
        totals=old_b.totals,
        breakdown=old_b.breakdown,
        supersedes=budget_id,
        created_by=principal.user_id,
        created_at=at,
        updated_at=at,
        version=1,
    )
    prev_version, was = int(old_b.version), old_b.status
    old_b.status, old_b.superseded_by = "superseded", nid
    old_b.GSI3PK = old_b.GSI3SK = None
    _save(
        principal,
        old_b,
        prev_version,
        was,
        "billing.budget.superseded",
        extra=[lambda tx: tx.save(new, condition=Budget.SK.does_not_exist())],
    )
    events.publish(
        "budget.superseded",
        cid,
        principal.actor,
        budget_id=budget_id,
        patient_id=old_b.patient_id,
        number=old_b.number,
        previous_status=was,
        superseded_by=nid,
    )
    events.publish(
        "budget.created",
        cid,
        principal.actor,
        budget_id=nid,
        patient_id=new.patient_id,
        number=new.number,
        revision=int(new.revision),
        supersedes=budget_id,
        total=new.totals["total"],
    )
    return budget_out(new)


# --- expiry (daily job) --------------------------------------------------------------------

EXPIRY_LOOKBACK_DAYS = 7


def expire_due(at: datetime | None = None) -> dict[str, int]:
    """Sent budgets whose validity date has passed become expired.

    Served by GSI3 (``BUDEXP#<valid_until>``): only sent budgets carry the key, so the job
    reads the buckets of the last days and touches only what is due. A budget is expired when
    its validity date is before today in its clinic's zone; a bucket not yet due in a zone is
    left for the next run (the look-back also catches up missed runs).
    """
    at = at or now()
    expired = skipped = 0
    start = at.date() - timedelta(days=EXPIRY_LOOKBACK_DAYS)
    for i in range(EXPIRY_LOOKBACK_DAYS + 1):
        day = (start + timedelta(days=i)).isoformat()
        for ref in Budget.gsi3.query(Budget.expiry_pk(day)):
            # Each budget with its own clinic's credentials (ADR 0012).
            with scoping.for_partition(ref.PK):
                if not isinstance(ref, Budget):
                    continue
                try:
                    b = Budget.get(ref.PK, ref.SK, consistent_read=True)
                except DoesNotExist:
                    continue
                if b.status != "sent" or date.fromisoformat(b.valid_until) >= common.local_today(
                    b.time_zone, at
                ):
                    skipped += 1
                    continue
                old = int(b.version)
                b.status, b.decided_at = "expired", at
                b.GSI3PK = b.GSI3SK = None
                try:
                    _save(
                        None,
                        b,
                        old,
                        "sent",
                        "billing.budget.expired",
                        actor={"type": "system", "id": "budget-expiry"},
                    )
                except Conflict:
                    skipped += 1
                    continue
                events.publish(
                    "budget.expired",
                    ref.PK[2:],
                    {"type": "system", "id": "budget-expiry"},
                    budget_id=b.budget_id,
                    patient_id=b.patient_id,
                    number=b.number,
                    valid_until=b.valid_until,
                )
                expired += 1
    return {"expired": expired, "skipped": skipped}


# --- acceptance through the patient's link -------------------------------------------------


class LinkProblem(Exception):  # noqa: N818
    def __init__(self, reason: str, clinic: Any = None, language: str = "es") -> None:
        super().__init__(reason)
        self.reason = reason
        self.clinic = clinic
        self.language = language


def resolve_link(token: str) -> tuple[BudgetLink, Budget]:
    """The link and its budget, or LinkProblem(malformed|tampered|expired|used|unavailable)."""
    try:
        claims = LINKS.verify(token)
    except InvalidLink as exc:
        raise LinkProblem(exc.reason) from exc
    try:
        link = BudgetLink.get(*BudgetLink.key(claims.link_id), consistent_read=True)
    except DoesNotExist as exc:
        raise LinkProblem("tampered") from exc
    if (
        link.budget_id != claims.subject_id
        or link.action != claims.action
        or not scoping.is_plain_id(link.clinic_id)
    ):
        raise LinkProblem("tampered")
    scoping.adopt(link.clinic_id)  # the rest of the request runs as the link's clinic (ADR 0012)
    try:
        b = load(link.clinic_id, link.budget_id, consistent=True)
    except NotFound as exc:
        raise LinkProblem("unavailable") from exc
    clinic = common.clinic(link.clinic_id)
    if link.used:
        raise LinkProblem("used", clinic, b.language)
    if link.valid_until <= now():
        raise LinkProblem("expired", clinic, b.language)
    if b.status != "sent":
        reason = "accepted" if b.status == "accepted" else "unavailable"
        if b.status == "expired":
            reason = "expired"
        raise LinkProblem(reason, clinic, b.language)
    if date.fromisoformat(b.valid_until) < common.local_today(b.time_zone):
        raise LinkProblem("expired", clinic, b.language)
    return link, b


class FormProblem(ValueError):
    """What is wrong with the patient's acceptance form: ``name`` (no signer's name),
    ``no_lines`` (no treatment ticked), ``blank_signature`` (nothing drawn) or
    ``bad_signature`` (not a drawing we can read). Nothing has been written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A drawn signature has at least this many inked pixels and spans at least this many pixels
# one way; a blank (or near-blank: a dot, a click) canvas does not.
MIN_INK_PIXELS = 30
MIN_INK_SPAN = 12


def _png_has_ink(raw: bytes) -> bool:
    import io  # noqa: PLC0415

    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - only when a PNG is signed

    try:
        img = Image.open(io.BytesIO(raw))
        if img.width * img.height > 4_000_000:
            raise FormProblem("bad_signature")
        img = img.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FormProblem("bad_signature") from exc
    # Ink: visible (alpha) and not near white. A blank canvas is fully transparent or white.
    r, g, b, a = img.split()
    visible = a.point(lambda v: 255 if v > 32 else 0)
    light = Image.merge("RGB", (r, g, b)).convert("L").point(lambda v: 255 if v < 224 else 0)
    from PIL import ImageChops  # noqa: PLC0415

    ink = ImageChops.multiply(visible, light)
    count = sum(ink.histogram()[255:])
    box = ink.getbbox()
    if not box or count < MIN_INK_PIXELS:
        return False
    return max(box[2] - box[0], box[3] - box[1]) >= MIN_INK_SPAN


def _svg_has_ink(value: str) -> bool:
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?", value)]
    xs, ys = nums[0::2], nums[1::2]
    if len(xs) < 2 or len(ys) < 2:
        return False
    return max(max(xs) - min(xs), max(ys) - min(ys)) >= MIN_INK_SPAN


def check_signature(value: str) -> str:
    """'png' or 'svg' for a drawn signature; raises FormProblem otherwise (also when the
    drawing is blank: a PNG of an empty canvas, a path that goes nowhere)."""
    value = value.strip()
    if not value:
        raise FormProblem("blank_signature")
    if len(value) > MAX_SIGNATURE_BYTES:
        raise FormProblem("bad_signature")
    if value.startswith("data:image/png;base64,"):
        try:
            raw = base64.b64decode(value.split(",", 1)[1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FormProblem("bad_signature") from exc
        if not raw.startswith(b"\x89PNG\r\n\x1a\n") or len(raw) < 67:
            raise FormProblem("bad_signature")
        if not _png_has_ink(raw):
            raise FormProblem("blank_signature")
        return "png"
    if _SVG_PATH.match(value) and value.lstrip()[:1] in ("M", "m") and len(value) >= 8:
        if not _svg_has_ink(value):
            raise FormProblem("blank_signature")
        return "svg"
    raise FormProblem("bad_signature")


def accept_by_link(
    token: str,
    *,
    signer_name: str,
    relationship: str,
    signature: str,
    line_ids: list[str] | None,
    pdf_sha256: str | None,
    ip: str | None,
    user_agent: str | None,
) -> tuple[Budget, BudgetAcceptance]:
    link, b = resolve_link(token)
    cid = link.clinic_id
    signer_name = " ".join(signer_name.split())
    if not 2 <= len(signer_name) <= 200:
        raise FormProblem("name")
    relationship = " ".join((relationship or "self").split())[:60] or "self"
    if line_ids is not None and not line_ids:
        raise FormProblem("no_lines")  # a form with nothing ticked accepts nothing
    kind = check_signature(signature)
    ids = _accepted_ids(b, line_ids)
    data_pdf = render_pdf(b)
    digest = hashlib.sha256(data_pdf).hexdigest()
    if pdf_sha256 and pdf_sha256 != digest:
        raise LinkProblem("changed", common.clinic(cid), b.language)
    _store_pdf(cid, b.budget_id, data_pdf, digest)  # the budget as the patient saw it
    at = now()
    old = int(b.version)
    _mark_accepted(b, ids, at)
    acc = BudgetAcceptance(
        *BudgetAcceptance.key(cid, b.budget_id),
        budget_id=b.budget_id,
        channel="link",
        signer_name=signer_name,
        relationship=relationship,
        signature=signature.strip(),
        signature_kind=kind,
        accepted_line_ids=ids,
        ip=ip,
        user_agent=(user_agent or "")[:512] or None,
        accepted_at=at,
        pdf_sha256=digest,
        pdf_key=accepted_pdf_key(cid, b.budget_id),
        link_id=link.PK.removeprefix("BLINK#"),
    )
    accepted_pdf = render_pdf(b, acc)
    # The signer's name is in the acceptance record; the actor (audit entry, event, timeline)
    # names the channel only, so no patient's or guardian's name travels in events.
    actor = {
        "type": "link",
        "id": link.PK.removeprefix("BLINK#"),
        "name": "patient (budget link)",
        "ip": ip,
        "user_agent": user_agent,
    }

    def consume(tx: Any) -> None:
        tx.update(
            link,
            actions=[BudgetLink.used.set(True), BudgetLink.used_at.set(at)],
            condition=BudgetLink.used == False,  # noqa: E712
        )
        tx.save(acc, condition=BudgetAcceptance.SK.does_not_exist())

    try:
        _save(None, b, old, "sent", "billing.budget.accepted", extra=[consume], actor=actor)
    except Conflict as exc:
        raise LinkProblem("used", common.clinic(cid), b.language) from exc
    _store_accepted_pdf(cid, b.budget_id, accepted_pdf)
    _publish_accepted(cid, actor, b, "link")
    return b, acc


def pdf_digest(b: Budget) -> tuple[bytes, str]:
    data = render_pdf(b)
    return data, hashlib.sha256(data).hexdigest()


def token_budget_pdf(token: str) -> bytes:
    _, b = resolve_link(token)
    return render_pdf(b)
