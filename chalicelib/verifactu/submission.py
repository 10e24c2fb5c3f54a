"""The AEAT submission job: pending records of each due chain, to the AEAT, answers stored.

``run(now)`` (called every minute by ``functions/aeat_submit.py``):

1. Query ``VFDUE`` for chain heads whose due time has come (only chains with pending records
   are in that index), so the cost grows with the work that is due.
2. Per chain: skip with a clear status when the stack has no AEAT endpoint
   (``not_configured``, looked at again every 5 minutes) or the clinic has no valid
   certificate (``no_certificate``, an hour later or at once when one is uploaded).
3. Claim the chain (a versioned write that moves its due time 5 minutes on; a run that finds
   it claimed skips it), take up to 1,000 pending records in chain order, all generated for
   the same environment, build and validate the SOAP request, POST it over mutual TLS with
   the clinic certificate to that environment's endpoint (records generated while the clinic
   was in test go to the test service even after production is enabled: their QR points
   there). Records flagged ``incidencia`` (generated while the chain was retrying, or
   waiting when it started to) go in submissions of their own with Cabecera Incidencia=S
   (Orden HAC/1177/2024 art. 16.4; ADR 0207).
4. Answer -> each record accepted / accepted_with_errors / rejected with code, description,
   CSV and submission id (duplicates per ``RespuestaLinea.outcome``); a rejection blocks its
   series (``SeriesBlock``). The answer's TiempoEsperaEnvio sets the next due time (flow
   control: the wait, or at once with 1,000 pending).
5. No answer, an unexpected body or a Server fault -> retry with exponential backoff (stored
   ``next_attempt_at``; at least hourly) and the waiting records flagged ``incidencia``; a
   Client fault or a request that fails our own XSD validation ->
   the chain is held (``failed``, alert) until an admin releases it: resending the same
   message would fail the same way.

The run stops taking new chains when the Lambda has less time left than one submission may
take; the chains left stay due and the next run (a minute later) takes them. See ADR 0203.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib.core import scoping
from chalicelib.core.config import settings
from chalicelib.core.db import transaction
from chalicelib.core.ids import iso, new_id, now
from chalicelib.core.observability import logger
from chalicelib.identity.service import get_clinic
from chalicelib.verifactu import archive, certificates, service, transport
from chalicelib.verifactu.flow import MAX_REGISTROS_POR_ENVIO, may_submit
from chalicelib.verifactu.models import (
    DUE_PK,
    PENDING,
    REJECTED,
    ChainHead,
    ReconcileDue,
    RecordItem,
    SeriesBlock,
    Submission,
)
from chalicelib.verifactu.records import PersonaFisicaJuridicaES
from chalicelib.verifactu.response import (
    CODIGO_FECHA_GEN_ADELANTADA,
    RespuestaInvalida,
    RespuestaSuministro,
    SoapFault,
    parse_respuesta,
)
from chalicelib.verifactu.schemas import XsdValidationError
from chalicelib.verifactu.xml import Cabecera, RemisionVoluntaria, build_soap_request

LEASE = timedelta(minutes=5)
RECHECK = timedelta(hours=1)
RECHECK_NOT_CONFIGURED = timedelta(minutes=5)
#: Time one more chain may need: the HTTP timeout plus building and storing.
CHAIN_BUDGET_MS = (transport.TIMEOUT_S + 30) * 1000
BACKOFF_BASE_S = 60
#: Orden HAC/1177/2024 art. 16.4: retry "al menos una vez cada hora"; 59 minutes plus the
#: one-minute schedule keeps attempts at most an hour apart (ADR 0207).
BACKOFF_MAX_S = 3540
DEPLOYED_STAGES = ("dev", "prod")


def backoff(attempts: int) -> timedelta:
    """60 s, 120 s, 240 s, ... capped at 59 minutes (at least one attempt an hour)."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(0, attempts - 1), BACKOFF_MAX_S))


def configured() -> bool:
    """Deployed stages talk to the AEAT; a local/test stack only with an explicit override."""
    return bool(transport.override()) or settings().stage in DEPLOYED_STAGES


# --- head updates (versioned; a concurrent issue makes us re-read) ---------------------------


