"""Daily reconciliation with the AEAT: what it holds against what we believe it holds. ADR 0205.

``run(now)`` (``functions/aeat_reconcile.py``, schedule ``aeat-reconcile``, early morning):

1. Query ``VFRCDUE`` for the chains whose check is due. A chain is in that index while it had
   records answered by the AEAT in the last ``RECONCILE_WINDOW`` (7 days; the submission job
   notes every answer) or still has an open discrepancy, so the job's cost grows with the
   records in the window, never with the clinics or the history.
2. Per chain: the window's records are the tail of the chain (base-table range, newest first,
   stopping at the first record generated and answered before the window); the records with an
   open discrepancy come from their own index (GSI1 ``C#<cid>#VFRCDIFF``); an invoice whose
   first record is outside the window is completed from its invoice index (GSI2).
3. Ask the AEAT (ConsultaFactuSistemaFacturacion, ``consulta.py``) over mutual TLS with the
   clinic's certificate, at the endpoint of each record's environment (``transport.py``):
   per imputation period the expedition dates of the window, and per older invoice its number;
   every page (``IndicadorPaginacion``/``ClavePaginacion``, web service 6.4.3).
4. Compare per invoice (the AEAT keys a record by NIF, number and date and keeps its latest
   state): missing at the AEAT, different huella, different state (Correcto /
   AceptadoConErrores / Anulado), held although we have it rejected; and what the AEAT holds
   with an expedition date in the window that we have no record of. Invoices with a record
   still pending are in flight and left alone.
5. The result goes on the invoice's current record (``reconciliation``; a discrepancy also
   into GSI1 ``C#<cid>#VFRCDIFF``), into the clinic's ``ReconciliationDay`` and, only when
   something differs, into one email a day to the clinic's admins (es/en, the clinic's
   language). Nothing is changed in the records' AEAT status: people decide (ADR 0205).

No answer, an unexpected body or a fault flags nothing: the chain stays due and the next run
asks again. Re-running is harmless: the same flags are written again and the email goes once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.comms import templates
from chalicelib.core import mail, scoping
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor
from chalicelib.core.errors import NotFound
from chalicelib.core.ids import iso, now
from chalicelib.core.observability import logger
from chalicelib.identity.models import Clinic
from chalicelib.identity.service import admin_emails, get_clinic
from chalicelib.verifactu import certificates, service, submission, transport
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu.consulta import (
    MAX_PAGINAS,
    ClaveFactura,
    Estado,
    RegistroConsultado,
    build_consulta_request,
    parse_respuesta_consulta,
    periodo_de,
)
from chalicelib.verifactu.models import (
    ACCEPTED,
    PENDING,
    RECONCILE_DUE_PK,
    RECONCILE_WINDOW,
    REJECTED,
    ReconcileDue,
    ReconciliationDay,
    RecordItem,
    VfCertificate,
    seq_text,
)
from chalicelib.verifactu.response import RespuestaInvalida, SoapFault
from chalicelib.verifactu.schemas import XsdValidationError

OK = "ok"
DISCREPANCY = "discrepancy"
#: The next daily run (a little less than a day, so a cron that fires a bit early still finds it).
RECHECK = timedelta(hours=23)
#: Records are walked from one day before the window's first local midnight: whatever zone
#: the invoice dates were taken in, every record of an invoice dated in the window is read.
MARGIN = timedelta(days=1)
#: Time one more chain may need (one HTTP call and the writes); also checked before each page.
CHAIN_BUDGET_MS = (transport.TIMEOUT_S + 30) * 1000
#: At most this many differences listed in the day's summary and email (all are flagged).
MAX_LISTED = 200


# --- what we expect the AEAT to hold, and the comparison (pure) -------------------------------


@dataclass(frozen=True)
class Ours:
    """What the comparison needs of one of our records (in chain order)."""

    record_id: str
    kind: str  # alta | anulacion
    status: str  # pending | accepted | accepted_with_errors | rejected
    huella: str


@dataclass(frozen=True)
class Expected:
    """What the AEAT should hold for one invoice, from our answered records."""

    held: bool
    estado: Estado | None
    huella: str | None  # of the alta it holds (the latest accepted one)
    huella_anulacion: str | None = None
    current: str = ""  # the record whose state this is (the invoice's latest)


def expected(records: Sequence[Ours]) -> Expected | None:
    """The AEAT's state for an invoice after our records (altas, subsanaciones, anulación) in
    chain order, or None while one of them is pending (in flight: nothing to compare yet).

    A rejected record changes nothing at the AEAT; an accepted alta (or subsanación) is what it
    holds, Correcto or AceptadoConErrores; an accepted anulación makes it Anulado.
    """
    if not records or any(r.status == PENDING for r in records):
        return None
    held, estado, huella, huella_anulacion = False, None, None, None
    for r in records:
        if r.status == REJECTED:
            continue
        if r.kind == "alta":
            held, huella, huella_anulacion = True, r.huella, None
            estado = "correct" if r.status == ACCEPTED else "accepted_with_errors"
        elif held:
            estado, huella_anulacion = "annulled", r.huella
    return Expected(held, estado, huella, huella_anulacion, records[-1].record_id)  # type: ignore[arg-type]


def compare(exp: Expected, aeat: RegistroConsultado | None) -> list[dict[str, Any]]:
    """The differences between what we expect and what the AEAT answered (empty: equal).

    Codes: ``missing_at_aeat`` (we have it accepted, the AEAT does not hold it),
    ``held_but_rejected`` (we have it rejected or never accepted, the AEAT holds it),
    ``state_differs`` (Correcto / AceptadoConErrores / Anulado), ``huella_differs``. An
    annulled invoice may show either its alta's or its anulación's huella.
    """
    if aeat is None:
        if exp.held:
            return [{"code": "missing_at_aeat", "ours": exp.estado, "aeat": None}]
        return []
    if not exp.held:
        return [{"code": "held_but_rejected", "ours": "rejected", "aeat": aeat.EstadoRegistro}]
    out: list[dict[str, Any]] = []
    if aeat.estado != exp.estado:
        out.append({"code": "state_differs", "ours": exp.estado, "aeat": aeat.EstadoRegistro})
    if aeat.Huella and aeat.Huella not in {exp.huella, exp.huella_anulacion}:
        out.append({"code": "huella_differs", "ours": exp.huella, "aeat": aeat.Huella})
    return out


def ours(item: RecordItem) -> Ours:
    return Ours(item.record_id, item.kind, item.status, item.huella)


# --- the job -----------------------------------------------------------------------------


class _OutOfTime(Exception):  # noqa: N818 - internal signal
    """Not enough Lambda time left for another AEAT call: the chain stays due."""


@dataclass
class ChainResult:
    nif: str
    status: str  # ok | discrepancies | failed | deferred | not_configured | no_certificate
    compared: int = 0
    discrepancies: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "compared": self.compared,
            "discrepancies": len(self.discrepancies),
            "unknown": len(self.unknown),
            "error": self.error,
        }


def diff_pk(clinic_id: str) -> str:
    return f"{clinic_pk(clinic_id)}#VFRCDIFF"


def due_chains(at: datetime) -> list[ReconcileDue]:
    upper = iso(at) + "#~"
    return [
        d
        for d in ReconcileDue.gsi1.query(RECONCILE_DUE_PK, ReconcileDue.GSI1SK <= upper)  # noqa: SIM300
        if isinstance(d, ReconcileDue)
    ]


def run(
    at: datetime | None = None, *, time_left_ms: Callable[[], int] | None = None
) -> dict[str, int]:
    """One pass over the chains that are due; counts per outcome (for the log)."""
    at = at or now()
    started = now()
    by_clinic: dict[str, list[str]] = {}
    for d in due_chains(at):
        by_clinic.setdefault(d.clinic_id, []).append(d.nif)
    summary: Counter[str] = Counter()
    for clinic_id, nifs in by_clinic.items():
        clinic_at = at + (now() - started)  # a long run keeps its clock
        with scoping.for_clinic(clinic_id):  # the clinic's credentials (ADR 0012)
            try:
                summary.update(
                    reconcile_clinic(clinic_id, nifs, clinic_at, time_left_ms=time_left_ms)
                )
            except Exception:  # noqa: BLE001 - one clinic's failure must not stop the others
                logger.exception("verifactu reconciliation crashed", extra={"clinic_id": clinic_id})
                summary["error"] += 1
    return dict(summary)


def reconcile_clinic(
    clinic_id: str,
    nifs: Iterable[str],
    at: datetime,
    *,
    time_left_ms: Callable[[], int] | None = None,
) -> Counter[str]:
    """Reconcile the clinic's due chains, record the day and email its admins if anything
    differs (once a day)."""
    try:
        clinic: Clinic | None = get_clinic(clinic_id)
    except NotFound:
        clinic = None  # closed: nothing to reconcile any more
    results: list[ChainResult] = []
    for nif in nifs:
        if clinic is None or not service.applies(clinic):
            _checked(clinic_id, nif, at, "not_es" if clinic else "gone", 0, retire=True)
            continue
        if time_left_ms is not None and time_left_ms() < CHAIN_BUDGET_MS:
            results.append(ChainResult(nif, "deferred"))
            continue
        try:
            results.append(reconcile_chain(clinic, nif, at, time_left_ms=time_left_ms))
        except Exception:  # noqa: BLE001 - the other chains still go; this one stays due
            logger.exception(
                "verifactu chain reconciliation crashed", extra={"clinic_id": clinic_id}
            )
            _failed(clinic_id, nif, at, "internal error while reconciling; retried next run")
            results.append(ChainResult(nif, "failed", error="internal error"))
    if results and clinic is not None:
        day = _record_day(clinic, at, results)
        if day.discrepancies or day.unknown:
            send_summary(clinic, day, at)
    return Counter(r.status for r in results)


def reconcile_chain(
    clinic: Clinic, nif: str, at: datetime, *, time_left_ms: Callable[[], int] | None = None
) -> ChainResult:
    cid = clinic.clinic_id
    if not submission.configured():
        _checked(cid, nif, at, "not_configured", 0)
        return ChainResult(nif, "not_configured")
    cert = certificates.find(cid)
    if cert is None or cert.not_after <= at:
        _checked(cid, nif, at, "no_certificate", 0)
        return ChainResult(nif, "no_certificate")
    tz = ZoneInfo(clinic.time_zone)
    today = at.astimezone(tz).date()
    since = (at - RECONCILE_WINDOW).astimezone(tz).date()
    walked = _walk(cid, nif, datetime.combine(since, time(0), tz) - MARGIN)
    histories = _histories(cid, nif, walked, _flagged(cid, nif))

    # What to compare, per environment (each record goes to the service it was generated for).
    known: dict[str, set[ClaveFactura]] = {}
    plans: dict[str, dict[ClaveFactura, tuple[Expected, list[RecordItem], tuple[str, str]]]] = {}
    for items in histories.values():
        for env in sorted({i.environment for i in items}):
            subset = [i for i in items if i.environment == env]
            clave = (nif, subset[0].num_serie, subset[0].fecha_expedicion)
            known.setdefault(env, set()).add(clave)
            exp = expected([ours(i) for i in subset])
            if exp is not None:
                plans.setdefault(env, {})[clave] = (exp, subset, _periodo(subset))
    try:
        held = {
            env: _ask(clinic, cert, env, nif, plan, since, today, time_left_ms)
            for env, plan in plans.items()
        }
    except _OutOfTime:
        return ChainResult(nif, "deferred")
    except (transport.TransportError, SoapFault, RespuestaInvalida, XsdValidationError) as exc:
        reason = _reason(exc)
        _failed(cid, nif, at, reason)
        logger.warning("verifactu reconciliation: no usable answer", extra={"clinic_id": cid})
        return ChainResult(nif, "failed", error=reason)

    result = ChainResult(nif, OK)
    for env, plan in plans.items():
        aeat_by_clave, in_window = held[env]
        for clave, (exp, subset, _) in plan.items():
            aeat = aeat_by_clave.get(clave)
            differences = compare(exp, aeat)
            current = subset[-1]
            new = _flag(current, differences, aeat, at)
            for other in subset[:-1]:
                _unflag(other)
            result.compared += 1
            if differences:
                result.discrepancies.append(
                    {
                        "record_id": current.record_id,
                        "nif": nif,
                        "num_serie": clave[1],
                        "fecha_expedicion": clave[2],
                        "environment": env,
                        "codes": [d["code"] for d in differences],
                        "differences": differences,
                        "new": new,
                    }
                )
        for clave, reg in in_window.items():
            if clave not in known.get(env, set()):
                result.unknown.append(
                    {
                        "nif": nif,
                        "num_serie": clave[1],
                        "fecha_expedicion": clave[2],
                        "environment": env,
                        "aeat_estado": reg.EstadoRegistro,
                        "huella": reg.Huella,
                    }
                )
    if result.discrepancies or result.unknown:
        result.status = "discrepancies"
    _checked(cid, nif, at, result.status, len(result.discrepancies))
    logger.info(
        "verifactu reconciliation",
        extra={
            "clinic_id": cid,
            "compared": result.compared,
            "discrepancies": len(result.discrepancies),
            "unknown": len(result.unknown),
        },
    )
    return result


def _reason(exc: Exception) -> str:
    if isinstance(exc, SoapFault):
        return f"SOAP {exc.faultcode}: {exc.faultstring}"[:500]
    if isinstance(exc, RespuestaInvalida):
        return f"unexpected answer: {exc}"[:500]
    if isinstance(exc, XsdValidationError):
        return f"request not valid: {exc}"[:500]
    return str(exc)[:500]


# --- which records ---------------------------------------------------------------------------


def _walk(clinic_id: str, nif: str, since: datetime) -> list[RecordItem]:
    """The chain's tail back to the first record generated and answered before ``since``
    (records are generated in chain order, within a minute), in chain order."""
    out: list[RecordItem] = []
    for item in RecordItem.query(
        clinic_pk(clinic_id),
        RecordItem.SK.startswith(RecordItem.chain_prefix(nif)),
        scan_index_forward=False,
        page_size=200,
    ):
        if not isinstance(item, RecordItem):
            continue
        if item.created_at < since and (item.answered_at is None or item.answered_at < since):
            break
        out.append(item)
    out.reverse()
    return out


def _flagged(clinic_id: str, nif: str) -> list[RecordItem]:
    """Records with an open discrepancy (rechecked until it is gone, even after the window)."""
    return [
        i
        for i in RecordItem.gsi1.query(diff_pk(clinic_id), RecordItem.GSI1SK.startswith(f"{nif}#"))
        if isinstance(i, RecordItem)
    ]


def _histories(
    clinic_id: str, nif: str, walked: list[RecordItem], flagged: list[RecordItem]
) -> dict[str, list[RecordItem]]:
    """Every record of each invoice touched, in chain order. The walk is a contiguous tail of
    the chain, so an invoice whose original alta is in it is complete; the others are read
    from the invoice index (GSI2)."""
    in_walk = {int(i.seq) for i in walked}
    by_invoice: dict[str, dict[int, RecordItem]] = {}
    for item in [*walked, *flagged]:
        by_invoice.setdefault(item.invoice_id, {})[int(item.seq)] = item
    out: dict[str, list[RecordItem]] = {}
    for invoice_id, by_seq in by_invoice.items():
        items = [by_seq[s] for s in sorted(by_seq)]
        first = items[0]
        if not (first.kind == "alta" and not first.corrects and int(first.seq) in in_walk):
            items = [
                i
                for i in RecordItem.gsi2.query(RecordItem.invoice_pk(clinic_id, invoice_id))
                if isinstance(i, RecordItem) and i.nif == nif
            ] or items
        out[invoice_id] = items
    return out


def _periodo(items: list[RecordItem]) -> tuple[str, str]:
    """Imputation period of the invoice: its latest alta's FechaOperacion, else its date."""
    altas = [i for i in items if i.kind == "alta"]
    operacion = (altas[-1].record or {}).get("FechaOperacion") if altas else None
    return periodo_de(operacion, items[0].fecha_expedicion)


