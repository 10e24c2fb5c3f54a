"""VERI*FACTU records in DynamoDB: written in the transaction that issues or annuls an invoice,
one chain per issuer NIF, verified on demand, corrected only by new records. ADR 0202.

Importing this module registers two hooks in ``billing.invoices.ISSUE_HOOKS`` and the PDF's
``QR_URL_PROVIDER`` (app.py imports it through ``verifactu.routes``):

1. ``check_series_not_blocked``: a condition check on the series' ``SeriesBlock`` (and a 409
   with the rejected records when it is set) - a rejected record blocks its series until a
   subsanación corrects it.
2. ``write_alta``: builds the RegistroAlta from ``invoices.aeat_fields(invoice)``, chains it
   after the head of the issuer's chain and adds to the SAME TransactWriteItems: the record
   (``attribute_not_exists``) and the head (condition: still at the version read). A lost race
   fails the whole issue, which billing retries from a fresh read, so the hook rebuilds
   everything on each call and keeps no state.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.billing import invoices
from chalicelib.billing.models import Invoice, InvoiceIssuedOn
from chalicelib.core import audit, events, i18n
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import iso, now
from chalicelib.core.observability import logger
from chalicelib.identity.models import Clinic
from chalicelib.identity.service import get_clinic
from chalicelib.verifactu import archive, rules
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu.chain import verify_chain
from chalicelib.verifactu.flow import MAX_REGISTROS_POR_ENVIO, next_submission_at
from chalicelib.verifactu.format import spanish_time_zone
from chalicelib.verifactu.models import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    DUE_PK,
    PENDING,
    REJECTED,
    BookEntry,
    ChainHead,
    RecordItem,
    SeriesBlock,
    VfSettings,
    record_id,
    seq_text,
    split_record_id,
)
from chalicelib.verifactu.qr import qr_url
from chalicelib.verifactu.records import (
    Encadenamiento,
    IDFacturaAnulada,
    RegistroAlta,
    RegistroAnterior,
    RegistroAnulacion,
    RegistroFacturacion,
    SistemaInformatico,
    check_generation_order,
    fecha_hora_huso,
)
from chalicelib.verifactu.response import SIN_SUBSANACION
from chalicelib.verifactu.xml import registro_element

ATTEMPTS = 60

# --- the invoicing system (SistemaInformatico) ---------------------------------------------

#: Producer of the software. The NIF is a PLACEHOLDER that passes the CIF check digit
#: (B99999997); it must be replaced by Cúspide's real NIF before production (env
#: VERIFACTU_PRODUCER_NIF / VERIFACTU_PRODUCER_NAME). See ADR 0202.
PRODUCER_NAME = "Cúspide Software, S.L."
PRODUCER_NIF_PLACEHOLDER = "B99999997"
SYSTEM_NAME = "Cuspide"
SYSTEM_ID = "CU"
SYSTEM_VERSION = "1.0"


def sistema_informatico(clinic_id: str) -> SistemaInformatico:
    """The SIF block of every record: one installation per clinic (NumeroInstalacion = clinic
    id); only VERI*FACTU use; the software serves many taxpayers (MultiOT "S") but each
    installation one (IndicadorMultiplesOT "N")."""
    return SistemaInformatico(
        NombreRazon=os.environ.get("VERIFACTU_PRODUCER_NAME") or PRODUCER_NAME,
        NIF=os.environ.get("VERIFACTU_PRODUCER_NIF") or PRODUCER_NIF_PLACEHOLDER,
        NombreSistemaInformatico=SYSTEM_NAME,
        IdSistemaInformatico=SYSTEM_ID,
        Version=SYSTEM_VERSION,
        NumeroInstalacion=clinic_id,
        TipoUsoPosibleSoloVerifactu="S",
        TipoUsoPosibleMultiOT="S",
        IndicadorMultiplesOT="N",
    )


def applies(clinic: Clinic) -> bool:
    """Only Spanish clinics keep VERI*FACTU records."""
    return (clinic.country or "").upper() == "ES"


def require_es(clinic_id: str) -> Clinic:
    """The clinic, or 409 when VERI*FACTU does not apply to it (every route checks this)."""
    clinic = get_clinic(clinic_id)
    if not applies(clinic):
        raise Conflict(
            tr(
                f"VERI*FACTU applies only to clinics in Spain; this clinic's country is "
                f"{clinic.country}. Its invoices are issued without VERI*FACTU records.",
                f"VERI*FACTU solo se aplica a clínicas en España; el país de esta clínica es "
                f"{clinic.country}. Sus facturas se emiten sin registros de facturación "
                "VERI*FACTU.",
            ),
            code="VERIFACTU_NOT_ES",
        )
    return clinic


# --- settings ------------------------------------------------------------------------------


def load_settings(clinic_id: str) -> VfSettings:
    # Inside an invoice issue, what ``issue_reads`` had it read; else a GetItem.
    found = invoices.issue_read(VfSettings, VfSettings.key(clinic_id), consistent=False)
    if found is not None:
        return found
    pk, sk = VfSettings.key(clinic_id)
    return VfSettings(PK=pk, SK=sk, environment="test")


# --- chain head and due index --------------------------------------------------------------


def load_head(clinic_id: str, nif: str) -> ChainHead:
    # Inside an invoice issue, what ``issue_reads`` had it read; else a consistent GetItem.
    found = invoices.issue_read(ChainHead, ChainHead.key(clinic_id, nif))
    if found is not None:
        return found
    pk, sk = ChainHead.key(clinic_id, nif)
    return ChainHead(PK=pk, SK=sk, nif=nif, clinic_id=clinic_id, seq=0, version=0, pending=0)


def due_at(head: ChainHead, at: datetime) -> datetime | None:
    """When the job should next look at this chain (None: nothing to do or held)."""
    if int(head.pending or 0) <= 0 or head.held:
        return None
    candidates = [at]
    if int(head.pending) < MAX_REGISTROS_POR_ENVIO:  # 1,000 pending may go at once
        earliest = next_submission_at(head.last_sent_at, head.tiempo_espera)
        if earliest is not None:
            candidates.append(earliest)
    if head.next_attempt_at is not None:
        candidates.append(head.next_attempt_at)
    return max(candidates)


def set_due(head: ChainHead, at: datetime) -> None:
    due = due_at(head, at)
    if due is None:
        head.GSI1PK = head.GSI1SK = None
    else:
        head.GSI1PK = DUE_PK
        head.GSI1SK = ChainHead.due_sk(iso(due), head.clinic_id, head.nif)


def head_condition(head: ChainHead, read_version: int) -> Any:
    if read_version == 0:
        return ChainHead.SK.does_not_exist()
    return ChainHead.version == read_version


def append_record(
    tx: TransactWrite,
    head: ChainHead,
    record: RegistroFacturacion,
    *,
    invoice_id: str,
    series: str,
    environment: str,
    at: datetime,
    corrects: str | None = None,
) -> RecordItem:
    """Add ``record`` after ``head`` to ``tx``: the record item (never overwritten) and the head
    moved by one position (condition: still at the version that was read)."""
    cid, nif = head.clinic_id, head.nif
    if record.id_emisor != nif:
        raise ValueError("record of another issuer")
    read_version = int(head.version or 0)
    seq = int(head.seq or 0) + 1
    rid = record_id(nif, seq)
    is_alta = isinstance(record, RegistroAlta)
    ident = record.as_registro_anterior()
    pk, sk = RecordItem.key(cid, nif, seq)
    item = RecordItem(
        PK=pk,
        SK=sk,
        record_id=rid,
        clinic_id=cid,
        nif=nif,
        seq=seq,
        kind="alta" if is_alta else "anulacion",
        invoice_id=invoice_id,
        series=series,
        num_serie=ident.NumSerieFactura,
        fecha_expedicion=ident.FechaExpedicionFactura,
        huella=record.Huella,
        environment=environment,
        record=record.model_dump(mode="json"),
        created_at=at,
        corrects=corrects,
        status=PENDING,
        # Generated while the AEAT cannot be reached: sent with Cabecera Incidencia=S (ADR 0207).
        # The head's version condition below makes this the status at the moment of writing.
        incidencia=head.submission_status == "retrying" or None,
        GSI1PK=RecordItem.pending_pk(cid),
        GSI1SK=f"{nif}#{seq_text(seq)}",
        GSI2PK=RecordItem.invoice_pk(cid, invoice_id),
        GSI2SK=f"{nif}#{seq_text(seq)}",
        GSI3PK=RecordItem.status_pk(cid, PENDING),
        GSI3SK=f"{nif}#{seq_text(seq)}",
    )
    tx.save(item, condition=RecordItem.SK.does_not_exist())
    tx.save(BookEntry.for_record(item), condition=BookEntry.SK.does_not_exist())  # ADR 0206
    head.seq = seq
    head.last = ident.model_dump(mode="json")
    head.last_generated = record.FechaHoraHusoGenRegistro
    head.pending = int(head.pending or 0) + 1
    head.version = read_version + 1
    head.updated_at = at
    if head.submission_status in (None, "idle"):
        head.submission_status = "waiting"
    set_due(head, at)
    tx.save(head, condition=head_condition(head, read_version))
    return item


def legal_time_zone(clinic: Clinic) -> str:
    """The Spanish legal time the clinic's records are dated in (ADR 0207): its own zone when
    it is a Spanish one, else the territory of its postal code (never a foreign offset)."""
    zone = spanish_time_zone(clinic.time_zone, (clinic.address or {}).get("postal_code"))
    if zone != clinic.time_zone:
        logger.warning(
            "verifactu: clinic time zone is not Spanish legal time; records use another",
            extra={"clinic_id": clinic.clinic_id, "configured": clinic.time_zone, "used": zone},
        )
    return zone


def _generated(head: ChainHead, clinic: Clinic, at: datetime) -> str:
    """FechaHoraHusoGenRegistro of a record generated now: the server clock (never moved
    forward to keep the order: the text is never ahead of real time), truncated to whole
    seconds, in the clinic's Spanish legal time; refused (409) if more than one minute before
    the previous record's (Orden HAC/1177/2024 art. 7.i) 2.º). ADR 0207."""
    generated = fecha_hora_huso(at, legal_time_zone(clinic))
    if head.last_generated:
        try:
            check_generation_order(head.last_generated, generated)
        except ValueError as exc:
            logger.error("verifactu clock behind the chain", extra={"nif": head.nif})
            raise Conflict(
                tr(
                    "The system clock is behind the last VERI*FACTU record; try again in a minute.",
                    "El reloj del sistema va por detrás del último registro VERI*FACTU; vuelve "
                    "a intentarlo en un minuto.",
                ),
                code="VERIFACTU_CLOCK",
            ) from exc
    return generated