def _save_head(clinic_id: str, nif: str, at: datetime, change: Any) -> ChainHead | None:
    """Apply ``change(head)`` to a fresh read of the head and save it at version + 1."""
    for _ in range(30):
        head = service.load_head(clinic_id, nif)
        if int(head.version or 0) == 0:
            return None
        if change(head) is False:
            return head
        read = int(head.version)
        head.version = read + 1
        head.updated_at = at
        service.set_due(head, at)
        try:
            head.save(condition=ChainHead.version == read)
            return head
        except PutError:
            continue
    logger.warning("verifactu head busy", extra={"clinic_id": clinic_id})
    return None


def _park(
    clinic_id: str, nif: str, at: datetime, status: str, reason: str, wait: timedelta = RECHECK
) -> None:
    def change(h: ChainHead) -> None:
        h.submission_status, h.last_error = status, reason or None
        h.next_attempt_at = at + wait

    _save_head(clinic_id, nif, at, change)


def _retry(clinic_id: str, nif: str, at: datetime, reason: str) -> None:
    def change(h: ChainHead) -> None:
        h.attempts = int(h.attempts or 0) + 1
        h.next_attempt_at = at + backoff(int(h.attempts))
        h.submission_status, h.last_error = "retrying", reason

    head = _save_head(clinic_id, nif, at, change)
    if head is None:
        return
    try:
        _mark_incident(clinic_id, nif, int(head.seq or 0))
    except Exception:  # noqa: BLE001 - the next retry completes it; other chains go on
        logger.exception("verifactu incident flags not written", extra={"clinic_id": clinic_id})


