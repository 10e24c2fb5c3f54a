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
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
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
    )


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
        created_at=at,
        updated_at=at,
        version=1,
    )


def _check_vat(clinic_id: str, code: str, vats: dict[str, VatType] | None = None) -> None:
    vats = vats if vats is not None else vat_types(clinic_id)
    if code not in vats:
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


def create_treatment(principal: Principal, data: schemas.TreatmentIn) -> schemas.TreatmentOut:
    cid = principal.clinic_id
    _check_vat(cid, data.vat_code)
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
        if k == "price":
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
_SCOPE_ALIASES = {
    "tooth": "tooth",
    "pieza": "tooth",
    "diente": "tooth",
    "surface": "surface",
    "superficie": "surface",
    "cara": "surface",
    "mouth": "mouth",
    "boca": "mouth",
    "arcada": "mouth",
    "general": "mouth",
}
_TRUE = {"1", "true", "yes", "si", "sí", "s", "y", "x"}
_FALSE = {"0", "false", "no", "n"}


def export_csv(principal: Principal) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for t in sorted(all_treatments(principal.clinic_id), key=lambda t: t.code):
        w.writerow(
            [
                t.code,
                t.name_es,
                t.name_en or "",
                " > ".join(t.category or []),
                money.fmt(int(t.price_cents)),
                money.fmt(int(t.cost_cents)) if t.cost_cents is not None else "",
                int(t.duration_min) if t.duration_min is not None else "",
                t.scope,
                t.vat_code,
                "1" if t.active else "0",
            ]
        )
    return buf.getvalue()


def _parse_rows(
    text: str, vats: dict[str, VatType]
) -> tuple[list[tuple[int, schemas.TreatmentIn]], list[schemas.RowError]]:
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    errors: list[schemas.RowError] = []
    missing = [c for c in ("code", "name_es", "price") if c not in header]
    if missing:
        errors.append(
            schemas.RowError(row=1, field=None, message=f"missing columns: {', '.join(missing)}")
        )
        return [], errors
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        errors.append(
            schemas.RowError(row=1, field=None, message=f"unknown columns: {', '.join(unknown)}")
        )
    parsed: list[tuple[int, schemas.TreatmentIn]] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        data: dict[str, Any] = {
            "code": row.get("code", ""),
            "name_es": row.get("name_es", ""),
            "name_en": row.get("name_en") or None,
            "category": [c.strip() for c in row.get("category", "").split(">") if c.strip()],
            "price": row.get("price", ""),
            "cost": row.get("cost") or None,
            "duration_min": row.get("duration_min") or None,
            "scope": _SCOPE_ALIASES.get(row.get("scope", "").lower(), row.get("scope") or "mouth"),
            "vat_code": (row.get("vat_code") or rules.DEFAULT_VAT_CODE).upper(),
        }
        active = row.get("active", "").lower()
        if active:
            if active not in _TRUE | _FALSE:
                errors.append(schemas.RowError(row=n, field="active", message="use 1 or 0"))
                continue
            data["active"] = active in _TRUE
        try:
            item = schemas.TreatmentIn.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                field = ".".join(str(p) for p in e.get("loc", ())) or None
                errors.append(schemas.RowError(row=n, field=field, message=e.get("msg", "")))
            continue
        if item.vat_code not in vats:
            errors.append(
                schemas.RowError(
                    row=n, field="vat_code", message=f"unknown VAT type {item.vat_code!r}"
                )
            )
            continue
        code = item.code.upper()
        if code in seen:
            errors.append(
                schemas.RowError(
                    row=n, field="code", message=f"code {code} repeats row {seen[code]}"
                )
            )
            continue
        seen[code] = n
        parsed.append((n, item))
    return parsed, errors


def import_csv(principal: Principal, data: schemas.CsvImportIn) -> schemas.CsvImportOut:
    """Upsert by code. A dry run only reports; a real import with any row error writes
    nothing (422 with the row errors), so a file is applied whole or not at all."""
    cid = principal.clinic_id
    vats = vat_types(cid)
    rows, errors = _parse_rows(data.csv, vats)
    existing = {t.code: t for t in all_treatments(cid)}
    created = sum(1 for _, r in rows if r.code.upper() not in existing)
    updated = len(rows) - created
    result = schemas.CsvImportOut(
        dry_run=data.dry_run,
        rows=len(rows) + len({e.row for e in errors if e.row > 1}),
        created=created,
        updated=updated,
        errors=errors,
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
    for _, item in rows:
        code = item.code.upper()
        t = existing.get(code)
        if t is None:
            new = _new_treatment(cid, item)
            with transaction() as tx:
                tx.save(
                    TreatmentCode(*TreatmentCode.key(cid, code), treatment_id=new.treatment_id),
                    condition=TreatmentCode.SK.does_not_exist(),
                )
                tx.save(new, condition=Treatment.SK.does_not_exist())
        else:
            t.name_es, t.name_en, t.category = item.name_es, item.name_en, item.category
            t.price_cents = money.cents(item.price)
            t.cost_cents = money.cents(item.cost) if item.cost is not None else None
            t.duration_min, t.scope, t.vat_code = item.duration_min, item.scope, item.vat_code
            t.active = item.active
            t.updated_at = at
            t.version = int(t.version) + 1
            t.save()
    audit.record(
        cid,
        principal.actor,
        "billing.treatments.imported",
        "treatment",
        "csv",
        after={"created": created, "updated": updated},
    )
    return result


def price_of(t: Treatment) -> Decimal:
    return money.from_cents(int(t.price_cents))