def _anterior(head: ChainHead) -> RegistroAnterior | None:
    return RegistroAnterior(**head.last) if head.last else None


# --- the issue hooks -----------------------------------------------------------------------


def _block_message(block: SeriesBlock) -> str:
    listed = "; ".join(f"{rid} ({why})" for rid, why in list((block.records or {}).items())[:5])
    return tr(
        f"Invoices of series {block.series} cannot be issued: the AEAT rejected "
        f"{int(block.count)} VERI*FACTU record(s) of this series ({listed}). Correct them with a "
        "subsanación (POST /api/v1/verifactu/records/{record_id}/subsanacion) and issue again.",
        f"No se pueden emitir facturas de la serie {block.series}: la AEAT ha rechazado "
        f"{int(block.count)} registro(s) de facturación VERI*FACTU de esta serie ({listed}). "
        "Corrígelos con una subsanación (POST /api/v1/verifactu/records/{record_id}/subsanacion) "
        "y vuelve a emitirlas.",
    )


def check_series_not_blocked(tx: TransactWrite, inv: Invoice, clinic: Clinic) -> None:
    """ISSUE hook: refuse (409) while a rejected record of the series is uncorrected; the
    condition check makes a rejection that lands meanwhile fail (and retry) the issue."""
    if not applies(clinic):
        return
    cid = clinic.clinic_id
    block = invoices.issue_read(SeriesBlock, SeriesBlock.key(cid, inv.series))
    if block is not None and int(block.count or 0) > 0:
        raise Conflict(
            _block_message(block),
            code="VERIFACTU_SERIES_BLOCKED",
            data={"series": block.series, "records": dict(block.records or {})},
        )
    tx.condition_check(
        SeriesBlock,
        *SeriesBlock.key(cid, inv.series),
        condition=SeriesBlock.count.does_not_exist() | (SeriesBlock.count <= 0),
    )


