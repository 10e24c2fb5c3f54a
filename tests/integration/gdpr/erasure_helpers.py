"""Helpers of the GDPR erasure tests: a patient with data in every module, the queue
delivery, S3 listings."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.comms.models import Message
from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id, now
from functions.gdpr_erasure import handler
from infra.local.workers import FakeLambdaContext
from tests.integration.agenda.conftest import at, future_day
from tests.integration.imaging.conftest import upload
from tests.unit.imaging.imaging_samples import PDF


def deliver(detail: dict, message_id: str | None = None) -> dict:
    body = {"source": "cuspide", "detail-type": "gdpr.erasure_requested", "detail": detail}
    record = {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:gdpr-erasure",
        "awsRegion": "local",
    }
    return handler({"Records": [record]}, FakeLambdaContext("gdpr-erasure"))


def requested(published: list, patient_id: str) -> dict:
    return next(
        d for n, d in published if n == "gdpr.erasure_requested" and d["patient_id"] == patient_id
    )


def objects(prefix: str) -> list[str]:
    """Every version and delete marker under the prefix (the bucket is versioned)."""
    s3 = aws.client("s3")
    r = s3.list_object_versions(Bucket=settings().media_bucket, Prefix=prefix)
    return [v["Key"] for v in (r.get("Versions") or []) + (r.get("DeleteMarkers") or [])]


def ok(r: Any, *status: int) -> Any:
    assert r.status in (status or (200, 201)), r.body
    return r.json().get("data") if r.body else None


def fill(api: Any, clinic: Any, billing: Any, pid: str) -> dict[str, str]:
    """Medical history, a chart finding, a note, a document, a budget, an issued invoice, an
    email consent, a message, a past and a future appointment."""
    t = clinic.admin_token
    ok(api.put(f"/patients/{pid}/medical", {"allergies": [{"substance": "Látex"}]}, token=t))
    ok(
        api.post(
            f"/patients/{pid}/chart/findings",
            {"code": "caries", "tooth": 36, "surfaces": ["O"]},
            token=t,
        )
    )
    ok(api.post(f"/patients/{pid}/notes", {"kind": "free", "text": "Dolor molar fuerte"}, token=t))
    body = {
        "type": "consent",
        "title": "Consentimiento implante",
        "filename": "consentimiento.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    d = ok(api.post(f"/patients/{pid}/documents", body, token=t), 201)
    upload(d["upload"], PDF)
    did = d["document"]["document_id"]
    ok(api.post(f"/patients/{pid}/documents/{did}/complete", token=t))
    tid = billing.treatment(f"E{uuid.uuid4().hex[:6].upper()}", "60.00")
    billing.budget(pid, [{"treatment_id": tid}])
    inv = billing.invoice(pid, [{"treatment_id": tid}])
    billing.issue(inv["invoice_id"])
    ok(
        api.put(
            f"/comms/patients/{pid}/consents/email",
            {"granted": True, "source": "paper_form"},
            token=t,
        )
    )
    at_ = now()
    Message(
        *Message.key(clinic.clinic_id, (mid := new_id())),
        message_id=mid,
        patient_id=pid,
        channel="email",
        direction="out",
        kind="reminder",
        status="sent",
        subject="Recordatorio",
        created_at=at_,
        updated_at=at_,
        GSI1PK=Message.patient_pk(clinic.clinic_id, pid),
        GSI1SK=mid,
    ).save()
    cabs = ok(api.get("/agenda/cabinets", token=t))
    if not cabs:
        cabs = [ok(api.post("/agenda/cabinets", {"name": "G1", "position": 0}, token=t), 201)]
    appt = {
        "patient_id": pid,
        "professional_id": clinic.admin_id,
        "cabinet_id": cabs[0]["cabinet_id"],
        "duration_min": 30,
        "reason": "Revisión",
    }
    future = ok(
        api.post("/appointments", {**appt, "start": at(future_day(1), "10:00")}, token=t), 201
    )
    return {"document_id": did, "invoice_id": inv["invoice_id"], "future": future["appointment_id"]}