def _fecha(text: str) -> date:
    return date(int(text[6:10]), int(text[3:5]), int(text[0:2]))


def _months(since: date, today: date) -> list[tuple[str, str]]:
    out, d = [], since.replace(day=1)
    while d <= today:
        out.append((f"{d.year:04d}", f"{d.month:02d}"))
        d = (d + timedelta(days=32)).replace(day=1)
    return out


# --- asking the AEAT ---------------------------------------------------------------------


def _ask(
    clinic: Clinic,
    cert: VfCertificate,
    environment: str,
    nif: str,
    plan: dict[ClaveFactura, tuple[Expected, list[RecordItem], tuple[str, str]]],
    since: date,
    today: date,
    time_left_ms: Callable[[], int] | None,
) -> tuple[dict[ClaveFactura, RegistroConsultado], dict[ClaveFactura, RegistroConsultado]]:
    """(everything the AEAT answered, what it holds with an expedition date in the window).

    Per imputation period of the window's invoices (and each month the window spans, to see
    what the AEAT holds that we do not) one query narrowed to the window's expedition dates;
    per older invoice (an annulment or correction in the window, or an open discrepancy) one
    query by its number. Every page is read.
    """
    nombre = (clinic.legal_name or clinic.name)[:120]
    periods = set(_months(since, today))
    older: dict[str, tuple[str, str]] = {}
    for clave, (_, _, periodo) in plan.items():
        if _fecha(clave[2]) >= since:
            periods.add(periodo)
        else:
            older[clave[1]] = periodo
    url = transport.endpoint(environment)
    password = transport.new_key_password()
    chain_pem, key_pem = certificates.client_pem(cert, clinic.clinic_id, password)

    def pages(periodo: tuple[str, str], **filters: Any) -> list[RegistroConsultado]:
        found: list[RegistroConsultado] = []
        clave: ClaveFactura | None = None
        for _ in range(MAX_PAGINAS):
            if time_left_ms is not None and time_left_ms() < CHAIN_BUDGET_MS:
                raise _OutOfTime
            body = build_consulta_request(nif, nombre, periodo, clave=clave, **filters)
            answer = transport.post_soap(url, body, chain_pem, key_pem, password)
            page = parse_respuesta_consulta(answer.body)
            if nif != page.NIF:
                raise RespuestaInvalida(f"answer about another NIF ({page.NIF})")
            found += page.registros
            following = page.siguiente
            if following is None:
                return found
            if following == clave:
                raise RespuestaInvalida("the AEAT repeated the same page")
            clave = following
        raise RespuestaInvalida(f"more than {MAX_PAGINAS} pages")

    everything: dict[ClaveFactura, RegistroConsultado] = {}
    in_window: dict[ClaveFactura, RegistroConsultado] = {}
    for periodo in sorted(periods):
        for reg in pages(periodo, desde=since, hasta=today):
            everything[reg.clave] = reg
            if reg.IDEmisorFactura == nif and _fecha(reg.FechaExpedicionFactura) >= since:
                in_window[reg.clave] = reg
    for num_serie, periodo in sorted(older.items()):
        for reg in pages(periodo, num_serie=num_serie):
            everything[reg.clave] = reg
    return everything, in_window