def record_errors(exc: ValueError, field: str) -> list[dict[str, Any]]:
    """A record's build error as field errors a person can read: one per pydantic error,
    with the record's field and the message in each language, never pydantic's dump (its
    "N validation errors for RegistroAlta ... For further information visit ..." text)."""
    if isinstance(exc, ValidationError):
        return [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())) or field,
                "message": tr(i18n.field_message(e, "en"), i18n.field_message(e, "es"))[:300],
            }
            for e in exc.errors(include_url=False)[:10]
        ]
    return [{"field": field, "message": str(exc)[:300]}]


def plain_errors(exc: ValueError) -> str:
    """``exc`` as one line of text: a pydantic error as "field: message; ..." (English)."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    return "; ".join(f"{e['field']}: {e['message']}" for e in record_errors(exc, "record"))


def build_alta(inv: Invoice, head: ChainHead, clinic: Clinic, at: datetime) -> RegistroAlta:
    fields = invoices.aeat_fields(inv)
    try:
        record = RegistroAlta(
            **fields,
            Encadenamiento=Encadenamiento.tras(_anterior(head)),
            SistemaInformatico=sistema_informatico(clinic.clinic_id),
            FechaHoraHusoGenRegistro=_generated(head, clinic, at),
        )
    except ValueError as exc:
        # The AEAT would reject this record: refuse to issue rather than issue an invoice
        # whose record cannot be valid.
        raise Unprocessable(
            tr(
                "This invoice cannot be issued: its VERI*FACTU record would be invalid.",
                "No se puede emitir esta factura: su registro de facturación VERI*FACTU no "
                "sería válido.",
            ),
            errors=record_errors(exc, "verifactu"),
            code="VERIFACTU_INVALID_RECORD",
        ) from exc
    # The AEAT's business rules: refuse to issue what it would reject (nothing is chained).
    rules.enforce(record, rules.Context(obligado=head.nif, at=at))
    return record


def write_alta(tx: TransactWrite, inv: Invoice, clinic: Clinic) -> None:
    """ISSUE hook: the registro de alta and the chain head, in the issue transaction."""
    if not applies(clinic):
        return
    cid = clinic.clinic_id
    at = now()
    head = load_head(cid, (inv.issuer or {})["tax_id"])
    record = build_alta(inv, head, clinic, at)
    environment = load_settings(cid).environment
    item = append_record(
        tx,
        head,
        record,
        invoice_id=inv.invoice_id,
        series=inv.series,
        environment=environment,
        at=at,
    )
    inv.verifactu = _invoice_view(item, record)


def _invoice_view(item: RecordItem, record: RegistroFacturacion) -> dict[str, Any]:
    view = {"record_id": item.record_id, "huella": record.Huella, "status": item.status}
    if isinstance(record, RegistroAlta):
        view["qr_url"] = record.qr_url(item.environment)
    return view


def qr_url_for_invoice(inv: Invoice, clinic: Clinic) -> str | None:
    """QR_URL_PROVIDER for billing's PDF: the ValidarQR URL of the invoice's registro de alta
    (same texts as the record), in the environment it was generated for."""
    if not applies(clinic) or inv.status == "draft":
        return None
    altas = [i for i in _invoice_records(clinic.clinic_id, inv.invoice_id) if i.kind == "alta"]
    if not altas:
        return None
    return _qr(altas[-1])


def _qr(item: RecordItem) -> str | None:
    """The ValidarQR URL from the stored record's own texts (what ``RegistroAlta.qr_url``
    gives), without re-validating the record: a damaged record still lists, and
    ``chain/verify`` is where its damage is reported."""
    if item.kind != "alta":
        return None
    rec = item.record or {}
    ident = rec.get("IDFactura") or {}
    try:
        return qr_url(
            ident["IDEmisorFactura"],
            ident["NumSerieFactura"],
            ident["FechaExpedicionFactura"],
            rec["ImporteTotal"],
            item.environment,
        )
    except (KeyError, TypeError, ValueError):
        return None


def issue_reads(inv: Invoice, clinic: Clinic) -> list[tuple[str, str]]:
    """What the two hooks read, fetched in the issue's own BatchGetItem (issue 23)."""
    if not applies(clinic):
        return []
    cid = clinic.clinic_id
    keys = [SeriesBlock.key(cid, inv.series), VfSettings.key(cid)]
    nif = invoices.issuer_nif(clinic)
    if nif:
        keys.append(ChainHead.key(cid, nif))
    return keys


