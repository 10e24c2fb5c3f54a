"""The one description of Cúspide's AWS resources.

Both the CDK stack (``infra/stack.py``) and the local stack's provisioner (``infra/local``)
build from these definitions, so the deployed system and the laptop system cannot drift:
same table keys and GSIs, same queues and DLQs, same rules and event patterns, same schedules.

Names are derived from the stage (``dev``, ``prod``, ``local``, ``test``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_SOURCE = "cuspide"
"""``source`` of every domain event put on the bus."""

GDPR_EXPORT_TAG = ("cuspide-class", "gdpr-export")
"""(key, value) of the tag every GDPR export ZIP carries (``clinics/<clinic_id>/gdpr-exports/
<export id>/export.zip``): the lifecycle rule deletes tagged objects after
GDPR_EXPORT_DAYS. A tag, not a prefix, because the ZIP sits under its clinic's prefix, which
no prefix common to every clinic's exports can match (ADR 1401)."""

GDPR_EXPORT_DAYS = 7
"""How long a patient's data export is kept (the ZIP; the item has the same TTL)."""

ORIGINAL_OBJECT_TAG = ("cuspide-class", "original")
"""(key, value) of the S3 object tag every uploaded original carries (the presigned POST's
``tagging`` field sets it). The media bucket's lifecycle moves only objects with this tag to
colder storage: S3 lifecycle filters match prefixes and tags, and an original's key
(``clinics/<clinic_id>/uploads/<image_id>/original``) has no prefix common to originals only.
See docs/adr/0903-media-lifecycle-by-tag.md."""


@dataclass(frozen=True)
class Transition:
    storage_class: str  # S3's name: STANDARD_IA, GLACIER_IR, ...
    days: int


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule of a bucket, in terms both the CDK stack and the local provisioner
    (the S3 API) translate: :meth:`s3` is ``PutBucketLifecycleConfiguration``'s shape."""

    id: str
    tag: tuple[str, str] | None = None
    transitions: tuple[Transition, ...] = ()
    abort_incomplete_multipart_days: int | None = None
    noncurrent_expiration_days: int | None = None
    expired_object_delete_marker: bool = False
    expiration_days: int | None = None

    def s3(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "ID": self.id,
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": self.tag[0], "Value": self.tag[1]}}
            if self.tag
            else {"Prefix": ""},
        }
        if self.transitions:
            rule["Transitions"] = [
                {"Days": t.days, "StorageClass": t.storage_class} for t in self.transitions
            ]
        if self.abort_incomplete_multipart_days is not None:
            rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": self.abort_incomplete_multipart_days
            }
        if self.noncurrent_expiration_days is not None:
            rule["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": self.noncurrent_expiration_days
            }
        if self.expired_object_delete_marker:
            rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
        if self.expiration_days is not None:
            rule["Expiration"] = {"Days": self.expiration_days}
        return rule


@dataclass(frozen=True)
class MediaBucket:
    """The media bucket's settings, one source for the CDK stack and the local stack (which
    provisions them on moto, so the two cannot drift; moto stores them without acting on
    them). Only the key (the stack's KMS key; locally the local alias) and the CORS origins
    (the SPA's URL; locally loopback) differ by nature."""

    versioned: bool = True
    encryption: str = "aws:kms"  # with the stack's data key and an S3 bucket key
    bucket_key: bool = True
    block_public_access: bool = True
    cors_methods: tuple[str, ...] = ("POST", "GET", "HEAD")
    cors_headers: tuple[str, ...] = ("*",)
    cors_exposed: tuple[str, ...] = ("ETag",)
    cors_max_age_s: int = 3600
    lifecycle: tuple[LifecycleRule, ...] = (
        # Only tagged originals move to colder storage; renditions stay hot (ADR 0903).
        LifecycleRule(
            id="originals-to-cold-storage",
            tag=ORIGINAL_OBJECT_TAG,
            transitions=(Transition("STANDARD_IA", 90), Transition("GLACIER_IR", 730)),
        ),
        LifecycleRule(id="abort-incomplete-multipart-uploads", abort_incomplete_multipart_days=7),
        LifecycleRule(
            id="expire-old-versions",
            noncurrent_expiration_days=365,
            expired_object_delete_marker=True,
        ),
        # A patient's data export lives 7 days, and its version no longer than a day after:
        # the bucket is versioned, and a year of noncurrent copies would keep the data.
        LifecycleRule(
            id="expire-gdpr-exports",
            tag=GDPR_EXPORT_TAG,
            expiration_days=GDPR_EXPORT_DAYS,
            noncurrent_expiration_days=1,
        ),
    )