# --- writing the results -----------------------------------------------------------------


def _flag(
    item: RecordItem,
    differences: list[dict[str, Any]],
    aeat: RegistroConsultado | None,
    at: datetime,
) -> bool:
    """Store the result on the invoice's current record; True when the discrepancy is new
    (not the same one found last time)."""
    previous = item.reconciliation or {}
    codes = sorted(d["code"] for d in differences)
    same = previous.get("status") == DISCREPANCY and previous.get("codes") == codes
    value: dict[str, Any] = {
        "status": DISCREPANCY if differences else OK,
        "checked_at": iso(at),
        "aeat_estado": aeat.EstadoRegistro if aeat is not None else None,
        "differences": differences,
        "codes": codes,
        "since": previous.get("since") if same else (iso(at) if differences else None),
    }
    actions: list[Any] = [RecordItem.reconciliation.set(value)]
    if differences:
        actions += [
            RecordItem.GSI1PK.set(diff_pk(item.clinic_id)),
            RecordItem.GSI1SK.set(f"{item.nif}#{seq_text(int(item.seq))}"),
        ]
    elif diff_pk(item.clinic_id) == item.GSI1PK:
        actions += [RecordItem.GSI1PK.remove(), RecordItem.GSI1SK.remove()]
    _update(item, actions)
    return bool(differences) and not same