def register() -> None:
    """Plug into billing (idempotent)."""
    for hook in (check_series_not_blocked, write_alta):
        if hook not in invoices.ISSUE_HOOKS:
            invoices.ISSUE_HOOKS.append(hook)
    if issue_reads not in invoices.ISSUE_READS:
        invoices.ISSUE_READS.append(issue_reads)
    invoices.QR_URL_PROVIDER = qr_url_for_invoice


register()


# --- reads ---------------------------------------------------------------------------------


def load_record(clinic_id: str, rid: str, *, consistent: bool = False) -> RecordItem:
    parts = split_record_id(rid)
    if parts is not None:
        try:
            return RecordItem.get(*RecordItem.key(clinic_id, *parts), consistent_read=consistent)
        except DoesNotExist:
            pass
    raise NotFound(
        tr(
            "No VERI*FACTU record with that id in this clinic.",
            "No hay ningún registro VERI*FACTU con ese id en esta clínica.",
        ),
        code="RECORD_NOT_FOUND",
    )


def record_out(item: RecordItem) -> c.RecordOut:
    return c.RecordOut(
        record_id=item.record_id,
        kind=item.kind,
        seq=int(item.seq),
        nif=item.nif,
        invoice_id=item.invoice_id,
        series=item.series,
        num_serie=item.num_serie,
        fecha_expedicion=item.fecha_expedicion,
        huella=item.huella,
        environment=item.environment,
        status=item.status,
        aeat_code=int(item.aeat_code) if item.aeat_code is not None else None,
        aeat_description=item.aeat_description,
        csv=item.csv,
        submission_id=item.submission_id,
        answered_at=item.answered_at,
        corrects=item.corrects,
        superseded_by=item.superseded_by,
        created_at=item.created_at,
        qr_url=_qr(item),
        reconciliation=item.reconciliation,  # ADR 0205
        incidencia=bool(item.incidencia),
    )


def as_model(item: RecordItem) -> RegistroFacturacion:
    """The stored record as its model (which re-checks its Huella)."""
    if item.kind == "alta":
        return RegistroAlta.model_validate(item.record)
    return RegistroAnulacion.model_validate(item.record)


