"""Treatment catalog and VAT types of a clinic, with CSV import (dry run) and export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.billing import money, rules, schemas
from chalicelib.billing.models import Treatment, TreatmentCode, VatType
from chalicelib.core import audit
from chalicelib.core.api import Page, Principal
from chalicelib.core.csvcells import FORMULA_START, text_cell
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import Text, field_message, render, tr
from chalicelib.core.ids import new_id, now

# --- VAT types -----------------------------------------------------------------------------


def _vat_out(v: VatType) -> schemas.VatTypeOut:
    return schemas.VatTypeOut(
        code=v.code,
        name_es=v.name_es,
        name_en=v.name_en,
        rate=v.rate,
        classification=v.classification,
        exempt=v.classification in rules.EXEMPT,
        active=v.active,
    )


def _ensure_defaults(clinic_id: str) -> list[VatType]:
    """The Spanish defaults, written on first use (idempotent: existing ones are kept)."""
    out = []
    at = now()
    for code, (es, en, rate, cls) in rules.DEFAULT_VAT_TYPES.items():
        v = VatType(
            *VatType.key(clinic_id, code),
            code=code,
            name_es=es,
            name_en=en,
            rate=money.fmt_rate(rate),
            classification=cls,
            active=True,
            updated_at=at,
        )
        try:
            v.save(condition=VatType.SK.does_not_exist())
        except PutError:
            v = VatType.get(*VatType.key(clinic_id, code), consistent_read=True)
        out.append(v)
    return out


def vat_types(clinic_id: str) -> dict[str, VatType]:
    items = list(
        VatType.query(clinic_pk(clinic_id), VatType.SK.startswith("VAT#"), consistent_read=True)
    )
    if not any(i.code in rules.DEFAULT_VAT_TYPES for i in items):
        items = _ensure_defaults(clinic_id) + [
            i for i in items if i.code not in rules.DEFAULT_VAT_TYPES
        ]
    return {v.code: v for v in items}


def vat_type(clinic_id: str, code: str) -> VatType:
    v = vat_types(clinic_id).get(code)
    if v is None:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[
                {
                    "field": "vat_code",
                    "message": tr(
                        f"unknown VAT type {code!r}", f"tipo de IVA desconocido: {code!r}"
                    ),
                }
            ],
        )
    return v


def list_vat_types(principal: Principal) -> list[schemas.VatTypeOut]:
    return [_vat_out(v) for v in sorted(vat_types(principal.clinic_id).values(), key=_vat_sort)]


def _vat_sort(v: VatType) -> tuple[int, str]:
    order = list(rules.DEFAULT_VAT_TYPES)
    return (order.index(v.code) if v.code in order else 99, v.code)


def create_vat_type(principal: Principal, data: schemas.VatTypeIn) -> schemas.VatTypeOut:
    problem = rules.classification_ok(data.classification, data.rate)
    if problem:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[{"field": "rate", "message": problem}],
        )
    vat_types(principal.clinic_id)  # defaults first
    v = VatType(
        *VatType.key(principal.clinic_id, data.code),
        code=data.code,
        name_es=data.name_es,
        name_en=data.name_en,
        rate=money.fmt_rate(data.rate),
        classification=data.classification,
        active=True,
        updated_at=now(),
    )
    try:
        with transaction() as tx:
            tx.save(v, condition=VatType.SK.does_not_exist())
            tx.save(
                audit.entry(
                    principal.clinic_id,
                    principal.actor,
                    "billing.vat_type.created",
                    "vat_type",
                    data.code,
                    after={"rate": v.rate, "classification": v.classification},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                f"A VAT type with code {data.code} already exists.",
                f"Ya existe un tipo de IVA con el código {data.code}.",
            )
        ) from exc
    return _vat_out(v)


def update_vat_type(
    principal: Principal, code: str, data: schemas.VatTypeUpdate
) -> schemas.VatTypeOut:
    v = vat_types(principal.clinic_id).get(code)
    if v is None:
        raise NotFound(
            tr(
                "No VAT type with that code in this clinic.",
                "No hay ningún tipo de IVA con ese código en esta clínica.",
            )
        )
    changes = data.model_dump(exclude_none=True)
    problem = rules.classification_ok(v.classification, Decimal(v.rate))
    if changes.get("active") and problem is not None:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[{"field": "active", "message": problem}],
        )
    for k, val in changes.items():
        setattr(v, k, val)
    v.updated_at = now()
    with transaction() as tx:
        tx.save(v)
        tx.save(
            audit.entry(
                principal.clinic_id,
                principal.actor,
                "billing.vat_type.updated",
                "vat_type",
                code,
                after=changes,
            )
        )
    return _vat_out(v)


# --- treatments ----------------------------------------------------------------------------


def treatment_out(t: Treatment) -> schemas.TreatmentOut:
    return schemas.TreatmentOut(
        treatment_id=t.treatment_id,
        code=t.code,
        name_es=t.name_es,
        name_en=t.name_en,
        category=list(t.category or []),
        price=money.fmt(int(t.price_cents)),
        cost=money.fmt(int(t.cost_cents)) if t.cost_cents is not None else None,
        duration_min=int(t.duration_min) if t.duration_min is not None else None,
        scope=t.scope,
        vat_code=t.vat_code,
        active=t.active,
        updated_at=t.updated_at,
        materials=[schemas.Material(**m) for m in (t.materials or [])],
    )


def _check_materials(clinic_id: str, materials: list[schemas.Material]) -> list[dict]:
    """The materials as stored, each an inventory item of this clinic named once (a 422 on
    ``materials`` otherwise: another clinic's item is as unknown as a missing one)."""
    if not materials:
        return []
    from chalicelib.inventory.common import load_items  # noqa: PLC0415

    ids = [m.item_id for m in materials]
    found = load_items(clinic_id, ids)
    problem = None
    if len(set(ids)) != len(ids):
        problem = tr("an item is listed twice", "un artículo aparece dos veces")
    elif missing := [i for i in ids if i not in found]:
        problem = tr(
            f"no inventory item {missing[0]} in this clinic",
            f"no hay ningún artículo de inventario {missing[0]} en esta clínica",
        )
    if problem is not None:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[{"field": "materials", "message": problem}],
        )
    return [m.model_dump() for m in materials]