def _unflag(item: RecordItem) -> None:
    """An earlier record of the invoice: its result (if any) belongs to the current one now."""
    if item.reconciliation is None:
        return
    actions: list[Any] = [RecordItem.reconciliation.remove()]
    if diff_pk(item.clinic_id) == item.GSI1PK:
        actions += [RecordItem.GSI1PK.remove(), RecordItem.GSI1SK.remove()]
    _update(item, actions)


def _update(item: RecordItem, actions: list[Any]) -> None:
    # Only answered records are compared and their status never changes again; the condition
    # keeps this write from ever touching a pending record (whose GSI1 is the pending index).
    try:
        item.update(actions=actions, condition=RecordItem.status == item.status)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _due(clinic_id: str, nif: str) -> ReconcileDue | None:
    try:
        return ReconcileDue.get(*ReconcileDue.key(clinic_id, nif), consistent_read=True)
    except DoesNotExist:
        return None


def _checked(
    clinic_id: str, nif: str, at: datetime, status: str, open_: int, *, retire: bool = False
) -> None:
    """A check finished: next one tomorrow, or out of the index when the window is over and
    nothing is open (a new answer puts the chain back)."""
    for _ in range(5):
        due = _due(clinic_id, nif)
        if due is None:
            return
        actions = [
            ReconcileDue.last_checked_at.set(at),
            ReconcileDue.last_status.set(status),
            ReconcileDue.last_error.remove(),
            ReconcileDue.attempts.set(0),
            ReconcileDue.open_discrepancies.set(open_),
        ]
        following = at + RECHECK
        if retire or (due.active_until < following and open_ == 0):
            actions += [ReconcileDue.GSI1PK.remove(), ReconcileDue.GSI1SK.remove()]
        else:
            actions += [
                ReconcileDue.GSI1PK.set(RECONCILE_DUE_PK),
                ReconcileDue.GSI1SK.set(ReconcileDue.due_sk(following, clinic_id, nif)),
            ]
        try:  # an answer noted meanwhile moved active_until: decide again
            due.update(actions=actions, condition=ReconcileDue.active_until == due.active_until)
            return
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise


def _failed(clinic_id: str, nif: str, at: datetime, reason: str) -> None:
    """No usable answer: nothing flagged, the chain stays due for the next run."""
    due = _due(clinic_id, nif)
    if due is None:
        return
    due.update(
        actions=[
            ReconcileDue.last_checked_at.set(at),
            ReconcileDue.last_status.set("failed"),
            ReconcileDue.last_error.set(reason[:500]),
            ReconcileDue.attempts.set((ReconcileDue.attempts | 0) + 1),
        ]
    )


def _record_day(clinic: Clinic, at: datetime, results: list[ChainResult]) -> ReconciliationDay:
    """Merge this run's chains into the clinic's day (a later run the same day replaces the
    chains it checked again); ``emailed_at`` is never touched here."""
    cid = clinic.clinic_id
    day = at.astimezone(ZoneInfo(clinic.time_zone)).date().isoformat()
    try:
        item = ReconciliationDay.get(*ReconciliationDay.key(cid, day), consistent_read=True)
    except DoesNotExist:
        item = ReconciliationDay(*ReconciliationDay.key(cid, day), day=day)
    checked = [r for r in results if r.status != "deferred"]
    redone = {r.nif for r in checked}
    chains = {**(item.chains or {}), **{r.nif: r.summary() for r in checked}}
    discrepancies = [d for d in item.discrepancies or [] if d.get("nif") not in redone]
    unknown = [u for u in item.unknown or [] if u.get("nif") not in redone]
    for r in checked:
        discrepancies += r.discrepancies
        unknown += r.unknown
    discrepancies, unknown = discrepancies[:MAX_LISTED], unknown[:MAX_LISTED]
    if discrepancies or unknown:
        status = "discrepancies"
    elif any(ch.get("status") == "failed" for ch in chains.values()):
        status = "failed"
    elif any(ch.get("status") in ("ok", "discrepancies") for ch in chains.values()):
        status = "ok"
    else:
        status = "not_checked"
    item.update(
        actions=[
            ReconciliationDay.entity.set(ReconciliationDay),
            ReconciliationDay.day.set(day),
            ReconciliationDay.checked_at.set(at),
            ReconciliationDay.status.set(status),
            ReconciliationDay.chains.set(chains),
            ReconciliationDay.discrepancies.set(discrepancies),
            ReconciliationDay.unknown.set(unknown),
        ]
    )
    return item


