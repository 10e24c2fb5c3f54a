"""The invoice book (libro registro de facturas expedidas) and the period export of the
records, for the clinic's staff and its gestor. ADR 0206.

* ``issued_csv``: one row per tax line (DetalleDesglose) of each invoice dated in the period,
  with the columns of the book (Reglamento del IVA, RD 1624/1992, art. 63.3): fecha de
  expedición, fecha de operación (when it differs), serie-número, tipo de factura, the
  recipient's id and name, base imponible, tipo and cuota per rate, total, and the record's
  VERI*FACTU state, anulación and huella. ``;``-separated, decimal comma, dates dd/mm/aaaa,
  UTF-8 with a BOM, CRLF: what Spanish spreadsheets and accounting packages import as is.
  Text cells that a spreadsheet would run as a formula are defused with a leading ``'``.
* ``records_xml``: the records as the XML the AEAT receives, in one
  ``RegFactuSistemaFacturacion`` document (Cabecera + up to 1,000 RegistroFactura: the file of
  Orden HAC/1177/2024, anexo, apartado 4, used to answer a requerimiento), validated against
  the official SuministroLR.xsd before it leaves. Each record is re-serialised from the table by
  the code that built its submission, byte for byte its archived copy (which
  ``GET /verifactu/chain/verify?archive=true`` proves).

Both are routes **whose job is to read everything for the period**: a Query of the key range of
the ``BookEntry`` index (``VFBOOK#<nif>#<date>#<number>#<seq>``) and BatchGets of the records
it names (100 keys per call), never a scan. A request covers at most 366 days and answers one
part (``PAGE_INVOICES`` invoices of the book, 1,000 records of XML); ``X-Next-Cursor`` names
the next part. An invoice's records (alta, subsanaciones, anulación) share its date and number,
so a part never splits an invoice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Response
from pynamodb.exceptions import PutError

from chalicelib.core import audit
from chalicelib.core.api import Principal
from chalicelib.core.csvcells import text_cell
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor
from chalicelib.core.errors import BadRequest, Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.lazy import lazy_module
from chalicelib.core.storage import content_disposition
from chalicelib.identity.service import get_clinic
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu.models import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    PENDING,
    REJECTED,
    BookEntry,
    ChainHead,
    RecordItem,
)
from chalicelib.verifactu.records import PersonaFisicaJuridicaES
from chalicelib.verifactu.xml import (
    MAX_REGISTROS_POR_ENVIO,
    NS_SFLR,
    Cabecera,
    build_reg_factu,
    registro_element,
    validate_reg_factu,
)

if TYPE_CHECKING:
    from lxml import etree
else:
    # lxml loads on first use, not with the API (issue 23): see chalicelib/core/lazy.py
    etree = lazy_module("lxml.etree")

#: Invoices per part of the CSV book: a few MB at most, inside a Lambda's 6 MB answer.
PAGE_INVOICES = 5000

COLUMNS = (
    "Fecha expedición",
    "Fecha operación",
    "Serie-número",
    "Tipo factura",
    "Tipo ID destinatario",
    "País destinatario",
    "NIF/ID destinatario",
    "Nombre destinatario",
    "Impuesto",
    "Calificación/exención",
    "Base imponible",
    "Tipo (%)",
    "Cuota",
    "Total factura",
    "Estado VERI*FACTU",
    "Anulación",
    "Huella",
    "Registro",
)
ESTADO = {
    PENDING: "Pendiente",
    ACCEPTED: "Aceptado",
    ACCEPTED_WITH_ERRORS: "Aceptado con errores",
    REJECTED: "Rechazado",
}
ESTADO_ANULACION = {
    PENDING: "Pendiente",
    ACCEPTED: "Aceptada",
    ACCEPTED_WITH_ERRORS: "Aceptada con errores",
    REJECTED: "Rechazada",
}
#: DetalleDesglose/Impuesto (list L1 of the Orden); absent means IVA.
IMPUESTO = {"01": "IVA", "02": "IPSI", "03": "IGIC", "05": "Otros"}
# --- reading the period (key ranges only) ------------------------------------------------


def _nif(principal: Principal, wanted: str | None) -> str | None:
    """The issuer whose records are read: the one asked for, or the clinic's only chain."""
    if wanted:
        return wanted
    nifs = sorted(
        h.nif
        for h in ChainHead.query(clinic_pk(principal.clinic_id), ChainHead.SK.startswith("VFHEAD#"))
        if isinstance(h, ChainHead)
    )
    if len(nifs) > 1:
        raise Unprocessable(
            tr(
                f"This clinic has records of more than one NIF ({', '.join(nifs)}): say which "
                "with 'nif'.",
                f"Esta clínica tiene registros de más de un NIF ({', '.join(nifs)}): indica cuál "
                "con 'nif'.",
            ),
            code="VERIFACTU_NIF_REQUIRED",
            data={"nifs": nifs},
        )
    return nifs[0] if nifs else None


@dataclass
class _Part:
    entries: list[BookEntry]
    next_cursor: str | None