def load_treatment(clinic_id: str, treatment_id: str) -> Treatment:
    try:
        return Treatment.get(*Treatment.key(clinic_id, treatment_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No treatment with that id in this clinic.",
                "No hay ningún tratamiento con ese id en esta clínica.",
            )
        ) from exc


def load_treatments(clinic_id: str, ids: list[str]) -> dict[str, Treatment]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return {
        t.treatment_id: t
        for t in Treatment.batch_get([Treatment.key(clinic_id, i) for i in ids])
        if isinstance(t, Treatment)
    }


def _by_code(clinic_id: str, code: str) -> Treatment | None:
    try:
        tc = TreatmentCode.get(*TreatmentCode.key(clinic_id, code), consistent_read=True)
    except DoesNotExist:
        return None
    try:
        return Treatment.get(*Treatment.key(clinic_id, tc.treatment_id), consistent_read=True)
    except DoesNotExist:
        return None


def _new_treatment(clinic_id: str, data: schemas.TreatmentIn) -> Treatment:
    tid = new_id()
    at = now()
    return Treatment(
        *Treatment.key(clinic_id, tid),
        GSI1PK=Treatment.list_pk(clinic_id),
        GSI1SK=data.code.upper(),
        treatment_id=tid,
        code=data.code.upper(),
        name_es=data.name_es,
        name_en=data.name_en,
        category=data.category,
        price_cents=money.cents(data.price),
        cost_cents=money.cents(data.cost) if data.cost is not None else None,
        duration_min=data.duration_min,
        scope=data.scope,
        vat_code=data.vat_code,
        active=data.active,
        materials=[m.model_dump() for m in data.materials] or None,
        created_at=at,
        updated_at=at,
        version=1,
    )


