"""The export worker: ``gdpr.export_requested`` (the ``gdpr-export`` queue) -> the patient's
ZIP in S3, the export ``ready`` (or ``failed`` with a reason a person can act on) and
``gdpr.export_ready`` / ``gdpr.export_failed`` published (ADR 1401).

At least once: the export is claimed with a lease owned by the SQS message id, so a
redelivered message finds it ``building`` (someone else's lease), ``ready`` or ``failed``
and builds nothing twice; a lease that ran out (a worker that died) is taken over.
The ZIP is written to a temporary file, then uploaded (memory stays bounded whatever the
size of the patient's images) and tagged for the 7-day lifecycle rule.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.core import audit, events, storage
from chalicelib.core.db import transaction
from chalicelib.core.errors import NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import iso, now
from chalicelib.core.observability import logger
from chalicelib.gdpr import collect
from chalicelib.gdpr.archive import Archive, TooLarge
from chalicelib.gdpr.models import Export, ExportRunning, export_key
from chalicelib.identity.service import get_clinic
from chalicelib.patients.service import full_name
from chalicelib.patients.service import load as load_patient

LEASE_S = 15 * 60  # the function's timeout: a lease past it belongs to a dead worker
EXPORT_TAG = ("cuspide-class", "gdpr-export")
"""Tag of every export ZIP; the media bucket's lifecycle deletes tagged objects after 7 days
(infra/resources.py)."""


MAX_MB = 2048


def max_bytes() -> int:
    """The cap on what one export holds (before compression): 2 GB, within the function's
    ephemeral storage (4 GB) for the ZIP."""
    return MAX_MB * 1024 * 1024


def _claim(e: Export, owner: str) -> bool:
    t = int(time.time())
    actions = [
        Export.status.set("building"),
        Export.lease_owner.set(owner),
        Export.lease_until.set(t + LEASE_S),
        Export.started_at.set(now()),
    ]
    cond = (Export.status == "pending") | ((Export.status == "building") & (Export.lease_until < t))
    try:
        e.update(actions=actions, condition=cond)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _release(e: Export, owner: str) -> None:
    """Hand the claim back before a transient error is retried (best effort)."""
    try:
        e.update(
            actions=[
                Export.status.set("pending"),
                Export.lease_owner.remove(),
                Export.lease_until.remove(),
            ],
            condition=(Export.status == "building") & (Export.lease_owner == owner),
        )
    except Exception as exc:  # noqa: BLE001 - the original error is the one to report
        logger.warning("could not release the export", extra={"error": type(exc).__name__})


def _finish(e: Export, owner: str, status: str, entry: Any, **fields: Any) -> None:
    """The export ends: its fields, the patient's running guard freed, the audit entry."""
    cid, pid, eid = e.PK[2:], e.patient_id, e.export_id  # PK is C#<clinic id>
    actions = [
        Export.status.set(status),
        Export.finished_at.set(now()),
        Export.lease_owner.remove(),
        Export.lease_until.remove(),
    ]
    actions += [getattr(Export, k).set(v) for k, v in fields.items()]
    with transaction() as tx:
        tx.update(
            e,
            actions=actions,
            condition=(Export.status == "building") & (Export.lease_owner == owner),
        )
        tx.delete(
            ExportRunning(*ExportRunning.key(cid, pid)),
            condition=ExportRunning.export_id == eid,
        )
        tx.save(entry)