def _read(principal: Principal, nif: str, q: c.BookQuery, **limits: int) -> _Part:
    pk = clinic_pk(principal.clinic_id)
    prefix = BookEntry.prefix(nif)
    lo = f"{prefix}{q.date_from.isoformat()}#"
    hi = f"{prefix}{q.date_to.isoformat()}$"  # "$" sorts right after "#": the whole last day
    start = decode_cursor(q.cursor, partition=("PK", pk))
    if start is not None and not lo <= start.get("SK", {}).get("S", "") <= hi:
        raise BadRequest(
            tr(
                "The cursor belongs to a different period; start again without it.",
                "El cursor es de otro periodo; empieza de nuevo sin él.",
            )
        )
    entries = BookEntry.query(pk, BookEntry.SK.between(lo, hi), last_evaluated_key=start)
    taken, cursor_sk = _take((e for e in entries if isinstance(e, BookEntry)), **limits)
    cursor = encode_cursor({"PK": {"S": pk}, "SK": {"S": cursor_sk}}) if cursor_sk else None
    return _Part(taken, cursor)


def _invoice(entry: BookEntry) -> str:
    return entry.SK[: entry.SK.rfind("#")]  # prefix, date and number: one invoice


def _take(
    entries: Iterable[BookEntry], *, invoices: int = 0, records: int = 0
) -> tuple[list[BookEntry], str | None]:
    """Entries in key order up to ``invoices`` whole invoices or ``records`` records, and the
    key to go on from when more are left."""
    taken: list[BookEntry] = []
    count, current = 0, None
    for entry in entries:
        group = _invoice(entry)
        if records and len(taken) == records:
            return taken, taken[-1].SK
        if group != current:
            if invoices and count == invoices:
                return taken, taken[-1].SK
            count, current = count + 1, group
        taken.append(entry)
    return taken, None


def _records(clinic_id: str, entries: list[BookEntry]) -> list[RecordItem]:
    """The records the entries name, in the entries' order (BatchGet, 100 keys per call)."""
    keys = [RecordItem.key(clinic_id, e.nif, int(e.seq)) for e in entries]
    found = {i.SK: i for i in RecordItem.batch_get(keys) if isinstance(i, RecordItem)}
    return [found[sk] for _, sk in keys if sk in found]


# --- the CSV book ----------------------------------------------------------------------------


def _number(value: Any) -> str:
    """An AEAT amount or rate ("-1234.50") with a decimal comma ("-1234,50"); our own text."""
    return "" if value in (None, "") else str(value).replace(".", ",")


def _fecha(value: str | None) -> str:
    """dd-mm-yyyy (AEAT) -> dd/mm/yyyy."""
    return (value or "").replace("-", "/")