def get_record(principal: Principal, rid: str) -> c.RecordDetailOut:
    item = load_record(principal.clinic_id, rid)
    from lxml import etree

    try:
        xml, problem = etree.tostring(registro_element(as_model(item)), encoding="unicode"), None
    except ValueError as exc:  # the stored record no longer matches its huella or the rules
        xml = None
        problem = (
            "This stored record is not valid any more (it was changed outside the "
            f"application): {str(exc)[:300]}. GET /verifactu/chain/verify shows where."
        )
        logger.error("verifactu stored record invalid", extra={"record_id": item.record_id})
    return c.RecordDetailOut(
        **record_out(item).model_dump(),
        record=item.record,
        xml=xml,
        problem=problem,
        duplicate=item.duplicate,
    )


def list_records(principal: Principal, q: c.RecordQuery) -> Page:
    cid = principal.clinic_id
    if q.status:
        pk = RecordItem.status_pk(cid, q.status)
        start = decode_cursor(q.cursor, partition=("GSI3PK", pk))
        it = RecordItem.gsi3.query(
            pk, scan_index_forward=False, limit=q.limit, last_evaluated_key=start
        )
    else:
        pk = clinic_pk(cid)
        start = decode_cursor(q.cursor, partition=("PK", pk))
        it = RecordItem.query(
            pk,
            RecordItem.SK.startswith("VFREC#"),
            scan_index_forward=False,
            limit=q.limit,
            last_evaluated_key=start,
        )
    items = [record_out(i) for i in it if isinstance(i, RecordItem)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def _invoice_records(clinic_id: str, invoice_id: str) -> list[RecordItem]:
    """The invoice's records in chain order."""
    pk = RecordItem.invoice_pk(clinic_id, invoice_id)
    return [i for i in RecordItem.gsi2.query(pk) if isinstance(i, RecordItem)]


def invoice_status(principal: Principal, invoice_id: str) -> c.InvoiceVerifactuOut:
    """What the invoice shows: the state of its current record, the AEAT code and the QR."""
    cid = principal.clinic_id
    inv = invoices.load(cid, invoice_id)
    items = _invoice_records(cid, invoice_id)
    current = next((i for i in reversed(items) if not i.superseded_by), None)
    altas = [i for i in items if i.kind == "alta"]
    return c.InvoiceVerifactuOut(
        invoice_id=invoice_id,
        num_serie=inv.num_serie,
        status=current.status if current else None,
        aeat_code=int(current.aeat_code) if current and current.aeat_code is not None else None,
        aeat_description=current.aeat_description if current else None,
        qr_url=_qr(altas[-1]) if altas else None,
        annulled=any(i.kind == "anulacion" for i in items),
        records=[record_out(i) for i in items],
    )


# --- verification --------------------------------------------------------------------------


def _chain_items(clinic_id: str, nif: str) -> Iterator[RecordItem]:
    yield from RecordItem.query(
        clinic_pk(clinic_id),
        RecordItem.SK.startswith(RecordItem.chain_prefix(nif)),
        consistent_read=True,
    )


def heads(clinic_id: str) -> list[ChainHead]:
    return [
        h
        for h in ChainHead.query(clinic_pk(clinic_id), ChainHead.SK.startswith("VFHEAD#"))
        if isinstance(h, ChainHead)
    ]


def verify_one(clinic_id: str, head: ChainHead, *, with_archive: bool = False) -> c.ChainOut:
    """Recompute every huella and link of one issuer's chain, in position order; also check
    positions are gapless and the head points at the last record. ``with_archive``: also
    compare each record with its WORM copy (ADR 0206); the earliest break is reported."""
    items: list[RecordItem] = []

    def stream() -> Iterator[dict[str, Any]]:
        for item in _chain_items(clinic_id, head.nif):
            items.append(item)
            yield item.record

    brk = None
    found = verify_chain(stream())
    if found is not None:
        item = items[found.index]
        brk = c.ChainBreakOut(
            record=item.record_id,
            num_serie=item.num_serie,
            position=int(item.seq),
            problem=found.problem,
            field=found.field,
            expected=found.expected,
            found=found.found,
        )
    else:
        for n, item in enumerate(items, start=1):
            if int(item.seq) != n or item.huella != item.record.get("Huella"):
                brk = c.ChainBreakOut(
                    record=item.record_id,
                    num_serie=item.num_serie,
                    position=n,
                    problem="position",
                    field="seq/Huella",
                    expected=f"{n}|{item.record.get('Huella')}",
                    found=f"{int(item.seq)}|{item.huella}",
                )
                break
        last = items[-1] if items else None
        expected_head = f"{len(items)}|{last.huella if last else ''}"
        found_head = f"{int(head.seq or 0)}|{(head.last or {}).get('Huella', '')}"
        if brk is None and expected_head != found_head:
            brk = c.ChainBreakOut(
                record=None,
                position=len(items),
                problem="head",
                field="VFHEAD",
                expected=expected_head,
                found=found_head,
            )
    copy = archive.first_break(items, as_model) if with_archive else None
    if copy is not None and (brk is None or int(items[copy.index].seq) < brk.position):
        item = items[copy.index]
        brk = c.ChainBreakOut(
            record=item.record_id,
            num_serie=item.num_serie,
            position=int(item.seq),
            problem="archive",
            field=copy.field,
            expected=copy.expected,
            found=copy.found,
        )
    return c.ChainOut(nif=head.nif, records=len(items), intact=brk is None, first_break=brk)


def verify(principal: Principal, with_archive: bool = False) -> c.VerifyOut:
    cid = principal.clinic_id
    chains = [verify_one(cid, h, with_archive=with_archive) for h in heads(cid)]
    return c.VerifyOut(intact=all(ch.intact for ch in chains), chains=chains)


# --- annulment (registro de anulación) -----------------------------------------------------


def annul(principal: Principal, invoice_id: str, data: c.AnnulIn) -> c.InvoiceVerifactuOut:
    """Annul an invoice issued by mistake: the invoice is marked cancelled and its registro de
    anulación chained, in one transaction (FAQ: "forma ágil de dejar constancia de que una
    factura expedida por error no debería haberse expedido"). Where the invoicing rules
    require a rectifying invoice, use billing's rectify instead."""
    cid = principal.clinic_id
    clinic = require_es(cid)
    for attempt in range(ATTEMPTS):
        inv = invoices.load(cid, invoice_id, consistent=True)
        if inv.status == "draft":
            raise Conflict(
                tr("A draft is deleted, not annulled.", "Un borrador se elimina, no se anula."),
                code="INVOICE_STATE",
            )
        if inv.cancelled:
            raise Conflict(
                tr("This invoice is already cancelled.", "Esta factura ya está anulada."),
                code="INVOICE_CANCELLED",
            )
        if int(inv.paid_cents or 0) != 0:
            raise Conflict(
                tr(
                    "This invoice has payments: refund them before annulling it.",
                    "Esta factura tiene cobros: devuélvelos antes de anularla.",
                ),
                code="INVOICE_PAID",
            )
        if inv.rectified_by:
            raise Conflict(
                tr(
                    "This invoice has rectifying invoices; annul or rectify those instead.",
                    "Esta factura tiene facturas rectificativas; anula o rectifica esas en su "
                    "lugar.",
                ),
                code="INVOICE_RECTIFIED",
            )
        records = _invoice_records(cid, invoice_id)
        altas = [i for i in records if i.kind == "alta"]
        if not altas:
            raise Conflict(
                tr(
                    "This invoice has no VERI*FACTU record.",
                    "Esta factura no tiene registro de facturación VERI*FACTU.",
                ),
                code="VERIFACTU_NO_RECORD",
            )
        alta = altas[-1]
        ident = alta.record["IDFactura"]
        head = load_head(cid, alta.nif)
        at = now()
        record = RegistroAnulacion(
            IDFactura=IDFacturaAnulada(
                IDEmisorFacturaAnulada=ident["IDEmisorFactura"],
                NumSerieFacturaAnulada=ident["NumSerieFactura"],
                FechaExpedicionFacturaAnulada=ident["FechaExpedicionFactura"],
            ),
            SinRegistroPrevio=sin_registro_previo(records),  # web service 9.2.3 (ADR 0207)
            Encadenamiento=Encadenamiento.tras(_anterior(head)),
            SistemaInformatico=sistema_informatico(cid),
            FechaHoraHusoGenRegistro=_generated(head, clinic, at),
        )
        rules.enforce(record, rules.Context(obligado=head.nif, at=at))
        originals = invoices.undo_rectification(cid, inv)
        old = int(inv.version)
        inv.cancelled = True
        inv.version, inv.updated_at = old + 1, at
        try:
            with transaction() as tx:
                for o in originals:  # what this rectifying invoice had changed, restored
                    ov = int(o.version)
                    o.version, o.updated_at = ov + 1, at
                    tx.save(o, condition=Invoice.version == ov)
                item = append_record(
                    tx,
                    head,
                    record,
                    invoice_id=invoice_id,
                    series=inv.series,
                    environment=load_settings(cid).environment,
                    at=at,
                )
                # A rejected alta is resolved by the anulación (9.2.3): its series goes on.
                resolve(tx, cid, unresolved_altas(records), item.record_id)
                inv.verifactu = {**(inv.verifactu or {}), "annulment": item.record_id}
                tx.save(inv, condition=(Invoice.version == old) & (Invoice.cancelled == False))  # noqa: E712
                if inv.issue_date:  # the day did not invoice it (end-of-day email)
                    tx.save(
                        InvoiceIssuedOn(
                            *InvoiceIssuedOn.key(cid, inv.issue_date, invoice_id),
                            invoice_id=invoice_id,
                            num_serie=inv.num_serie,
                            total_cents=int(inv.total_cents or 0),
                            annulled=True,
                        )
                    )
                tx.save(
                    audit.entry(
                        cid,
                        principal.actor,
                        "verifactu.invoice.annulled",
                        "invoice",
                        invoice_id,
                        after={
                            "num_serie": inv.num_serie,
                            "record_id": item.record_id,
                            "reason": data.reason,
                            "restored": [o.num_serie for o in originals] or None,
                        },
                    )
                )
            break
        except TransactWriteError:
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))  # noqa: S311
    else:
        raise Conflict(
            tr(
                "Too many changes at once; try again.",
                "Demasiados cambios a la vez; vuelve a intentarlo.",
            ),
            code="BUSY",
        )
    events.publish(
        "invoice.annulled",
        cid,
        principal.actor,
        invoice_id=invoice_id,
        patient_id=inv.patient_id,
        num_serie=inv.num_serie,
        issue_date=inv.issue_date,
        restored=[o.invoice_id for o in originals],
    )
    return invoice_status(principal, invoice_id)