def on_requested(detail: dict[str, Any], message_id: str) -> str:
    cid = detail.get("clinic_id")
    pid, eid = detail.get("patient_id"), detail.get("export_id")
    if not (isinstance(cid, str) and isinstance(pid, str) and isinstance(eid, str)):
        return "ignored"
    try:
        e = Export.get(*Export.key(cid, pid, eid), consistent_read=True)
    except DoesNotExist:
        return "gone"
    if e.status in ("ready", "failed"):
        return f"already {e.status}"
    if not _claim(e, message_id):
        return "taken"
    e.refresh(consistent_read=True)
    try:
        outcome = _build(e, cid)
    except TooLarge:
        cap = max_bytes() // (1024 * 1024)
        _fail(
            e,
            message_id,
            "too_large",
            tr(
                f"The patient's files add up to more than {cap} MB, the most one export may "
                "hold. The images and documents can be downloaded one by one from the "
                "patient's Images and Documents tabs; ask support to raise the limit.",
                f"Los archivos del paciente suman más de {cap} MB, lo máximo que cabe en una "
                "exportación. Las imágenes y documentos se pueden descargar uno a uno en las "
                "pestañas Imágenes y Documentos del paciente; pide a soporte que suba el límite.",
            ),
        )
        return "failed: too_large"
    except NotFound:
        _fail(
            e,
            message_id,
            "patient_gone",
            tr(
                "The patient is no longer in the clinic's records, so there was nothing to export.",
                "El paciente ya no está en los registros de la clínica: no había nada que "
                "exportar.",
            ),
        )
        return "failed: patient_gone"
    except Exception as exc:
        if storage.is_transient(exc):
            _release(e, message_id)
            raise  # SQS retries it
        logger.exception("export failed", extra={"export_id": eid})
        _fail(
            e,
            message_id,
            "error",
            tr(
                "The export could not be built because of an error on our side. Start a new "
                "export; if it fails again, contact support with this export's id.",
                "No se pudo preparar la exportación por un error nuestro. Inicia una nueva; "
                "si vuelve a fallar, contacta con soporte indicando el id de esta exportación.",
            ),
        )
        return "failed: error"
    return outcome


def _fail(e: Export, owner: str, code: str, reason: Any) -> None:
    entry = audit.entry(
        e.PK[2:],
        collect.ACTOR,
        "gdpr.export.failed",
        "patient",
        e.patient_id,
        after={"export_id": e.export_id, "reason_code": code},
    )
    _finish(e, owner, "failed", entry, reason_code=code, reason=str(reason), reason_es=reason.es)
    events.publish(
        "gdpr.export_failed",
        e.PK[2:],
        collect.ACTOR,
        export_id=e.export_id,
        patient_id=e.patient_id,
        status="failed",
        reason_code=code,
    )


def _build(e: Export, cid: str) -> str:
    clinic = get_clinic(cid)
    lang = e.language or clinic.language or "es"
    who = collect.exporter(cid, clinic.plan)
    patient = load_patient(cid, e.patient_id)
    with tempfile.TemporaryFile(prefix="gdpr-export-") as tmp:
        archive = Archive(tmp, max_bytes=max_bytes())
        ctx = collect.Context(who, e.patient_id, lang, archive, {})
        try:
            collect.patient_section(ctx)
            for section in collect.SECTIONS:
                section(ctx)
        except BaseException:
            archive.discard()
            raise
        header = {
            "format": "cuspide-gdpr-export/1",
            "export_id": e.export_id,
            "clinic_name": clinic.name,
            "patient_id": e.patient_id,
            "patient_name": full_name(patient),
            "exported_at": iso(now()),
            "language": lang,
            "sections": ctx.counts,
        }
        files = archive.close(header, lang)
        size = tmp.tell()
        storage.upload_file(
            export_key(cid, e.export_id),
            tmp,
            content_type="application/zip",
            tags=dict([EXPORT_TAG]),
        )
    entry = audit.entry(
        cid,
        collect.ACTOR,
        "gdpr.export.ready",
        "patient",
        e.patient_id,
        after={"export_id": e.export_id, "size": size},
    )
    _finish(e, e.lease_owner or "", "ready", entry, size=size, files=files, sections=ctx.counts)
    events.publish(
        "gdpr.export_ready",
        cid,
        collect.ACTOR,
        export_id=e.export_id,
        patient_id=e.patient_id,
        status="ready",
    )
    return "ready"