def _mark_incident(clinic_id: str, nif: str, last_seq: int) -> None:
    """The chain is retrying: every record still waiting is one whose submission a technical
    incident prevented (Orden HAC/1177/2024 art. 16.4), so it goes with Incidencia=S. Records
    generated from now on get the flag when they are written (``service.append_record`` sees
    the head ``retrying``); the head write above fixed ``last_seq``, so nothing falls between.
    A consistent read of the chain from its first pending record; already flagged ones are
    skipped, so a run that crashed half-way is completed by the next retry."""
    first = next(
        iter(
            RecordItem.gsi1.query(
                RecordItem.pending_pk(clinic_id),
                RecordItem.GSI1SK.startswith(f"{nif}#"),
                limit=1,
            )
        ),
        None,
    )
    if not isinstance(first, RecordItem) or int(first.seq) > last_seq:
        return
    lower = RecordItem.key(clinic_id, nif, int(first.seq))[1]
    upper = RecordItem.key(clinic_id, nif, last_seq)[1]
    pk = RecordItem.key(clinic_id, nif, last_seq)[0]
    for item in RecordItem.query(pk, RecordItem.SK.between(lower, upper), consistent_read=True):
        if not isinstance(item, RecordItem) or item.status != PENDING or item.incidencia:
            continue
        try:
            item.update(
                actions=[RecordItem.incidencia.set(True)], condition=RecordItem.status == PENDING
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # answered meanwhile: its submission is over


def _hold(clinic_id: str, nif: str, at: datetime, reason: str) -> None:
    def change(h: ChainHead) -> None:
        h.held, h.submission_status, h.last_error = True, "failed", reason
        h.next_attempt_at = None

    _save_head(clinic_id, nif, at, change)
    # The reason stays in the head (shown to the clinic's admin): an AEAT message may quote a
    # patient's tax id, which the logs never carry.
    logger.error("verifactu submission failed; chain held", extra={"clinic_id": clinic_id})


def wake(clinic_id: str, *, release: bool = False) -> None:
    """Look at the clinic's chains now (a certificate arrived, the environment changed, or an
    admin released a held chain)."""
    at = now()
    for h in service.heads(clinic_id):

        def change(head: ChainHead) -> bool:
            if head.held and not release:
                return False
            head.held = False
            head.attempts = 0
            head.next_attempt_at = None
            head.last_error = None
            head.submission_status = "waiting" if int(head.pending or 0) else "idle"
            return True

        _save_head(clinic_id, h.nif, at, change)


# --- the job ---------------------------------------------------------------------------------


def due_heads(at: datetime) -> list[tuple[str, str]]:
    upper = iso(at) + "#~"
    return [
        (h.clinic_id, h.nif)
        for h in ChainHead.gsi1.query(DUE_PK, ChainHead.GSI1SK <= upper)  # noqa: SIM300
        if isinstance(h, ChainHead)
    ]


def run(
    at: datetime | None = None, *, time_left_ms: Callable[[], int] | None = None
) -> dict[str, int]:
    """One pass over the chains that are due. Returns counts per outcome (for the log).

    ``time_left_ms`` (the Lambda context's ``get_remaining_time_in_millis``) stops the pass
    before a chain that might not finish in time; it stays due for the next run.
    """
    at = at or now()
    started = now()
    summary: dict[str, int] = {}
    for clinic_id, nif in due_heads(at):
        if time_left_ms is not None and time_left_ms() < CHAIN_BUDGET_MS:
            summary["deferred"] = summary.get("deferred", 0) + 1
            continue
        chain_at = at + (now() - started)  # a long run keeps its clock
        with scoping.for_clinic(clinic_id):  # the chain's clinic's credentials (ADR 0012)
            try:
                outcome = submit_chain(clinic_id, nif, chain_at)
            except Exception:  # noqa: BLE001 - one clinic's failure must not stop the others
                logger.exception(
                    "verifactu chain submission crashed", extra={"clinic_id": clinic_id}
                )
                _retry(clinic_id, nif, chain_at, "internal error while submitting; retrying")
                outcome = "error"
        summary[outcome] = summary.get(outcome, 0) + 1
    return summary


def _pending(clinic_id: str, nif: str) -> list[RecordItem]:
    items = RecordItem.gsi1.query(
        RecordItem.pending_pk(clinic_id),
        RecordItem.GSI1SK.startswith(f"{nif}#"),
        limit=MAX_REGISTROS_POR_ENVIO,
    )
    return [i for i in items if isinstance(i, RecordItem) and i.status == PENDING]


def _batch(items: list[RecordItem]) -> list[RecordItem]:
    """Chain order, at most 1,000, all of the first record's environment and incident flag
    (the Cabecera's Incidencia speaks for every record of the submission: ADR 0207), stopping
    before a record whose key (NIF, number, date, operation) is already in the batch (the
    XSD/AEAT want each once per submission)."""
    seen: set[tuple[str, str]] = set()
    out: list[RecordItem] = []
    for item in items[:MAX_REGISTROS_POR_ENVIO]:
        key = (item.num_serie + "|" + item.fecha_expedicion, item.kind)
        if key in seen or (
            out
            and (
                item.environment != out[0].environment
                or bool(item.incidencia) != bool(out[0].incidencia)
            )
        ):
            break
        seen.add(key)
        out.append(item)
    return out


def submit_chain(clinic_id: str, nif: str, at: datetime) -> str:
    head = service.load_head(clinic_id, nif)
    due = service.due_at(head, at)
    if due is None or due > at:
        _save_head(clinic_id, nif, at, lambda h: None)  # re-file the due index
        return "not_due"
    if not configured():
        _park(
            clinic_id,
            nif,
            at,
            "not_configured",
            "No AEAT endpoint in this stack (AEAT_ENDPOINT_OVERRIDE unset): nothing is sent.",
            RECHECK_NOT_CONFIGURED,
        )
        return "not_configured"
    cert = certificates.find(clinic_id)
    if cert is None or cert.not_after <= at:
        _park(
            clinic_id,
            nif,
            at,
            "no_certificate",
            "Upload the clinic's AEAT certificate to send its VERI*FACTU records."
            if cert is None
            else "The clinic's AEAT certificate has expired: upload a new one.",
        )
        return "no_certificate"
    pending = _pending(clinic_id, nif)
    if not pending:
        # The pending index is eventually consistent: a record written a moment ago may not be
        # in it yet. Only when the chain's last record (a consistent read) is answered is the
        # count really stale.
        try:
            last = RecordItem.get(
                *RecordItem.key(clinic_id, nif, int(head.seq or 0)), consistent_read=True
            )
        except RecordItem.DoesNotExist:
            last = None
        if last is not None and last.status == PENDING:
            _park(clinic_id, nif, at, "waiting", "", timedelta(seconds=BACKOFF_BASE_S))
            return "not_due"
        _save_head(clinic_id, nif, at, lambda h: setattr(h, "pending", 0))
        return "empty"
    # Flow control (Orden art. 16.2), on top of the due time (which also holds the backoff).
    if not may_submit(at, head.last_sent_at, head.tiempo_espera, int(head.pending or 0)):
        return "not_due"

    # Claim: moves the due time on by the lease, so an overlapping run skips this chain.
    claimed = False

    def claim(h: ChainHead) -> bool:
        nonlocal claimed
        claimed = False
        due = service.due_at(h, at)
        if due is None or due > at:
            return False  # another run claimed it (or it was answered) since we read it
        h.next_attempt_at = at + LEASE
        claimed = True
        return True

    if _save_head(clinic_id, nif, at, claim) is None or not claimed:
        return "busy"

    batch = _batch(pending)
    clinic = get_clinic(clinic_id)
    environment = batch[0].environment
    incidencia = bool(batch[0].incidencia)
    url = transport.endpoint(environment)
    sub_id = new_id()
    sub = Submission(
        *Submission.key(clinic_id, sub_id),
        submission_id=sub_id,
        nif=nif,
        environment=environment,
        sent_at=at,
        record_count=len(batch),
        first_seq=int(batch[0].seq),
        last_seq=int(batch[-1].seq),
        outcome="failed",
        incidencia=incidencia or None,
    )
    try:
        models = [service.as_model(i) for i in batch]
        cabecera = Cabecera(
            ObligadoEmision=PersonaFisicaJuridicaES(
                NombreRazon=(clinic.legal_name or clinic.name)[:120], NIF=nif
            ),
            # DsRegistro: Incidencia "S" when a technical incident affected the submission of
            # these records; absent means "N" (so it is left out otherwise). ADR 0207.
            RemisionVoluntaria=RemisionVoluntaria(Incidencia="S") if incidencia else None,
        )
        body = build_soap_request(cabecera, models, validate=True)
    except (XsdValidationError, ValueError) as exc:
        detail = service.plain_errors(exc)  # never pydantic's dump on the admin's screen
        return _finish_failed(sub, clinic_id, nif, at, f"request not valid: {detail}"[:1000])
    try:
        key_password = transport.new_key_password()
        chain_pem, key_pem = certificates.client_pem(cert, clinic_id, key_password)
    except Exception:  # noqa: BLE001 - the certificate no longer opens: an admin must act
        return _finish_failed(sub, clinic_id, nif, at, "the stored certificate cannot be opened")
    try:  # the WORM copy of each record first: nothing leaves without it (ADR 0206)
        archive.store_batch(batch, models, body)
    except archive.ArchiveError as exc:
        finish = _finish_retry if exc.retryable else _finish_failed
        return finish(sub, clinic_id, nif, at, str(exc)[:1000])
    logger.info(
        "verifactu submission",
        extra={"clinic_id": clinic_id, "records": len(batch), "environment": environment},
    )
    try:
        answer = transport.post_soap(url, body, chain_pem, key_pem, key_password)
        respuesta = parse_respuesta(answer.body)
    except transport.TransportError as exc:
        return _finish_retry(sub, clinic_id, nif, at, str(exc))
    except RespuestaInvalida as exc:
        return _finish_retry(sub, clinic_id, nif, at, f"unexpected answer: {exc}"[:1000])
    except SoapFault as fault:
        reason = f"SOAP {fault.faultcode}: {fault.faultstring}"[:1000]
        if fault.retryable:
            return _finish_retry(sub, clinic_id, nif, at, reason)
        return _finish_failed(sub, clinic_id, nif, at, reason)
    return _apply(sub, clinic_id, nif, at, batch, models, respuesta)


def _finish_retry(sub: Submission, clinic_id: str, nif: str, at: datetime, reason: str) -> str:
    sub.outcome, sub.error = "retry", reason
    sub.save()
    _retry(clinic_id, nif, at, reason)
    logger.warning("verifactu submission will be retried", extra={"clinic_id": clinic_id})
    return "retry"


def _finish_failed(sub: Submission, clinic_id: str, nif: str, at: datetime, reason: str) -> str:
    sub.outcome, sub.error = "failed", reason
    sub.save()
    _hold(clinic_id, nif, at, reason)
    return "failed"


def _mark(
    item: RecordItem,
    outcome: str,
    linea: Any,
    respuesta: RespuestaSuministro,
    sub_id: str,
    at: datetime,
) -> bool:
    duplicado = linea.RegistroDuplicado
    code = linea.CodigoErrorRegistro
    description = linea.DescripcionErrorRegistro
    actions = [
        RecordItem.status.set(outcome),
        RecordItem.csv.set(respuesta.CSV) if respuesta.CSV else RecordItem.csv.remove(),
        RecordItem.submission_id.set(sub_id),
        RecordItem.answered_at.set(at),
        RecordItem.GSI1PK.remove(),
        RecordItem.GSI1SK.remove(),
        RecordItem.GSI3PK.set(RecordItem.status_pk(item.clinic_id, outcome)),
    ]
    actions.append(
        RecordItem.aeat_code.set(code) if code is not None else RecordItem.aeat_code.remove()
    )
    actions.append(
        RecordItem.aeat_description.set(description[:1000])
        if description
        else RecordItem.aeat_description.remove()
    )
    if duplicado is not None:
        actions.append(RecordItem.duplicate.set(duplicado.model_dump(mode="json")))
    if outcome != REJECTED:  # one item: a conditional update is atomic on its own
        try:
            item.update(actions=actions, condition=RecordItem.status == PENDING)
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False  # answered by an overlapping run
            raise
    for _ in range(20):  # a rejection also blocks the series: both or neither
        try:
            with transaction() as tx:
                tx.update(item, actions=actions, condition=RecordItem.status == PENDING)
                if outcome == REJECTED:
                    _block(tx, item, f"{code}: {description or ''}"[:300])
            return True
        except TransactWriteError:
            current = RecordItem.get(item.PK, item.SK, consistent_read=True)
            if current.status != PENDING:
                return False  # answered by an overlapping run
    return False


def _block(tx: Any, item: RecordItem, why: str) -> None:
    try:
        block = SeriesBlock.get(*SeriesBlock.key(item.clinic_id, item.series), consistent_read=True)
        count = int(block.count or 0)
        condition = SeriesBlock.count == count
    except SeriesBlock.DoesNotExist:
        block = SeriesBlock(
            *SeriesBlock.key(item.clinic_id, item.series), series=item.series, count=0, records={}
        )
        count = 0
        condition = SeriesBlock.SK.does_not_exist()
    block.records = {**(block.records or {}), item.record_id: why}
    block.count = count + 1
    tx.save(block, condition=condition)


def _apply(
    sub: Submission,
    clinic_id: str,
    nif: str,
    at: datetime,
    batch: list[RecordItem],
    models: list[Any],
    respuesta: RespuestaSuministro,
) -> str:
    lines = respuesta.por_clave()
    answered = 0
    rejected = 0
    ahead = 0  # 2004: our FechaHoraHusoGenRegistro was ahead of the AEAT's clock
    for item, model in zip(batch, models, strict=True):
        linea = lines.get(model.clave)
        if linea is None:
            continue  # not answered: stays pending, goes again
        outcome = linea.outcome
        if _mark(item, outcome, linea, respuesta, sub.submission_id, at):
            answered += 1
            rejected += outcome == REJECTED
            ahead += linea.CodigoErrorRegistro == CODIGO_FECHA_GEN_ADELANTADA
    if ahead:
        # Accepted with errors and exempt from subsanación (validations 3.1.3.20 and 4.3.1), but
        # the server clock dated records later than the AEAT's own: Orden art. 7.f wants it
        # exact within a minute. An operator must look at it (ADR 0207).
        logger.error(
            "verifactu generation time ahead of the AEAT's clock (2004)",
            extra={"clinic_id": clinic_id, "records": ahead},
        )
    sub.outcome = "answered"
    sub.estado_envio = respuesta.EstadoEnvio
    sub.csv = respuesta.CSV
    sub.tiempo_espera = respuesta.TiempoEsperaEnvio
    sub.save()

    def change(h: ChainHead) -> None:
        h.pending = max(0, int(h.pending or 0) - answered)
        h.last_sent_at = at
        h.tiempo_espera = respuesta.TiempoEsperaEnvio
        h.attempts = 0
        h.next_attempt_at = None
        problems = []
        if rejected:
            problems.append(
                f"{rejected} record(s) rejected by the AEAT; correct them with a subsanación."
            )
        if ahead:
            problems.append(
                f"The AEAT found the generation time of {ahead} record(s) ahead of its clock "
                "(2004): they are accepted and need no subsanación, but the system clock must "
                "be checked."
            )
        h.last_error = " ".join(problems) or None
        h.submission_status = "waiting" if h.pending else "idle"

    _save_head(clinic_id, nif, at, change)
    ReconcileDue.note(clinic_id, nif, at)  # compared with the AEAT for 7 days (ADR 0205)
    logger.info(
        "verifactu answer",
        extra={
            "clinic_id": clinic_id,
            "estado": respuesta.EstadoEnvio,
            "answered": answered,
            "rejected": rejected,
            "espera": respuesta.TiempoEsperaEnvio,
        },
    )
    return "answered"