# --- subsanación ---------------------------------------------------------------------------


def _aeat_holds_alta(items: list[RecordItem], exclude: str | None = None) -> bool:
    """Whether the AEAT holds the invoice: one of its altas was accepted (with or without
    errors; a 3000 duplicate counts as what the AEAT holds)."""
    return any(
        i.kind == "alta" and i.status in (ACCEPTED, ACCEPTED_WITH_ERRORS)
        for i in items
        if i.record_id != exclude
    )


def sin_registro_previo(items: list[RecordItem]) -> str | None:
    """``SinRegistroPrevio`` of a new anulación of the invoice whose records are ``items``:
    "S" when the AEAT rejected its alta and never accepted one (web service 9.2.3: "por haber
    sido rechazado el registro de alta ... se remite directamente el correspondiente registro
    de anulación"), else absent (9.2.1). While its alta is still pending it is absent; if the
    AEAT then rejects the anulación, its subsanación carries S (``subsanar``)."""
    altas = [i for i in items if i.kind == "alta"]
    if altas and altas[-1].status == REJECTED and not _aeat_holds_alta(items):
        return "S"
    return None


def resolve(tx: TransactWrite, clinic_id: str, resolved: list[RecordItem], by: str) -> None:
    """In ``tx``: each record of ``resolved`` (rejected or accepted with errors) is corrected
    or annulled by the new record ``by``: it points at it (``superseded_by``) and no longer
    blocks its series. One write per block, conditional on its count (a rejection landing
    meanwhile makes the caller retry)."""
    unblock: dict[str, list[str]] = {}
    seen: set[str] = set()
    for old in resolved:
        if old.record_id in seen:
            continue
        seen.add(old.record_id)
        tx.update(
            old,
            actions=[RecordItem.superseded_by.set(by)],
            condition=RecordItem.superseded_by.does_not_exist() & (RecordItem.status == old.status),
        )
        if old.status == REJECTED:
            unblock.setdefault(old.series, []).append(old.record_id)
    for series, rids in unblock.items():
        try:
            block = SeriesBlock.get(*SeriesBlock.key(clinic_id, series), consistent_read=True)
        except DoesNotExist:
            continue
        gone = [r for r in rids if r in (block.records or {})]
        if not gone:
            continue
        count = int(block.count or 0)
        block.records = {k: v for k, v in (block.records or {}).items() if k not in gone}
        block.count = max(0, count - len(gone))
        tx.save(block, condition=SeriesBlock.count == count)