def _recipient(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """(tipo de identificación, país, id, nombre) of the recipients, joined by " / "."""
    kinds, countries, ids, names = [], [], [], []
    for d in record.get("Destinatarios") or ():
        otro = d.get("IDOtro") or {}
        kinds.append("NIF" if d.get("NIF") else otro.get("IDType", ""))
        countries.append("" if d.get("NIF") else otro.get("CodigoPais") or "")
        ids.append(d.get("NIF") or otro.get("ID", ""))
        names.append(d.get("NombreRazon", ""))
    return tuple(" / ".join(x for x in col if x) for col in (kinds, countries, ids, names))  # type: ignore[return-value]


def _groups(items: list[RecordItem]) -> Iterator[list[RecordItem]]:
    """The records of each invoice (same number and date), in chain order."""
    by_invoice: dict[tuple[str, str], list[RecordItem]] = {}
    for item in items:
        by_invoice.setdefault((item.fecha_expedicion, item.num_serie), []).append(item)
    for group in by_invoice.values():
        yield sorted(group, key=lambda i: int(i.seq))


def _rows(group: list[RecordItem]) -> Iterator[list[str]]:
    altas = [i for i in group if i.kind == "alta"]
    anulaciones = [i for i in group if i.kind == "anulacion"]
    current = altas[-1] if altas else group[-1]  # a subsanación replaces the alta it corrects
    rec = current.record or {}
    anulacion = ESTADO_ANULACION.get(anulaciones[-1].status, "") if anulaciones else ""
    kind, country, ident, name = _recipient(rec)
    head = [
        text_cell(_fecha(current.fecha_expedicion)),
        text_cell(_fecha(rec.get("FechaOperacion"))),
        text_cell(current.num_serie),
        text_cell(rec.get("TipoFactura", "")),
        text_cell(kind),
        text_cell(country),
        text_cell(ident),
        text_cell(name),
    ]
    tail = [
        _number(rec.get("ImporteTotal")),
        text_cell(ESTADO.get(current.status, current.status) if altas else ""),
        text_cell(anulacion),
        text_cell(current.huella),
        text_cell(current.record_id),
    ]
    for line in rec.get("Desglose") or [{}]:
        yield [
            *head,
            text_cell(IMPUESTO.get(line.get("Impuesto") or "01", "") if line else ""),
            text_cell(line.get("CalificacionOperacion") or line.get("OperacionExenta") or ""),
            _number(line.get("BaseImponibleOimporteNoSujeto")),
            _number(line.get("TipoImpositivo")),
            _number(line.get("CuotaRepercutida")),
            *tail,
        ]


def book_csv(items: list[RecordItem]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")  # UTF-8 BOM: Excel reads accents right only with it
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(COLUMNS)
    for group in _groups(items):
        w.writerows(_rows(group))
    return buf.getvalue()


def _name(kind: str, nif: str | None, q: c.BookQuery, cursor: str | None, ext: str) -> str:
    part = "-parte" if cursor or q.cursor else ""
    return f"{kind}-{nif or 'sin-registros'}-{q.date_from}-{q.date_to}{part}.{ext}"


def _answer(body: str, content_type: str, filename: str, cursor: str | None) -> Response:
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(filename, attachment=True),
        "Cache-Control": "no-store",  # names and tax ids of patients
    }
    if cursor:
        headers["X-Next-Cursor"] = cursor
    return Response(body=body, status_code=200, headers=headers)


def _audit(principal: Principal, nif: str | None, q: c.BookQuery, fmt: str, n: int) -> None:
    audit.record(
        principal.clinic_id,
        principal.actor,
        "verifactu.book.exported",
        "verifactu_book",
        f"{nif or '-'}:{q.date_from}:{q.date_to}",
        after={
            "format": fmt,
            "from": q.date_from.isoformat(),
            "to": q.date_to.isoformat(),
            "records": n,
            "continued": bool(q.cursor),
        },
    )


def issued_csv(principal: Principal, q: c.BookQuery) -> Response:
    """``GET /verifactu/book/issued``: the book of the period (one part)."""
    nif = _nif(principal, q.nif)
    part = _read(principal, nif, q, invoices=PAGE_INVOICES) if nif else _Part([], None)
    items = _records(principal.clinic_id, part.entries)
    _audit(principal, nif, q, "csv", len(items))
    return _answer(
        book_csv(items),
        "text/csv; charset=utf-8",
        _name("libro-facturas-expedidas", nif, q, part.next_cursor, "csv"),
        part.next_cursor,
    )


# --- the XML of the records ------------------------------------------------------------------


def reg_factu(nombre: str, nif: str, models: list[Any]) -> etree._Element:
    """``RegFactuSistemaFacturacion`` with every record given (1 to 1,000), in that order.
    Unlike a submission, an alta and its subsanación may both be in it (the XSD allows it)."""
    cabecera = Cabecera(ObligadoEmision=PersonaFisicaJuridicaES(NombreRazon=nombre, NIF=nif))
    root = build_reg_factu(cabecera, models[:1])
    for model in models[1:]:
        wrapper = etree.SubElement(root, f"{{{NS_SFLR}}}RegistroFactura")
        wrapper.append(registro_element(model))
    validate_reg_factu(root)
    return root


def records_xml(principal: Principal, q: c.BookQuery, as_model: Any) -> Response:
    """``GET /verifactu/book/records``: the period's records as sent (one part)."""
    nif = _nif(principal, q.nif)
    part = _read(principal, nif, q, records=MAX_REGISTROS_POR_ENVIO) if nif else _Part([], None)
    items = _records(principal.clinic_id, part.entries)
    if not items:
        raise NotFound(
            tr(
                "No VERI*FACTU records for invoices dated in this period.",
                "No hay registros VERI*FACTU de facturas con fecha en este periodo.",
            ),
            code="VERIFACTU_NO_RECORDS",
        )
    models = []
    for item in items:
        try:
            models.append(as_model(item))
        except ValueError as exc:
            raise Conflict(
                tr(
                    f"Record {item.record_id} was changed outside the application and cannot "
                    "be exported; GET /verifactu/chain/verify?archive=true shows the damage and "
                    "the archive keeps the copy that was sent.",
                    f"El registro {item.record_id} se ha modificado fuera de la aplicación y no "
                    "se puede exportar; GET /verifactu/chain/verify?archive=true muestra el daño "
                    "y el archivo conserva la copia enviada.",
                ),
                code="VERIFACTU_RECORD_DAMAGED",
                data={"record_id": item.record_id},
            ) from exc
    clinic = get_clinic(principal.clinic_id)
    root = reg_factu((clinic.legal_name or clinic.name)[:120], nif or "", models)
    _audit(principal, nif, q, "xml", len(items))
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return _answer(
        body,
        "application/xml; charset=utf-8",
        _name("registros-verifactu", nif, q, part.next_cursor, "xml"),
        part.next_cursor,
    )


def reindex(clinic_id: str, nif: str) -> int:
    """Write the ``BookEntry`` of every record of a chain that lacks one (records written
    before the index existed). Reads the chain by key range; idempotent. Returns how many."""
    written = 0
    chain = RecordItem.query(
        clinic_pk(clinic_id), RecordItem.SK.startswith(RecordItem.chain_prefix(nif))
    )
    for item in chain:
        if not isinstance(item, RecordItem):
            continue
        try:
            BookEntry.for_record(item).save(condition=BookEntry.SK.does_not_exist())
            written += 1
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    return written