def vat_problem(code: str, vats: dict[str, VatType]) -> Text | None:
    """Why a treatment cannot take the VAT type ``code``, or None: unknown, deactivated, or one
    a VERI*FACTU record cannot carry (a type stored before that was checked, e.g. 5 %)."""
    v = vats.get(code)
    if v is None:
        known = ", ".join(c for c, x in vats.items() if x.active)
        return tr(
            f"unknown VAT type {code!r} (this clinic has {known})",
            f"tipo de IVA desconocido: {code!r} (esta clínica tiene {known})",
        )
    if not v.active:
        return tr(
            f"the VAT type {code} is deactivated; pick another one or reactivate it",
            f"el tipo de IVA {code} está desactivado; elige otro o reactívalo",
        )
    return rules.classification_ok(v.classification, Decimal(v.rate))


def _check_vat(clinic_id: str, code: str, vats: dict[str, VatType] | None = None) -> None:
    vats = vats if vats is not None else vat_types(clinic_id)
    problem = vat_problem(code, vats)
    if problem is not None:
        raise Unprocessable(
            tr("Some fields are not valid.", "Algunos campos no son válidos."),
            errors=[{"field": "vat_code", "message": problem}],
        )


def create_treatment(principal: Principal, data: schemas.TreatmentIn) -> schemas.TreatmentOut:
    cid = principal.clinic_id
    _check_vat(cid, data.vat_code)
    _check_materials(cid, data.materials)
    t = _new_treatment(cid, data)
    try:
        with transaction() as tx:
            tx.save(
                TreatmentCode(*TreatmentCode.key(cid, t.code), treatment_id=t.treatment_id),
                condition=TreatmentCode.SK.does_not_exist(),
            )
            tx.save(t, condition=Treatment.SK.does_not_exist())
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "billing.treatment.created",
                    "treatment",
                    t.treatment_id,
                    after={"code": t.code, "price": money.fmt(t.price_cents)},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                f"A treatment with code {t.code} already exists.",
                f"Ya existe un tratamiento con el código {t.code}.",
            ),
            code="TREATMENT_CODE_TAKEN",
        ) from exc
    return treatment_out(t)


def get_treatment(principal: Principal, treatment_id: str) -> schemas.TreatmentOut:
    return treatment_out(load_treatment(principal.clinic_id, treatment_id))


def update_treatment(
    principal: Principal, treatment_id: str, data: schemas.TreatmentUpdate
) -> schemas.TreatmentOut:
    cid = principal.clinic_id
    t = load_treatment(cid, treatment_id)
    before = treatment_out(t).model_dump(mode="json")
    changes = data.model_dump(exclude_unset=True)
    if "vat_code" in changes and changes["vat_code"] is not None:
        _check_vat(cid, changes["vat_code"])
    for k, v in changes.items():
        if v is None and k in ("name_es", "scope", "vat_code", "active", "price", "category"):
            continue
        if k == "materials":
            t.materials = _check_materials(cid, data.materials or []) or None
        elif k == "price":
            t.price_cents = money.cents(v)
        elif k == "cost":
            t.cost_cents = money.cents(v) if v is not None else None
        else:
            setattr(t, k, v)
    old_version = int(t.version)
    t.version = old_version + 1
    t.updated_at = now()
    after = treatment_out(t).model_dump(mode="json")
    try:
        with transaction() as tx:
            tx.save(t, condition=Treatment.version == old_version)
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "billing.treatment.updated",
                    "treatment",
                    treatment_id,
                    before={k: before[k] for k in before if k != "updated_at"},
                    after={k: after[k] for k in after if k != "updated_at"},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The treatment changed meanwhile; reload and try again.",
                "El tratamiento ha cambiado mientras tanto; recárgalo y vuelve a intentarlo.",
            )
        ) from exc
    return treatment_out(t)


def list_treatments(principal: Principal, q: schemas.TreatmentQuery) -> Page:
    pk = Treatment.list_pk(principal.clinic_id)
    start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
    it = Treatment.gsi1.query(pk, limit=q.limit, last_evaluated_key=start)
    items = []
    for t in it:
        if isinstance(t, Treatment) and (q.active is None or t.active == q.active):
            items.append(treatment_out(t))
        if len(items) >= q.limit:
            break
    return Page(items, encode_cursor(it.last_evaluated_key))