def unresolved_altas(items: list[RecordItem]) -> list[RecordItem]:
    """The invoice's altas an anulación resolves: rejected or accepted with errors, not yet
    corrected (an annulled invoice needs no subsanación: FAQ 17, case 2.d)."""
    return [
        i
        for i in items
        if i.kind == "alta" and i.status in (REJECTED, ACCEPTED_WITH_ERRORS) and not i.superseded_by
    ]


def _corrected_alta(item: RecordItem, data: c.SubsanacionIn, prior_accepted: bool) -> dict:
    fields = {
        k: v
        for k, v in item.record.items()
        if k not in ("Encadenamiento", "SistemaInformatico", "FechaHoraHusoGenRegistro", "Huella")
    }
    if item.status == REJECTED:
        # 9.1.3 "Alta por rechazo" (not at the AEAT): S/X; a rejected subsanación of a record
        # the AEAT holds: "Alta por rechazo de subsanación" S/S.
        fields["Subsanacion"], fields["RechazoPrevio"] = "S", ("S" if prior_accepted else "X")
    else:  # accepted with errors: "Alta de subsanación" (S, no RechazoPrevio)
        fields["Subsanacion"], fields["RechazoPrevio"] = "S", None
    if data.DescripcionOperacion is not None:
        fields["DescripcionOperacion"] = data.DescripcionOperacion
    if data.FechaOperacion is not None:
        fields["FechaOperacion"] = data.FechaOperacion
    if data.Destinatarios is not None:
        fields["Destinatarios"] = [d.model_dump(exclude_none=True) for d in data.Destinatarios]
    return fields


