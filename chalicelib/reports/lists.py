"""The records behind a figure (``/reports/items``) and the CSV exports (audited as
``reports.exported``). A list is one Query of its ``ReportEntry`` items (ADR 1301): by day then
id for the dated lists, oldest first for the state lists; a professional or cabinet filter
reads that dimension's own list, so a page costs the same whatever the filter."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from chalicelib.billing import money
from chalicelib.billing.common import local_today
from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.csvcells import text_cell
from chalicelib.core.db import clinic_pk, decode_cursor, page
from chalicelib.core.errors import BadRequest
from chalicelib.core.i18n import tr
from chalicelib.identity.service import get_clinic
from chalicelib.patients import service as patients
from chalicelib.reports import figures, schemas
from chalicelib.reports import models as m

EXPORT_MAX_ROWS = 50_000
ROW_COLUMNS = list(schemas.ItemRow.model_fields)


def listing(q: Any) -> str:
    """The list's key: the figure, or the figure of one professional or cabinet."""
    if q.figure not in schemas.DATED_LISTS + schemas.STATE_LISTS:
        raise BadRequest(
            tr(
                f"Unknown figure '{q.figure}'; use one of: "
                + ", ".join(schemas.DATED_LISTS + schemas.STATE_LISTS),
                f"Cifra desconocida '{q.figure}'; usa una de: "
                + ", ".join(schemas.DATED_LISTS + schemas.STATE_LISTS),
            )
        )
    if q.professional_id and q.cabinet_id:
        raise BadRequest(
            tr(
                "Filter by a professional or by a cabinet, not both.",
                "Filtra por un profesional o por un gabinete, no por ambos.",
            )
        )
    if q.professional_id:
        if q.figure not in schemas.BY_PROFESSIONAL:
            raise BadRequest(
                tr(
                    f"'{q.figure}' has no professional.",
                    f"'{q.figure}' no tiene profesional.",
                )
            )
        return f"{q.figure}|p:{q.professional_id}"
    if q.cabinet_id:
        if q.figure not in schemas.BY_CABINET:
            raise BadRequest(
                tr(f"'{q.figure}' has no cabinet.", f"'{q.figure}' no tiene gabinete.")
            )
        return f"{q.figure}|c:{q.cabinet_id}"
    return str(q.figure)


def _condition(q: Any, name: str) -> Any:
    prefix = m.entry_prefix(name)
    if q.figure in schemas.STATE_LISTS:
        return m.ReportEntry.SK.startswith(prefix)
    first, last = figures.parse_range(q.date_from, q.date_to)
    return m.ReportEntry.SK.between(prefix + first.isoformat(), prefix + last.isoformat() + "#~")


def _rows(cid: str, entries: list[m.ReportEntry], state: bool) -> list[schemas.ItemRow]:
    names = {
        pid: patients.display_name(p)
        for pid, p in patients.load_many(
            cid, [e.patient_id for e in entries if e.patient_id]
        ).items()
    }
    today = local_today(get_clinic(cid).time_zone) if state else None
    out = []
    for e in entries:
        name = names.get(e.patient_id) if e.patient_id else None
        out.append(
            schemas.ItemRow(
                date=e.date,
                kind=e.kind,  # type: ignore[arg-type]
                id=e.record_id,
                patient_id=e.patient_id,
                patient_name=name,
                label=e.label or (name if e.kind == "patient" else "") or "",
                amount=money.fmt(int(e.amount_cents)) if e.amount_cents is not None else None,
                method=e.method,
                minutes=int(e.minutes) if e.minutes is not None else None,
                professional_id=e.professional_id,
                cabinet_id=e.cabinet_id,
                age_days=(today - date.fromisoformat(e.date)).days if today else None,
            )
        )
    return out


def items(principal: Principal, q: schemas.ItemsQuery) -> Page:
    cid = principal.clinic_id
    name = listing(q)
    cond = _condition(q, name)
    pk = clinic_pk(cid)
    start = decode_cursor(q.cursor, partition=("PK", pk))
    if start is not None and not start["SK"]["S"].startswith(m.entry_prefix(name)):
        raise BadRequest(
            tr(
                "The cursor belongs to a different listing; start again without it.",
                "El cursor es de otro listado; empieza de nuevo sin él.",
            )
        )
    found, cursor = page(m.ReportEntry.query(pk, cond, limit=q.limit, last_evaluated_key=start))
    entries = [e for e in found if isinstance(e, m.ReportEntry)]
    return Page(_rows(cid, entries, q.figure in schemas.STATE_LISTS), cursor)


# --- CSV -------------------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return "\ufeff" + buf.getvalue()  # UTF-8 with a BOM: Excel opens the accents right


def _cell(v: Any) -> Any:
    if isinstance(v, dict):
        return ""
    if v is None:
        return ""
    if isinstance(v, bool | int | float):
        return v
    return text_cell(v)


def _exported(principal: Principal, what: str, **after: Any) -> None:
    audit.record(
        principal.clinic_id,
        principal.actor,
        "reports.exported",
        "report",
        what,
        after=after,
    )


def export_summary(principal: Principal, q: schemas.SummaryExportQuery) -> tuple[str, str]:
    first, last = figures.parse_range(q.date_from, q.date_to)
    s = figures.summary(principal.clinic_id, first, last)
    methods = sorted({k for p in s.series for k in p.collected_by_method})
    if q.group == "professional":
        header = list(schemas.ProfessionalFigures.model_fields)
        rows = [[_cell(getattr(p, c)) for c in header] for p in s.professionals]
    elif q.group == "cabinet":
        header = list(schemas.CabinetFigures.model_fields)
        rows = [[_cell(getattr(c, h)) for h in header] for c in s.cabinets]
    else:
        base = [f for f in schemas.Figures.model_fields if f != "collected_by_method"]
        header = ["period", *base, *(f"collected_{mt}" for mt in methods)]
        rows = [
            [
                p.period,
                *(_cell(getattr(p, f)) for f in base),
                *(p.collected_by_method.get(mt, "0.00") for mt in methods),
            ]
            for p in s.series
        ]
    _exported(principal, "summary", group=q.group, date_from=str(first), date_to=str(last))
    return f"summary-{q.group}-{first}-{last}.csv", _csv(header, rows)


def export_items(principal: Principal, q: schemas.ItemsExportQuery) -> tuple[str, str]:
    query = schemas.ItemsQuery(
        figure=q.figure,
        date_from=q.date_from,
        date_to=q.date_to,
        professional_id=q.professional_id,
        cabinet_id=q.cabinet_id,
        limit=200,
    )
    rows: list[list[Any]] = []
    while True:
        got = items(principal, query)
        rows += [[_cell(getattr(r, c)) for c in ROW_COLUMNS] for r in got.items]
        if not got.next_cursor or len(rows) >= EXPORT_MAX_ROWS:
            break
        query = query.model_copy(update={"cursor": got.next_cursor})
    _exported(
        principal,
        q.figure,
        date_from=q.date_from,
        date_to=q.date_to,
        professional_id=q.professional_id,
        cabinet_id=q.cabinet_id,
        rows=len(rows),
    )
    return f"{q.figure}.csv", _csv(ROW_COLUMNS, rows)