def all_treatments(clinic_id: str) -> list[Treatment]:
    return [
        t for t in Treatment.gsi1.query(Treatment.list_pk(clinic_id)) if isinstance(t, Treatment)
    ]


# --- CSV -----------------------------------------------------------------------------------
#
# The file is what Spanish Excel opens and saves: ``;``-separated UTF-8 with a BOM, decimal
# commas, text cells that could start a formula prefixed with ``'`` (``core/csvcells``). An
# import reads that back (and ``,``-separated files, decimal points, a file without the BOM).
#
# An import is an upsert by code that changes only the columns the file has: a price-only file
# (``code;price``) changes prices and nothing else. In a column the file has, an empty cell
# clears the optional fields (name_en, category, cost, duration_min) and leaves the others as
# they are. A new code needs name_es and price. The dry run reports each row (created,
# updated, unchanged, error) with its field-level changes, before -> after (ADR 0509).

CSV_COLUMNS = (
    "code",
    "name_es",
    "name_en",
    "category",
    "price",
    "cost",
    "duration_min",
    "scope",
    "vat_code",
    "active",
)
_FIELDS = CSV_COLUMNS[1:]
_CLEARABLE = frozenset({"name_en", "category", "cost", "duration_min"})
_SCOPE_ALIASES = {
    "tooth": "tooth",
    "pieza": "tooth",
    "diente": "tooth",
    "surface": "surface",
    "superficie": "surface",
    "cara": "surface",
    "sextant": "sextant",
    "sextante": "sextant",
    "quadrant": "quadrant",
    "cuadrante": "quadrant",
    "mouth": "mouth",
    "boca": "mouth",
    "arcada": "mouth",
    "general": "mouth",
}
_TRUE = {"1", "true", "yes", "si", "sí", "s", "y", "x"}
_FALSE = {"0", "false", "no", "n"}


def _comma(cents: int | None) -> str:
    """An amount as Spanish Excel reads a number: ``1234,50``."""
    return "" if cents is None else money.fmt(int(cents)).replace(".", ",")


def export_csv(principal: Principal) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for t in sorted(all_treatments(principal.clinic_id), key=lambda t: t.code):
        w.writerow(
            [
                text_cell(t.code),
                text_cell(t.name_es),
                text_cell(t.name_en or ""),
                text_cell(" > ".join(t.category or [])),
                _comma(int(t.price_cents)),
                _comma(t.cost_cents),
                int(t.duration_min) if t.duration_min is not None else "",
                text_cell(t.scope),
                text_cell(t.vat_code),
                "1" if t.active else "0",
            ]
        )
    return "\ufeff" + buf.getvalue()


def _cell(value: str | None) -> str:
    """A cell as the person wrote it: the ``'`` that ``text_cell`` put before a formula-like
    start is taken off again, so that what export wrote imports unchanged."""
    v = (value or "").strip()
    if len(v) >= 2 and v[0] == "'" and v[1:].startswith(FORMULA_START):
        return v[1:]
    return v


def _view(t: Treatment) -> dict[str, Any]:
    """A stored treatment's importable fields, in the types ``TreatmentIn`` takes."""
    return {
        "name_es": t.name_es,
        "name_en": t.name_en,
        "category": list(t.category or []),
        "price": money.from_cents(int(t.price_cents)),
        "cost": money.from_cents(int(t.cost_cents)) if t.cost_cents is not None else None,
        "duration_min": int(t.duration_min) if t.duration_min is not None else None,
        "scope": t.scope,
        "vat_code": t.vat_code,
        "active": bool(t.active),
    }