GRANTS = (
    "global",
    "tenant",
    "events",
    "kms",
    "secrets",
    "mail",
    "archive_write",
    "live_push",
    "live_ready",
)
"""What a function may be granted (least privilege, per function, in the CDK stack):
``global`` the table's global path only (``scoping.global_policy``: the lookups on the base
table and the global index keys, never a clinic's ``C#`` partition; ADR 0012); ``tenant``
assume the tenant-data role, i.e. reach a clinic's items, media objects and VERI*FACTU archive
copies only through that clinic's scoped credentials; ``events`` put events on the bus;
``kms`` envelope-encryption data keys; ``secrets`` read the signing keys; ``mail`` send
through SES; ``archive_write`` put (and read back) objects of the VERI*FACTU WORM archive,
never delete them; ``live_push`` post to, read and close the connections of the live
WebSocket API's stage (``execute-api:ManageConnections``); ``live_ready`` send messages to
the ``live`` queue (the socket handler's ``live.ready``, docs/adr/1101-live-notifications.md).

No grant reaches every clinic's data directly: each function's own role has the global path,
and a clinic's data only through that clinic's credentials (ADR 0012)."""

API_GRANTS = ("global", "tenant", "events", "kms", "secrets", "mail")
"""The API: the global lookups (sign-in, tokens, links, device keys) on its own role, every
clinic's data through the clinic's credentials, which also read the clinic's VERI*FACTU
archive copies for the chain check; only the submission job writes the archive
(docs/adr/0206-verifactu-worm-archive-and-invoice-book.md)."""

ARCHIVE_RETENTION_DAYS = 2557
"""Object Lock COMPLIANCE retention of every VERI*FACTU record copy in production: 7 years
(7 x 365 + 2 leap days). Código de Comercio art. 30 keeps books and documents 6 years from the
last entry of the books (the year's close, so up to 6 years + 12 months after a record); LGT
arts. 66 and 70 keep what supports taxes for the 4-year limitation period from the end of the
filing period. Longer needs (an interrupted limitation period, an inspection) use a legal hold.
See docs/adr/0206-verifactu-worm-archive-and-invoice-book.md."""


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class Table:
    hash_key: str = "PK"
    range_key: str = "SK"
    ttl_attribute: str = "expires_at"
    indexes: tuple[Index, ...] = (
        Index("GSI1", "GSI1PK", "GSI1SK"),
        Index("GSI2", "GSI2PK", "GSI2SK"),
        Index("GSI3", "GSI3PK", "GSI3SK"),
        # Audit entries by actor within an entity type (docs/adr/0015). Added alone: one GSI per
        # deployment is all CloudFormation creates on an existing table.
        Index("GSI4", "GSI4PK", "GSI4SK"),
    )


@dataclass(frozen=True)
class Queue:
    """An SQS queue fed by a bus rule and drained by one ``functions/`` handler."""

    name: str
    handler: str  # "module:function" under functions/
    event_pattern: dict[str, Any]
    description: str
    # S3 sends its notifications to the account's *default* bus; domain events use ours.
    on_default_bus: bool = False
    max_receive_count: int = 5
    visibility_timeout_s: int = 120
    batch_size: int = 10
    needs_imaging_layer: bool = False
    # Deploy-only fields (the local stack ignores them): Lambda memory and what the function's
    # role may do (see GRANTS). The Lambda timeout is visibility_timeout_s // 6 (AWS's advice).
    memory_mb: int = 512
    ephemeral_storage_mb: int = 512  # /tmp (Lambda's default)
    grants: tuple[str, ...] = ("global", "tenant", "events")


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # EventBridge Scheduler expression: rate(...) or cron(...)
    handler: str
    description: str
    interval_s: int  # how often the local scheduler fires it (same cadence as expression)
    # Deploy-only fields, as for Queue.
    memory_mb: int = 512
    timeout_s: int = 60
    grants: tuple[str, ...] = ("global", "tenant", "events")