def subsanar(principal: Principal, rid: str, data: c.SubsanacionIn) -> c.RecordDetailOut:
    """Correct a rejected (or accepted-with-errors) record with a new record of the chain;
    the original stays as it was (records are immutable) and points at its correction."""
    cid = principal.clinic_id
    clinic = get_clinic(cid)
    for attempt in range(ATTEMPTS):
        old = load_record(cid, rid, consistent=True)
        if old.status not in (REJECTED, ACCEPTED_WITH_ERRORS):
            raise Conflict(
                tr(
                    f"Only a rejected or accepted-with-errors record is corrected (this one is "
                    f"{old.status}).",
                    f"Solo se subsana un registro rechazado o aceptado con errores (este está "
                    f"en estado {old.status}).",
                ),
                code="RECORD_STATE",
            )
        if old.superseded_by:
            raise Conflict(
                tr(
                    f"This record was already corrected by {old.superseded_by}.",
                    f"Este registro ya se subsanó con {old.superseded_by}.",
                ),
                code="RECORD_STATE",
            )
        if old.status == ACCEPTED_WITH_ERRORS and old.aeat_code in SIN_SUBSANACION:
            raise Conflict(
                tr(
                    f"The AEAT accepted this record with error {int(old.aeat_code)}, which needs "
                    "no subsanación (AEAT validations 4.3.1).",
                    f"La AEAT aceptó este registro con el error {int(old.aeat_code)}, que no "
                    "necesita subsanación (validaciones de la AEAT, 4.3.1).",
                ),
                code="RECORD_STATE",
            )
        if old.kind == "anulacion" and old.status != REJECTED:
            raise Conflict(
                tr(
                    "An accepted anulación needs no correction.",
                    "Un registro de anulación aceptado no necesita subsanación.",
                ),
                code="RECORD_STATE",
            )
        head = load_head(cid, old.nif)
        at = now()
        generated = _generated(head, clinic, at)
        siblings = _invoice_records(cid, old.invoice_id)
        try:
            if old.kind == "alta":
                prior_accepted = _aeat_holds_alta(siblings, exclude=old.record_id)
                record: RegistroFacturacion = RegistroAlta(
                    **_corrected_alta(old, data, prior_accepted),
                    Encadenamiento=Encadenamiento.tras(_anterior(head)),
                    SistemaInformatico=sistema_informatico(cid),
                    FechaHoraHusoGenRegistro=generated,
                )
            else:
                if any((data.DescripcionOperacion, data.FechaOperacion, data.Destinatarios)):
                    raise Unprocessable(
                        tr(
                            "An anulación has no invoice data to correct; send only the reason.",
                            "Un registro de anulación no tiene datos de factura que subsanar; "
                            "envía solo el motivo.",
                        ),
                        code="VERIFACTU_INVALID_RECORD",
                    )
                # 9.2.2 "Anulación por rechazo" (S); without the invoice at the AEAT,
                # DsRegistro's "Anulación por rechazo sin registro previo" (S + S).
                record = RegistroAnulacion(
                    IDFactura=old.record["IDFactura"],
                    SinRegistroPrevio=None if _aeat_holds_alta(siblings) else "S",
                    RechazoPrevio="S",
                    Encadenamiento=Encadenamiento.tras(_anterior(head)),
                    SistemaInformatico=sistema_informatico(cid),
                    FechaHoraHusoGenRegistro=generated,
                )
        except ValueError as exc:
            raise Unprocessable(
                tr(
                    "The corrected record would not be valid.",
                    "El registro subsanado no sería válido.",
                ),
                errors=record_errors(exc, "body"),
                code="VERIFACTU_INVALID_RECORD",
            ) from exc
        rules.enforce(record, rules.Context(obligado=head.nif, at=at))
        try:
            with transaction() as tx:
                new = append_record(
                    tx,
                    head,
                    record,
                    invoice_id=old.invoice_id,
                    series=old.series,
                    environment=load_settings(cid).environment,
                    at=at,
                    corrects=old.record_id,
                )
                # An anulación also resolves the invoice's rejected alta (web service 9.2.3).
                also = unresolved_altas(siblings) if old.kind == "anulacion" else []
                resolve(tx, cid, [old, *also], new.record_id)
                tx.save(
                    audit.entry(
                        cid,
                        principal.actor,
                        "verifactu.record.corrected",
                        "verifactu_record",
                        old.record_id,
                        after={"corrected_by": new.record_id, "reason": data.reason},
                    )
                )
            break
        except TransactWriteError:
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))  # noqa: S311
    else:
        raise Conflict(
            tr(
                "Too many changes at once; try again.",
                "Demasiados cambios a la vez; vuelve a intentarlo.",
            ),
            code="BUSY",
        )
    return get_record(principal, new.record_id)