def _text(field: str, value: Any) -> str | None:
    """A field's value as the report shows it (amounts "45.50", category "A > B")."""
    if value is None:
        return None
    if field == "category":
        return " > ".join(value) or None
    if field in ("price", "cost"):
        return money.fmt(money.cents(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row_values(
    row: dict[str, str], columns: list[str], base: dict[str, Any], new: bool, n: int, lang: str
) -> tuple[dict[str, Any], list[schemas.RowError]]:
    """``base`` with the row's columns applied (only the columns the file has)."""
    data = dict(base)
    errors: list[schemas.RowError] = []
    for col in columns:
        v = row.get(col, "")
        if v == "":
            if col in _CLEARABLE:
                data[col] = [] if col == "category" else None
            continue  # name_es, price, scope, vat_code, active: a blank cell keeps the value
        if col == "category":
            data[col] = [c.strip() for c in v.split(">") if c.strip()]
        elif col == "scope":
            data[col] = _SCOPE_ALIASES.get(v.lower(), v)
        elif col == "vat_code":
            data[col] = v.upper()
        elif col == "active":
            if v.lower() not in _TRUE | _FALSE:
                errors.append(
                    schemas.RowError(
                        row=n,
                        field="active",
                        message=render(tr("use 1 or 0", "usa 1 o 0"), lang),
                    )
                )
                continue
            data[col] = v.lower() in _TRUE
        else:
            data[col] = v
    if new:
        for col in ("name_es", "price"):
            if data.get(col) in (None, ""):
                errors.append(
                    schemas.RowError(
                        row=n,
                        field=col,
                        message=render(
                            tr(
                                f"a new treatment needs {col}: add the column and fill it in",
                                f"un tratamiento nuevo necesita {col}: añade la columna y "
                                "rellénala",
                            ),
                            lang,
                        ),
                    )
                )
    return data, errors


def _report_rows(
    text: str, vats: dict[str, VatType], existing: dict[str, Treatment], lang: str
) -> tuple[list[schemas.CsvRowReport], list[schemas.RowError], dict[str, schemas.TreatmentIn]]:
    """Each row's outcome and changes, the file-level errors, and what to write by code."""
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_cell(h).lower() for h in next(reader, [])]
    file_errors: list[schemas.RowError] = []
    if "code" not in header:
        file_errors.append(
            schemas.RowError(
                row=1,
                field=None,
                message=render(
                    tr(
                        "missing column: code (the first row names the columns, e.g. code;price)",
                        "falta la columna code (la primera fila nombra las columnas, p. ej. "
                        "code;price)",
                    ),
                    lang,
                ),
            )
        )
        return [], file_errors, {}
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown:
        names = ", ".join(unknown)
        allowed = ", ".join(CSV_COLUMNS)
        file_errors.append(
            schemas.RowError(
                row=1,
                field=None,
                message=render(
                    tr(
                        f"unknown columns: {names} (the columns are {allowed})",
                        f"columnas desconocidas: {names} (las columnas son {allowed})",
                    ),
                    lang,
                ),
            )
        )
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        names = ", ".join(repeated)
        file_errors.append(
            schemas.RowError(
                row=1,
                field=None,
                message=render(
                    tr(f"repeated columns: {names}", f"columnas repetidas: {names}"), lang
                ),
            )
        )
        return [], file_errors, {}
    columns = [c for c in _FIELDS if c in header]
    reports: list[schemas.CsvRowReport] = []
    writes: dict[str, schemas.TreatmentIn] = {}
    seen: dict[str, int] = {}
    for n, cells in enumerate(reader, start=2):
        row = {h: _cell(v) for h, v in zip(header, cells, strict=False) if h}
        if not any(row.values()):
            continue
        code = row.get("code", "").upper()
        t = existing.get(code)
        base = _view(t) if t is not None else {"vat_code": rules.DEFAULT_VAT_CODE}
        data, errors = _row_values(row, columns, base, t is None, n, lang)
        item: schemas.TreatmentIn | None = None
        if not errors:
            try:
                item = schemas.TreatmentIn.model_validate({**data, "code": code})
            except ValidationError as exc:
                for e in exc.errors(include_url=False):
                    field = ".".join(str(p) for p in e.get("loc", ())) or None
                    errors.append(
                        schemas.RowError(row=n, field=field, message=field_message(e, lang))
                    )
        if item is not None and (t is None or item.vat_code != t.vat_code):
            problem = vat_problem(item.vat_code, vats)
            if problem is not None:
                errors.append(
                    schemas.RowError(row=n, field="vat_code", message=render(problem, lang))
                )
        if code and code in seen:
            errors.append(
                schemas.RowError(
                    row=n,
                    field="code",
                    message=render(
                        tr(
                            f"code {code} repeats row {seen[code]}",
                            f"el código {code} repite la fila {seen[code]}",
                        ),
                        lang,
                    ),
                )
            )
        elif code:
            seen[code] = n
        if errors or item is None:
            reports.append(
                schemas.CsvRowReport(
                    row=n, code=code or None, action="error", changes=[], errors=errors
                )
            )
            continue
        after = item.model_dump()
        before = _view(t) if t is not None else {}
        changes = [
            schemas.FieldChange(
                field=f, before=_text(f, before.get(f)), after=_text(f, after.get(f))
            )
            for f in _FIELDS
            if t is None or _text(f, before.get(f)) != _text(f, after.get(f))
        ]
        if t is None:
            changes = [c for c in changes if c.after is not None]
        action = "created" if t is None else ("updated" if changes else "unchanged")
        reports.append(
            schemas.CsvRowReport(row=n, code=code, action=action, changes=changes, errors=[])
        )
        if action != "unchanged":
            writes[code] = item
    return reports, file_errors, writes


def import_csv(
    principal: Principal, data: schemas.CsvImportIn, lang: str = "en"
) -> schemas.CsvImportOut:
    """Upsert by code, changing only the columns the file has. A dry run only reports; a real
    import with any error writes nothing (422 with the row errors), so a file is applied whole
    or not at all."""
    cid = principal.clinic_id
    vats = vat_types(cid)
    existing = {t.code: t for t in all_treatments(cid)}
    reports, file_errors, writes = _report_rows(data.csv, vats, existing, lang)
    errors = file_errors + [e for r in reports for e in r.errors]
    count = {a: sum(1 for r in reports if r.action == a) for a in ("created", "updated")}
    result = schemas.CsvImportOut(
        dry_run=data.dry_run,
        rows=len(reports),
        created=count["created"],
        updated=count["updated"],
        unchanged=sum(1 for r in reports if r.action == "unchanged"),
        errors=errors,
        report=reports,
    )
    if data.dry_run:
        return result
    if errors:
        raise Unprocessable(
            tr(
                "The file has errors; nothing was imported. Fix the rows and try again.",
                "El archivo tiene errores; no se ha importado nada. Corrige las filas y vuelve "
                "a intentarlo.",
            ),
            code="CSV_ROW_ERRORS",
            errors=[e.model_dump() for e in errors],
        )
    at = now()
    for code, item in writes.items():
        t = existing.get(code)
        if t is None:
            new = _new_treatment(cid, item)
            with transaction() as tx:
                tx.save(
                    TreatmentCode(*TreatmentCode.key(cid, code), treatment_id=new.treatment_id),
                    condition=TreatmentCode.SK.does_not_exist(),
                )
                tx.save(new, condition=Treatment.SK.does_not_exist())
            continue
        t.name_es, t.name_en, t.category = item.name_es, item.name_en, item.category
        t.price_cents = money.cents(item.price)
        t.cost_cents = money.cents(item.cost) if item.cost is not None else None
        t.duration_min, t.scope, t.vat_code = item.duration_min, item.scope, item.vat_code
        t.active = item.active
        t.updated_at = at
        old_version = int(t.version)
        t.version = old_version + 1
        try:
            t.save(condition=Treatment.version == old_version)
        except PutError as exc:
            raise Conflict(
                tr(
                    f"The treatment {code} changed while the file was imported; the rows "
                    "before it were applied. Run the import again.",
                    f"El tratamiento {code} ha cambiado durante la importación; las filas "
                    "anteriores se han aplicado. Vuelve a lanzar la importación.",
                )
            ) from exc
    audit.record(
        cid,
        principal.actor,
        "billing.treatments.imported",
        "treatment",
        "csv",
        after={"created": result.created, "updated": result.updated},
    )
    return result


def price_of(t: Treatment) -> Decimal:
    return money.from_cents(int(t.price_cents))
