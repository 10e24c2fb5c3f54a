"""A patient's GDPR erasure (art. 17 RGPD; ADR 1405): the preview, the request and the run.

* **Preview** (``GET /patients/{id}/erasure``): per kind of record (one
  :class:`~chalicelib.gdpr.erasers.Eraser` each), how many records, whether they are erased
  now or kept (blocked), the legal basis in plain words (es/en) and until when.
* **Request** (``POST``, the patient's full name typed as confirmation): one transaction
  writes the erasure, blocks the patient (out of the list index), deletes every patient
  search index entry and writes the ``gdpr.erasure_requested`` audit entry (ids and a reason
  code only); then ``gdpr.erasure_requested`` is published for the ``gdpr-erasure`` queue.
* **Run** (:func:`run`, the queue's worker): claims the erasure with a lease owned by the SQS
  message id; runs every eraser not yet in ``steps_done`` (erase now, or count what is kept),
  recording each step as it finishes, so a redelivered message does nothing twice and an
  interrupted run resumes where it stopped; writes the retention due entries; audits
  ``gdpr.erasure_completed`` (ids and counts).

How long kept data stays: the clinic's retention periods (:mod:`chalicelib.gdpr.retention`)
from the patient's last care episode (clinical) and last invoice (billing). The patient is
blocked, so these clocks cannot move afterwards: they are computed once, at the request.
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.core import audit, events
from chalicelib.core.api import Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.db import clinic_pk, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.gdpr import retention, schemas
from chalicelib.gdpr.erasers import ERASERS, Eraser
from chalicelib.gdpr.models import Erasure
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient, PatientIndex

ENTITY = "patient"
LEASE_S = 15 * 60
SYSTEM = {"type": "system", "id": "gdpr-erasure", "name": "GDPR erasure"}


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    return " ".join("".join(c for c in s if not unicodedata.combining(c)).lower().split())


def load(clinic_id: str, patient_id: str, consistent: bool = False) -> Erasure | None:
    try:
        return Erasure.get(*Erasure.key(clinic_id, patient_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def _patient_or_404(clinic_id: str, patient_id: str, e: Erasure | None) -> Patient | None:
    """The patient; once the retention erased them only the erasure is left (no 404 then)."""
    try:
        return patients.load(clinic_id, patient_id)
    except NotFound:
        if e is None:
            raise
        return None


# --- preview -----------------------------------------------------------------------------------


def basis(category: str, years: int) -> dict[str, str]:
    """The legal basis of what happens to a category, in plain words."""
    if category == "clinical":
        return {
            "basis": f"Clinical record: kept {years} years from the end of the last care "
            "episode (Ley 41/2002, art. 17.1), blocked: only for judges and authorities "
            "(LOPDGDD art. 32).",
            "basis_es": f"Historia clínica: se conserva {years} años desde el fin del último "
            "episodio asistencial (Ley 41/2002, art. 17.1), bloqueada: solo a disposición de "
            "jueces y autoridades (LOPDGDD art. 32).",
        }
    if category == "billing":
        return {
            "basis": f"Invoices and accounting records: kept {years} years (Código de Comercio "
            "art. 30; LGT arts. 66 and 70; VERI*FACTU, RD 1007/2023), with the name and tax id "
            "as issued, blocked (LOPDGDD art. 32).",
            "basis_es": f"Facturas y documentación contable: se conservan {years} años "
            "(Código de Comercio art. 30; LGT arts. 66 y 70; VERI*FACTU, RD 1007/2023), con el "
            "nombre y NIF tal como se emitieron, bloqueadas (LOPDGDD art. 32).",
        }
    return {
        "basis": "No legal duty to keep it: erased now (GDPR art. 17).",
        "basis_es": "Ninguna ley obliga a conservarlo: se suprime ahora (RGPD art. 17).",
    }


def _over(category: str) -> dict[str, str]:
    return {
        "basis": "Its retention period is already over: erased now (GDPR art. 17).",
        "basis_es": "Su plazo de conservación ya ha terminado: se suprime ahora (RGPD art. 17).",
    }


def _row(e: Eraser, count: int, until: dict[str, str], years: dict[str, int]) -> dict[str, Any]:
    kept_until = until.get(e.category) if e.category != "none" else None
    keep = kept_until is not None
    why = (
        basis(e.category, years.get(e.category, 0))
        if keep or e.category == "none"
        else (_over(e.category))
    )
    return {
        "kind": e.kind,
        "category": e.category,
        "label": str(e.label),
        "label_es": e.label.es,
        "count": count,
        "action": "keep" if keep else "erase",
        "until": kept_until,
        **why,
    }


def _plan(clinic_id: str, patient_id: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    years = retention.periods(clinic_id)
    until = retention.untils(clinic_id, patient_id, years)
    rows = []
    for e in ERASERS:
        n = e.count(clinic_id, patient_id)
        if n or e.kind == "identity":
            rows.append(_row(e, n, until, years))
    return rows, until


def erasure_out(e: Erasure) -> schemas.ErasureOut:
    return schemas.ErasureOut(
        erasure_id=e.erasure_id,
        status=e.status,  # type: ignore[arg-type]
        reason_code=e.reason_code,  # type: ignore[arg-type]
        created_at=e.created_at,
        finished_at=e.finished_at,
        until=dict(e.until or {}),
        report=[schemas.KindRow(**r) for r in (e.report or [])],
    )


def view(principal: Principal, patient_id: str) -> schemas.ErasureView:
    cid = principal.clinic_id
    e = load(cid, patient_id)
    _patient_or_404(cid, patient_id, e)
    if e is not None:
        return schemas.ErasureView(patient_id=patient_id, erasure=erasure_out(e), preview=None)
    rows, _ = _plan(cid, patient_id)
    return schemas.ErasureView(
        patient_id=patient_id, erasure=None, preview=[schemas.KindRow(**r) for r in rows]
    )


# --- request -----------------------------------------------------------------------------------


def request(principal: Principal, patient_id: str, data: schemas.ErasureIn) -> schemas.ErasureView:
    cid = principal.clinic_id
    p = patients.load(cid, patient_id)
    if load(cid, patient_id, consistent=True) is not None or p.blocked:
        raise _exists()
    if _fold(data.confirm_name) != _fold(patients.full_name(p)):
        raise Unprocessable(
            tr(
                "Type the patient's full name exactly as shown to confirm the erasure.",
                "Escribe el nombre completo del paciente tal como aparece para confirmar la "
                "supresión.",
            ),
            errors=[
                {
                    "field": "confirm_name",
                    "message": tr("does not match the patient's name", "no coincide con el nombre"),
                }
            ],
            code="GDPR_ERASURE_CONFIRMATION",
        )
    years = retention.periods(cid)
    until = retention.untils(cid, patient_id, years)
    at, eid = now(), new_id()
    e = Erasure(
        *Erasure.key(cid, patient_id),
        erasure_id=eid,
        patient_id=patient_id,
        status="pending",
        reason_code=data.reason_code,
        requested_by=principal.user_id,
        created_at=at,
        until=until,
        steps_done=[],
        report=[],
    )
    index = patients.index_keys(cid, patient_id, patients._values(cid, p))
    try:
        with transaction() as tx:
            tx.save(e, condition=Erasure.SK.does_not_exist())
            tx.update(
                p,
                actions=[
                    Patient.blocked.set(True),
                    Patient.blocked_at.set(at),
                    Patient.GSI1PK.remove(),
                    Patient.GSI1SK.remove(),
                    Patient.updated_at.set(at),
                ],
                condition=Patient.SK.exists() & (Patient.version == (p.version or 1)),
            )
            for sk in index:
                tx.delete(PatientIndex(clinic_pk(cid), sk))
            entry = audit.entry(
                cid,
                principal.actor,
                "gdpr.erasure_requested",
                ENTITY,
                patient_id,
                after={"erasure_id": eid, "reason_code": data.reason_code},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise _exists() from exc
    events.publish(
        "gdpr.erasure_requested", cid, principal.actor, erasure_id=eid, patient_id=patient_id
    )
    logger.info("gdpr erasure requested", extra={"erasure_id": eid, "patient_id": patient_id})
    return schemas.ErasureView(patient_id=patient_id, erasure=erasure_out(e), preview=None)


def _exists() -> Conflict:
    return Conflict(
        tr(
            "An erasure of this patient was already requested; its state and report are shown.",
            "Ya se solicitó la supresión de este paciente; se muestran su estado e informe.",
        ),
        code="GDPR_ERASURE_EXISTS",
    )


# --- run (the worker) -------------------------------------------------------------------------


def _claim(e: Erasure, owner: str) -> bool:
    t = int(time.time())
    cond = (Erasure.status == "pending") | (
        (Erasure.status == "running") & ((Erasure.lease_until < t) | (Erasure.lease_owner == owner))
    )
    try:
        e.update(
            actions=[
                Erasure.status.set("running"),
                Erasure.lease_owner.set(owner),
                Erasure.lease_until.set(t + LEASE_S),
                Erasure.started_at.set(e.started_at or now()),
            ],
            condition=cond,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def run(clinic_id: str, patient_id: str, owner: str) -> str:
    """Run (or resume) the patient's erasure; the outcome word for the log."""
    e = load(clinic_id, patient_id, consistent=True)
    if e is None:
        return "gone"
    if e.status not in ("pending", "running"):
        return "already_done"
    if not _claim(e, owner):
        return "claimed_elsewhere"
    years = retention.periods(clinic_id)
    until = dict(e.until or {})
    done = set(e.steps_done or [])
    for er in ERASERS:
        if er.kind in done:
            continue
        keep = er.category != "none" and until.get(er.category) is not None
        n = er.count(clinic_id, patient_id) if keep else er.erase(clinic_id, patient_id)
        row = _row(er, n, until, years)
        row["action"] = "kept" if keep else "erased"
        actions: list[Any] = [Erasure.steps_done.set(Erasure.steps_done.append([er.kind]))]
        if n or keep:
            actions.append(Erasure.report.set([*(e.report or []), row]))
        # The step and its line of the report together: a resumed run skips it.
        e.update(actions=actions, condition=Erasure.lease_owner == owner)
    for category, day in until.items():
        retention.schedule(clinic_id, patient_id, category, day)
    final = "done" if until else "purged"
    e.update(
        actions=[
            Erasure.status.set(final),
            Erasure.finished_at.set(now()),
            Erasure.lease_owner.remove(),
            Erasure.lease_until.remove(),
        ],
        condition=Erasure.lease_owner == owner,
    )
    counts = {r["kind"]: r["count"] for r in e.report or []}
    audit.record(
        clinic_id,
        SYSTEM,
        "gdpr.erasure_completed",
        ENTITY,
        patient_id,
        after={"erasure_id": e.erasure_id, "status": final, "until": until, "counts": counts},
    )
    events.publish(
        "gdpr.erasure_completed",
        clinic_id,
        SYSTEM,
        erasure_id=e.erasure_id,
        patient_id=patient_id,
        status=final,
    )
    return final