@dataclass(frozen=True)
class LiveSocket:
    """The live-notifications WebSocket API (API Gateway) and its one handler function."""

    handler: str = "live_socket:handler"
    routes: tuple[str, ...] = ("$connect", "$disconnect", "$default")
    # The $default route answers pings through its route response.
    routes_with_response: tuple[str, ...] = ("$default",)
    stage: str = "live"
    local_path: str = "/live"  # ws://<host>:<PORT>/live on the local server
    local_management_path: str = "/_live"  # the Management API's stand-in on the local server
    description: str = "Live notifications WebSocket: $connect (ticket), $disconnect, $default"
    memory_mb: int = 256
    timeout_s: int = 10
    grants: tuple[str, ...] = ("global", "tenant", "live_ready")


@dataclass(frozen=True)
class ObjectLock:
    """Default Object Lock retention of a bucket created with Object Lock (and versioning)."""

    mode: str  # COMPLIANCE: nobody, the account's root included, shortens or removes it
    days: int


@dataclass(frozen=True)
class Resources:
    stage: str
    table: Table = field(default_factory=Table)

    @property
    def prefix(self) -> str:
        return f"cuspide-{self.stage}"

    @property
    def table_name(self) -> str:
        return self.prefix

    @property
    def media_bucket(self) -> str:
        return f"{self.prefix}-media"

    @property
    def media(self) -> MediaBucket:
        return MediaBucket()

    @property
    def archive_bucket(self) -> str:
        """WORM copies of the VERI*FACTU records as sent to the AEAT (ADR 0206)."""
        return f"{self.prefix}-verifactu-archive"

    @property
    def archive_lock(self) -> ObjectLock:
        """Only production records have legal weight; other stages keep their copies a day, so
        a dev stack (or moto) is not bound to objects nobody may delete for seven years."""
        days = ARCHIVE_RETENTION_DAYS if self.stage == "prod" else 1
        return ObjectLock(mode="COMPLIANCE", days=days)

    @property
    def event_bus(self) -> str:
        return self.prefix

    @property
    def kms_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def signing_secret(self) -> str:
        return f"{self.prefix}/signing-keys"

    @property
    def mail_sender(self) -> str:
        return "no-reply@cuspide.app" if self.stage in ("dev", "prod") else "no-reply@cuspide.local"

    def queue_name(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}"

    def dlq_name(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}-dlq"

    def rule_name(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}"

    @property
    def live_socket(self) -> LiveSocket:
        return LiveSocket()

    @property
    def live_api(self) -> str:
        return f"{self.prefix}-live"

    @property
    def queues(self) -> tuple[Queue, ...]:
        return (
            Queue(
                name="image-worker",
                handler="image_worker:handler",
                description="S3 'Object Created' for uploaded originals -> renditions",
                # EventBridge cannot AND a prefix and a suffix on one field; the worker re-checks
                # that the key is clinics/<clinic_id>/uploads/<image_id>/original.
                event_pattern={
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {
                        "bucket": {"name": [self.media_bucket]},
                        "object": {"key": [{"suffix": "/original"}]},
                    },
                },
                on_default_bus=True,
                visibility_timeout_s=300,
                batch_size=1,
                needs_imaging_layer=True,
                memory_mb=2048,
                # kms: the DICOM patient check opens the patient's national id and seals the
                # header's patient name/id (docs/adr/0402-image-worker-idempotency.md).
                grants=("global", "tenant", "events", "kms"),
            ),
            Queue(
                name="timeline",
                handler="timeline_consumer:handler",
                description="Domain events -> each patient's timeline",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": [
                        {"prefix": "patient."},
                        {"prefix": "appointment."},
                        {"prefix": "image."},
                        {"prefix": "document."},
                        {"prefix": "budget."},
                        {"prefix": "invoice."},
                        {"prefix": "payment."},
                        {"prefix": "message."},
                        {"prefix": "treatment."},
                        {"prefix": "perio."},
                        {"prefix": "note."},
                        {"prefix": "lab."},
                        {"prefix": "ortho."},
                    ],
                },
            ),
            Queue(
                name="notifications",
                handler="notifications_consumer:handler",
                description="Appointment events -> patient notices (email + ICS, WhatsApp) "
                "and reminder planning",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": [{"prefix": "appointment."}],
                },
                grants=("global", "tenant", "events", "kms", "secrets", "mail"),
            ),
            Queue(
                name="inventory",
                handler="inventory_consumer:handler",
                description="Treatments completed -> the materials their catalog entry uses are "
                "consumed from stock (and a low-stock alert when one crosses its threshold)",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": ["treatment.completed"],
                },
                grants=("global", "tenant", "events", "kms", "secrets", "mail"),
            ),
            Queue(
                name="reports",
                handler="reports_consumer:handler",
                description="Domain events that move a figure -> the clinic's per-day figures "
                "(production, collected, attendance, new patients, budgets; issue 18)",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": [
                        {"prefix": "patient."},
                        {"prefix": "appointment."},
                        {"prefix": "budget."},
                        {"prefix": "invoice."},
                        {"prefix": "payment."},
                        {"prefix": "treatment."},
                    ],
                },
                grants=("global", "tenant", "events", "kms"),
            ),
            Queue(
                name="gdpr-export",
                handler="gdpr_export:handler",
                description="GDPR export requested -> the patient's data as a ZIP in the "
                "media bucket (index, JSON, CSV, PDFs, original files), ready or failed",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": ["gdpr.export_requested"],
                },
                # One export per message; up to 15 minutes each (the Lambda maximum), the ZIP
                # written to /tmp (the 2 GB cap, chalicelib/gdpr/worker.py) then uploaded.
                batch_size=1,
                visibility_timeout_s=5400,
                max_receive_count=3,
                memory_mb=1024,
                ephemeral_storage_mb=4096,
                # kms: the patient's and the notes' sealed fields.
                grants=("global", "tenant", "events", "kms"),
            ),
            Queue(
                name="recalls",
                handler="recalls_consumer:handler",
                description="Completed treatments, finished ortho cases, appointments and "
                "budgets -> patients' recalls and the front desk's follow-ups (ADR 1404)",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": [
                        "treatment.completed",
                        "treatment.planned",
                        "treatment.cancelled",
                        "ortho.case_finished",
                        {"prefix": "appointment."},
                        {"prefix": "budget."},
                    ],
                },
            ),
            Queue(
                name="gdpr-erasure",
                handler="gdpr_erasure:handler",
                description="GDPR erasure requested -> the patient's data with no duty to keep "
                "erased now (S3 objects and renditions included), the rest kept blocked until "
                "its retention ends (ADR 1405)",
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": ["gdpr.erasure_requested"],
                },
                # One patient per message; resumable (each step recorded as it finishes).
                batch_size=1,
                visibility_timeout_s=5400,
                max_receive_count=5,
                memory_mb=512,
                # kms: the notes' sealed text (their search keys); events: appointments
                # cancelled through the agenda.
                grants=("global", "tenant", "events", "kms"),
            ),
            Queue(
                name="live",
                handler="live_push:handler",
                description="Domain events staff screens show -> the clinic's open WebSocket "
                "connections (ids only, no PHI)",
                # chalicelib/live/service.py (PREFIXES, EXACT) re-checks the same list.
                event_pattern={
                    "source": [EVENT_SOURCE],
                    "detail-type": [
                        {"prefix": "image."},
                        {"prefix": "capture."},
                        {"prefix": "appointment."},
                        {"prefix": "document."},
                        {"prefix": "inventory."},
                        {"prefix": "lab."},
                        "message.received",
                    ],
                },
                # A toast is worth little a minute late: short retries, then the DLQ.
                max_receive_count=3,
                visibility_timeout_s=30,
                memory_mb=256,
                grants=("global", "tenant", "live_push"),
            ),
            Queue(
                name="ses-feedback",
                handler="ses_feedback:handler",
                description="SES bounces and complaints -> address marked undeliverable",
                event_pattern={
                    "source": ["aws.ses"],
                    "detail-type": ["Email Bounced", "Email Complaint Received"],
                },
                on_default_bus=True,
                grants=("global",),
            ),
        )

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        # Each module adds its scheduled jobs here as it lands (reminders, end-of-day email,
        # AEAT batch submission, budget expiry, the redrive of unsent events); the local scheduler
        # and the CDK stack both read this list.
        return (
            Schedule(
                name="reminders",
                expression="rate(5 minutes)",
                handler="reminders:handler",
                description="Appointment reminders due now (time-bucket index, no scans)",
                interval_s=300,
                timeout_s=120,
                grants=("global", "tenant", "events", "kms", "secrets", "mail"),
            ),
            Schedule(
                name="end-of-day",
                expression="cron(0/15 * * * ? *)",
                handler="end_of_day:handler",
                description="End-of-day email at 16:00 in each clinic's own time zone",
                interval_s=900,
                timeout_s=300,
                grants=("global", "tenant", "kms", "mail"),
            ),
            Schedule(
                name="aeat-submit",
                expression="rate(1 minute)",
                handler="aeat_submit:handler",
                description="VERI*FACTU records due -> the AEAT (per chain, due index, "
                "flow control, at most 1,000 per submission)",
                interval_s=60,
                timeout_s=300,
                # archive_write: each record's XML goes to the WORM archive before it is sent.
                grants=("global", "tenant", "kms", "archive_write"),
            ),
            Schedule(
                name="aeat-reconcile",
                # 04:30 UTC = 05:30/06:30 in Spain: after the night's submissions, before
                # clinics open; the admins read the summary when they start the day.
                expression="cron(30 4 * * ? *)",
                handler="aeat_reconcile:handler",
                description="VERI*FACTU records of the last 7 days vs what the AEAT holds "
                "(ConsultaLR, due index); differences flagged and emailed (ADR 0205)",
                interval_s=86400,
                timeout_s=900,
                grants=("global", "tenant", "kms", "mail"),
            ),
            Schedule(
                name="events-redrive",
                expression="rate(1 minute)",
                handler="events_redrive:handler",
                description="Domain events the bus refused (parked in the table) -> the bus again",
                interval_s=60,
                grants=("global", "events"),
            ),
            Schedule(
                name="live-expiry",
                expression="rate(1 minute)",
                handler="live_push:expire",
                description="Live connections whose access token expires soon -> live.expiring, "
                "then closed (expiry-minute index, no scans)",
                interval_s=60,
                timeout_s=30,
                memory_mb=256,
                grants=("global", "tenant", "live_push"),
            ),
            Schedule(
                name="upload-expiry",
                expression="cron(20 * * * ? *)",
                handler="upload_expiry:handler",
                description="Upload slots whose file never arrived -> expired (expiry-hour "
                "index, no scans)",
                interval_s=3600,
                # media: a slot whose file did arrive is left to the worker (HeadObject); a
                # document's never-completed file is removed.
                grants=("global", "tenant"),
            ),
            Schedule(
                name="recall-reminders",
                # 08:00 UTC = 09:00/10:00 in Spain: the messages arrive as the clinic opens.
                expression="cron(0 8 * * ? *)",
                handler="recall_reminders:handler",
                description="Recall reminders and automatic follow-up messages due (reminder "
                "buckets by day, no scans; ADR 1404)",
                interval_s=86400,
                timeout_s=300,
                # kms: the message's sealed text; secrets: the booking link's signing key.
                grants=("global", "tenant", "events", "kms", "secrets", "mail"),
            ),
            Schedule(
                name="retention",
                # 03:40 UTC: after midnight everywhere in Spain, before clinics open.
                expression="cron(40 3 * * ? *)",
                handler="retention:handler",
                description="Blocked patients' data whose legal retention ended -> erased "
                "(expiry-day index since the last run, no scans; ADR 1405)",
                interval_s=86400,
                timeout_s=900,
                grants=("global", "tenant", "events", "kms"),
            ),
            Schedule(
                name="budget-expiry",
                expression="cron(5 0 * * ? *)",
                handler="budget_expiry:handler",
                description="Sent budgets past their validity date -> expired (expiry index)",
                interval_s=86400,
                grants=("global", "tenant"),
            ),
        )


def for_stage(stage: str) -> Resources:
    return Resources(stage=stage)