# --- the daily email ---------------------------------------------------------------------

T = {
    "es": {
        "subject": "{clinic}: diferencias con la AEAT en VERI*FACTU ({day})",
        "intro": (
            "La conciliación diaria de {clinic} con la AEAT ha encontrado {n} diferencia(s) "
            "entre los registros de facturación VERI*FACTU y lo que la AEAT tiene registrado "
            "({new} nueva(s) desde la última comprobación)."
        ),
        "records": "Registros con diferencias",
        "unknown": "Registros que la AEAT tiene y Cúspide no",
        "new": "nueva",
        "todo": "Qué hacer",
        "todo_lines": [
            "Abre VERI*FACTU > Conciliación en Cúspide: cada registro muestra lo que tenemos y "
            "lo que consta en la AEAT.",
            "Comprueba la factura en la sede electrónica de la AEAT (consulta de registros de "
            "facturación) con el certificado de la clínica.",
            "Si la AEAT no tiene un registro aceptado o lo tiene distinto, o tiene registros que "
            "Cúspide no emitió, contacta con el soporte de Cúspide antes de emitir o corregir "
            "nada: no anules ni vuelvas a emitir la factura por tu cuenta.",
        ],
        "footer": "Conciliación diaria VERI*FACTU de Cúspide para {clinic}.",
        "missing_at_aeat": "no consta en la AEAT",
        "held_but_rejected": "la AEAT lo tiene registrado ({aeat}) pero aquí consta rechazado",
        "state_differs": "estado distinto: aquí {ours}, en la AEAT {aeat}",
        "huella_differs": "huella distinta de la del registro enviado",
        "states": {
            "correct": "correcto",
            "accepted_with_errors": "aceptado con errores",
            "annulled": "anulado",
        },
    },
    "en": {
        "subject": "{clinic}: VERI*FACTU differences with the AEAT ({day})",
        "intro": (
            "The daily reconciliation of {clinic} with the AEAT found {n} difference(s) between "
            "the VERI*FACTU invoicing records and what the AEAT holds ({new} new since the last "
            "check)."
        ),
        "records": "Records that differ",
        "unknown": "Records the AEAT holds that Cúspide does not",
        "new": "new",
        "todo": "What to do",
        "todo_lines": [
            "Open VERI*FACTU > Reconciliation in Cúspide: each record shows what we hold and what "
            "the AEAT holds.",
            "Check the invoice on the AEAT's website (consulta de registros de facturación) with "
            "the clinic's certificate.",
            "If the AEAT lacks an accepted record or holds it differently, or holds records "
            "Cúspide did not issue, contact Cúspide support before issuing or correcting "
            "anything: do not annul or reissue the invoice on your own.",
        ],
        "footer": "Cúspide daily VERI*FACTU reconciliation for {clinic}.",
        "missing_at_aeat": "not held by the AEAT",
        "held_but_rejected": "the AEAT holds it ({aeat}) but we have it as rejected",
        "state_differs": "different state: {ours} here, {aeat} at the AEAT",
        "huella_differs": "huella differs from the record sent",
        "states": {
            "correct": "correct",
            "accepted_with_errors": "accepted with errors",
            "annulled": "annulled",
        },
    },
}


