"""GDPR exports for the clinic's staff: ask for one (at most one running per patient), list a
patient's exports and read one, with a short-lived download link once it is ready (ADR 1401).

Asking writes the export, the patient's running guard and the audit entry in one transaction,
then publishes ``gdpr.export_requested`` (ids only); the ``gdpr-export`` queue's worker
(:mod:`chalicelib.gdpr.worker`) builds the ZIP. Every download link handed out is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, events, storage
from chalicelib.core.api import Page, Principal
from chalicelib.core.db import clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.gdpr import schemas
from chalicelib.gdpr.models import EXPORT_DAYS, RUNNING_S, Export, ExportRunning, export_key
from chalicelib.identity.service import get_clinic
from chalicelib.patients import service as patients

ENTITY = "patient"  # audited on the patient, so the patient's history shows its exports
DOWNLOAD_TTL_S = 300
"""A download link works for five minutes: long enough to start it, short if it leaks."""


def not_found() -> NotFound:
    return NotFound(
        tr(
            "No export with that id for this patient in this clinic.",
            "No hay ninguna exportación con ese id para este paciente en esta clínica.",
        ),
        code="GDPR_EXPORT_NOT_FOUND",
    )


def load(clinic_id: str, patient_id: str, export_id: str, consistent: bool = False) -> Export:
    try:
        return Export.get(*Export.key(clinic_id, patient_id, export_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise not_found() from exc


def status_of(e: Export) -> str:
    # DynamoDB's TTL deletes within days, not on the second: past its date it is gone.
    if now() >= e.valid_until:
        return "expired"
    return e.status


def export_out(e: Export) -> schemas.ExportOut:
    return schemas.ExportOut(
        export_id=e.export_id,
        patient_id=e.patient_id,
        status=status_of(e),  # type: ignore[arg-type]
        reason=e.reason,
        reason_es=e.reason_es,
        reason_code=e.reason_code,
        requested_by_name=e.requested_by_name,
        created_at=e.created_at,
        finished_at=e.finished_at,
        valid_until=e.valid_until,
        size=int(e.size) if e.size is not None else None,
        files=int(e.files) if e.files is not None else None,
        sections={k: int(v) for k, v in (e.sections or {}).items()} or None,
    )


def start(principal: Principal, patient_id: str) -> schemas.ExportOut:
    cid = principal.clinic_id
    patients.load(cid, patient_id)  # 404 for another clinic's patient
    at = now()
    eid = new_id()
    valid_until = at + timedelta(days=EXPORT_DAYS)
    export = Export(
        *Export.key(cid, patient_id, eid),
        export_id=eid,
        patient_id=patient_id,
        status="pending",
        requested_by=principal.user_id,
        requested_by_name=principal.name or None,
        language=get_clinic(cid).language or "es",
        created_at=at,
        valid_until=valid_until,
        expires_at=valid_until,
    )
    epoch = int(at.timestamp())
    running = ExportRunning(
        *ExportRunning.key(cid, patient_id),
        export_id=eid,
        until=epoch + RUNNING_S,
        expires_at=at + timedelta(seconds=RUNNING_S),
    )
    try:
        with transaction() as tx:
            tx.save(export, condition=Export.SK.does_not_exist())
            tx.save(
                running,
                condition=ExportRunning.SK.does_not_exist() | (ExportRunning.until < epoch),
            )
            tx.save(
                audit.entry(
                    cid,
                    principal.actor,
                    "gdpr.export.requested",
                    ENTITY,
                    patient_id,
                    after={"export_id": eid},
                )
            )
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "An export of this patient's data is already being prepared; wait for it to "
                "finish (it is listed below) before asking for another.",
                "Ya se está preparando una exportación de los datos de este paciente; espera a "
                "que termine (aparece en la lista) antes de pedir otra.",
            ),
            code="GDPR_EXPORT_RUNNING",
        ) from exc
    events.publish(
        "gdpr.export_requested", cid, principal.actor, export_id=eid, patient_id=patient_id
    )
    return export_out(export)


def list_exports(principal: Principal, patient_id: str, q: schemas.ExportQuery) -> Page:
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    pk = clinic_pk(cid)
    it = Export.query(
        pk,
        Export.SK.startswith(Export.prefix(patient_id)),
        scan_index_forward=False,
        limit=q.limit,
        last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
    )
    items = [export_out(e) for e in it if isinstance(e, Export)]
    return Page(items, encode_cursor(it.last_evaluated_key))


def get(principal: Principal, patient_id: str, export_id: str) -> schemas.ExportOut:
    """The export; once ready, with a download link (each link handed out is audited)."""
    cid = principal.clinic_id
    patients.load(cid, patient_id)
    e = load(cid, patient_id, export_id)
    out = export_out(e)
    if out.status == "ready":
        url, until = storage.presigned_get(
            export_key(cid, export_id),
            content_type="application/zip",
            cache_control="private, no-store",
            filename=download_name(e),
            attachment=True,
            expires_in=DOWNLOAD_TTL_S,
        )
        audit.record(
            cid,
            principal.actor,
            "gdpr.export.downloaded",
            ENTITY,
            patient_id,
            after={"export_id": export_id},
        )
        out.download_url, out.download_expires_at = url, until
    return out


def download_name(e: Export) -> str:
    day = e.created_at.strftime("%Y%m%d")
    word = "datos-paciente" if e.language == "es" else "patient-data"
    return f"{word}-{e.patient_id}-{day}.zip"


def reason_fields(code: str, en: str, es: str) -> dict[str, Any]:
    return {"reason_code": code, "reason": en, "reason_es": es}