def describe(difference: dict[str, Any], lang: str) -> str:
    t = T[templates.lang_of(lang)]
    states = t["states"]
    ours_text = states.get(difference.get("ours") or "", difference.get("ours") or "")
    return t[difference["code"]].format(ours=ours_text, aeat=difference.get("aeat") or "")


def render(clinic: Clinic, day: ReconciliationDay) -> templates.Rendered:
    lang = templates.lang_of(clinic.language)
    t = T[lang]
    new = sum(1 for d in day.discrepancies or [] if d.get("new"))
    count = len(day.discrepancies or []) + len(day.unknown or [])
    day_text = date.fromisoformat(day.day).strftime("%d/%m/%Y")
    lines = []
    for d in day.discrepancies or []:
        what = "; ".join(describe(x, lang) for x in d["differences"])
        mark = f" ({t['new']})" if d.get("new") else ""
        lines.append(f"{d['num_serie']} · {d['fecha_expedicion']} · {what}{mark}")
    sections = []
    if lines:
        sections.append(templates.Section(t["records"], lines=lines))
    if day.unknown:
        sections.append(
            templates.Section(
                t["unknown"],
                lines=[
                    f"{u['num_serie']} · {u['fecha_expedicion']} · {u['aeat_estado']}"
                    for u in day.unknown
                ],
            )
        )
    sections.append(templates.Section(t["todo"], lines=list(t["todo_lines"])))
    return templates.sections_email(
        brand=templates.Brand.of(clinic),
        lang=lang,
        subject=t["subject"].format(clinic=clinic.name, day=day_text),
        intro=t["intro"].format(clinic=clinic.name, n=count, new=new),
        sections=sections,
        footer=t["footer"].format(clinic=clinic.name),
    )


def send_summary(clinic: Clinic, day: ReconciliationDay, at: datetime) -> bool:
    """Email the day's differences to the clinic's admins, at most once per clinic and day
    (``emailed_at`` set with a condition first; removed again if sending fails)."""
    to = [a for a in admin_emails(clinic.clinic_id) if not mail.is_undeliverable(a)]
    if not to:
        return False
    try:
        day.update(
            actions=[
                ReconciliationDay.emailed_at.set(at),
                ReconciliationDay.recipients.set(len(to)),
            ],
            condition=ReconciliationDay.emailed_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    try:
        rendered = render(clinic, day)
        for address in to:
            mail.send(to=address, subject=rendered.subject, text=rendered.text, html=rendered.html)
    except Exception:
        day.update(actions=[ReconciliationDay.emailed_at.remove()])
        raise
    logger.info("verifactu reconciliation email", extra={"clinic_id": clinic.clinic_id})
    return True


# --- reads for the routes ----------------------------------------------------------------


def list_discrepancies(principal: Principal, q: c.ReconciliationQuery) -> Page:
    """The clinic's records with an open discrepancy, in chain order."""
    pk = diff_pk(principal.clinic_id)
    start = decode_cursor(q.cursor, partition=("GSI1PK", pk))
    it = RecordItem.gsi1.query(pk, limit=q.limit, last_evaluated_key=start)
    items = [service.record_out(i) for i in it if isinstance(i, RecordItem)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def list_days(principal: Principal, q: c.ReconciliationQuery) -> Page:
    """The clinic's daily reconciliation summaries, newest first."""
    pk = clinic_pk(principal.clinic_id)
    start = decode_cursor(q.cursor, partition=("PK", pk))
    it = ReconciliationDay.query(
        pk,
        ReconciliationDay.SK.startswith("VFRCDAY#"),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=start,
    )
    items = [
        c.ReconciliationDayOut(
            day=d.day,
            checked_at=d.checked_at,
            status=d.status,
            chains=d.chains or {},
            discrepancies=d.discrepancies or [],
            unknown=d.unknown or [],
            emailed_at=d.emailed_at,
        )
        for d in it
        if isinstance(d, ReconciliationDay)
    ]
    return Page(items, encode_cursor(it.last_evaluated_key))
