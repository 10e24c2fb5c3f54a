"""VERI*FACTU items (one table; keys from the authenticated clinic). ADR 0202.

| item | PK | SK |
|---|---|---|
| ChainHead (per issuer NIF) | C#<cid> | VFHEAD#<nif> |
| RecordItem | C#<cid> | VFREC#<nif>#<seq:010d> |
| BookEntry (ADR 0206) | C#<cid> | VFBOOK#<nif>#<yyyy-mm-dd>#<NumSerieFactura>#<seq:010d> |
| SeriesBlock | C#<cid> | VFBLOCK#<series> |
| VfSettings | C#<cid> | VFSETTINGS |
| VfCertificate | C#<cid> | VFCERT |
| Submission | C#<cid> | VFSUB#<id> |
| ReconcileDue (per issuer NIF) | C#<cid> | VFRCDUE#<nif> |
| ReconciliationDay | C#<cid> | VFRCDAY#<yyyy-mm-dd> |

Indexes: ChainHead GSI1 ``VFDUE`` / ``<due>#<cid>#<nif>`` (only while records wait).
RecordItem GSI1 ``C#<cid>#VFPEND`` / ``<nif>#<seq>`` (only while pending), GSI2
``C#<cid>#VFINV#<invoice_id>`` / ``<nif>#<seq>``, GSI3 ``C#<cid>#VFST#<status>`` / ``<nif>#<seq>``.
Reconciliation (ADR 0205): ReconcileDue GSI1 ``VFRCDUE`` / ``<next check>#<cid>#<nif>``; an
answered RecordItem with an open discrepancy GSI1 ``C#<cid>#VFRCDIFF`` / ``<nif>#<seq>``.

- The chain of one issuer is the base-table range ``VFREC#<nif>#`` in ``seq`` order (strongly
  consistent reads for verification). ``seq`` is the position in the chain: a record is written
  with ``attribute_not_exists`` and the head moves from ``version`` n to n+1 in the same
  transaction, so two writers can never both take the same position (no fork, no gap).
- ``record`` is ``RegistroAlta/RegistroAnulacion.model_dump(mode="json")`` verbatim, written
  once and never updated; the other attributes of a RecordItem are its submission state.
- ``VFDUE`` and ``VFRCDUE`` are the global partitions of the module: the submission job and
  the reconciliation Query the entries whose time has come, so their cost grows with the work
  that is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import iso
from chalicelib.core.observability import logger

DUE_PK = "VFDUE"

PENDING = "pending"
ACCEPTED = "accepted"
ACCEPTED_WITH_ERRORS = "accepted_with_errors"
REJECTED = "rejected"
STATUSES = (PENDING, ACCEPTED, ACCEPTED_WITH_ERRORS, REJECTED)


def seq_text(seq: int) -> str:
    return f"{seq:010d}"


def record_id(nif: str, seq: int) -> str:
    """Public id of a record: ``<NIF>-<position in the chain>`` (stable, readable)."""
    return f"{nif}-{seq_text(seq)}"


def split_record_id(rid: str) -> tuple[str, int] | None:
    nif, sep, seq = rid.partition("-")
    if not sep or not seq.isdigit() or len(seq) != 10 or not nif.isalnum() or len(nif) != 9:
        return None
    return nif, int(seq)


class ChainHead(Item, discriminator="VerifactuChainHead"):
    """The last record of an issuer's chain plus its submission state.

    Moved only by a conditional write on ``version`` (the issue/annul transactions put it whole;
    the job updates its submission attributes), so a stale writer always loses.
    """

    nif = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    seq = NumberAttribute(default=0)  # position of the last record (0: empty chain)
    last = JSONAttribute(null=True)  # RegistroAnterior of the last record (identity + Huella)
    last_generated = UnicodeAttribute(null=True)  # its FechaHoraHusoGenRegistro
    pending = NumberAttribute(default=0)  # records not yet answered by the AEAT
    version = NumberAttribute(default=0)
    # Submission state (flow control, retries, status shown to the clinic).
    last_sent_at = UTCDateTimeAttribute(null=True)
    tiempo_espera = NumberAttribute(null=True)  # last TiempoEsperaEnvio (seconds)
    next_attempt_at = UTCDateTimeAttribute(null=True)  # backoff after a failure
    attempts = NumberAttribute(default=0)  # consecutive failed attempts
    submission_status = UnicodeAttribute(default="idle")
    # idle | waiting | retrying | failed | no_certificate | not_configured
    last_error = UnicodeAttribute(null=True)
    held = BooleanAttribute(default=False)  # a Client fault: no automatic resend
    updated_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, nif: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFHEAD#{nif}"

    @staticmethod
    def due_sk(due_iso: str, clinic_id: str, nif: str) -> str:
        return f"{due_iso}#{clinic_id}#{nif}"


class RecordItem(Item, discriminator="VerifactuRecord"):
    record_id = UnicodeAttribute()
    clinic_id = UnicodeAttribute()
    nif = UnicodeAttribute()
    seq = NumberAttribute()
    kind = UnicodeAttribute()  # alta | anulacion
    invoice_id = UnicodeAttribute()
    series = UnicodeAttribute()  # the invoice series (F, R): what a rejection blocks
    num_serie = UnicodeAttribute()
    fecha_expedicion = UnicodeAttribute()  # dd-mm-yyyy, as in the record
    huella = UnicodeAttribute()
    environment = UnicodeAttribute()  # test | production at generation (QR base URL)
    record = JSONAttribute()  # model_dump(mode="json"), immutable
    created_at = UTCDateTimeAttribute()
    corrects = UnicodeAttribute(null=True)  # record id this subsanación corrects
    # Submission state:
    status = UnicodeAttribute(default=PENDING)
    aeat_code = NumberAttribute(null=True)
    aeat_description = UnicodeAttribute(null=True)
    csv = UnicodeAttribute(null=True)
    submission_id = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    duplicate = JSONAttribute(null=True)  # RegistroDuplicado of a 3000 answer
    # Its WORM copy as sent (ADR 0206): object key, locked version, SHA-256 (hex), when.
    archive_key = UnicodeAttribute(null=True)
    archive_version = UnicodeAttribute(null=True)
    archive_sha256 = UnicodeAttribute(null=True)
    archived_at = UTCDateTimeAttribute(null=True)
    superseded_by = UnicodeAttribute(null=True)  # the subsanación that corrects a rejection
    # What the AEAT holds for it, as the daily reconciliation last found (ADR 0205):
    # {status: ok|discrepancy, checked_at, aeat_estado, differences: [{code, ours, aeat}]}.
    # While a discrepancy is open the (answered) record is in GSI1 C#<cid>#VFRCDIFF.
    reconciliation = JSONAttribute(null=True)
    # Generated while the chain was retrying, or pending when it entered retrying: its
    # submission carries Cabecera/RemisionVoluntaria/Incidencia=S (ADR 0207).
    incidencia = BooleanAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, nif: str, seq: int) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFREC#{nif}#{seq_text(seq)}"

    @staticmethod
    def chain_prefix(nif: str) -> str:
        return f"VFREC#{nif}#"

    @staticmethod
    def pending_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#VFPEND"

    @staticmethod
    def invoice_pk(clinic_id: str, invoice_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#VFINV#{invoice_id}"

    @staticmethod
    def status_pk(clinic_id: str, status: str) -> str:
        return f"{clinic_pk(clinic_id)}#VFST#{status}"


class BookEntry(Item, discriminator="VerifactuBookEntry"):
    """Index of the records by the date of the invoice they refer to (ADR 0206): the invoice
    book (libro registro de facturas expedidas) and the period exports read a key range of
    ``VFBOOK#<nif>#<yyyy-mm-dd>#<NumSerieFactura>#<seq>``, never a scan. Written with its
    record, in the same transaction (``service.append_record``); an invoice's alta, its
    subsanaciones and its anulación share the date and number, so they sit together."""

    nif = UnicodeAttribute()
    seq = NumberAttribute()

    @staticmethod
    def prefix(nif: str) -> str:
        return f"VFBOOK#{nif}#"

    @classmethod
    def for_record(cls, item: RecordItem) -> BookEntry:
        d, m, y = item.fecha_expedicion.split("-")
        return cls(
            PK=item.PK,
            SK=f"{cls.prefix(item.nif)}{y}-{m}-{d}#{item.num_serie}#{seq_text(int(item.seq))}",
            nif=item.nif,
            seq=int(item.seq),
        )


class SeriesBlock(Item, discriminator="VerifactuSeriesBlock"):
    """Rejected records of an invoice series not yet corrected: while ``count`` > 0 no new
    invoice of the series can be issued (a condition check in the issue transaction)."""

    series = UnicodeAttribute()
    count = NumberAttribute(default=0)
    records = JSONAttribute(default=dict)  # {record_id: "code: description"}

    @staticmethod
    def key(clinic_id: str, series: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFBLOCK#{series}"


class VfSettings(Item, discriminator="VerifactuSettings"):
    environment = UnicodeAttribute(default="test")  # test | production
    production_enabled_at = UTCDateTimeAttribute(null=True)
    production_enabled_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "VFSETTINGS"


class VfCertificate(Item, discriminator="VerifactuCertificate"):
    """The clinic's client certificate: PKCS#12 (base64) and its password, both sealed."""

    pkcs12_sealed = UnicodeAttribute()
    password_sealed = UnicodeAttribute()
    subject = UnicodeAttribute()
    nif = UnicodeAttribute(null=True)
    issuer = UnicodeAttribute()
    serial_number = UnicodeAttribute()
    not_before = UTCDateTimeAttribute()
    not_after = UTCDateTimeAttribute()
    label = UnicodeAttribute(null=True)  # e.g. "DEMO" for the seeded self-signed one
    uploaded_at = UTCDateTimeAttribute()
    uploaded_by = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), "VFCERT"


class Submission(Item, discriminator="VerifactuSubmission"):
    """One SOAP submission (or attempt): what went, what came back."""

    submission_id = UnicodeAttribute()
    nif = UnicodeAttribute()
    environment = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    record_count = NumberAttribute()
    first_seq = NumberAttribute()
    last_seq = NumberAttribute()
    outcome = UnicodeAttribute()  # answered | retry | failed
    estado_envio = UnicodeAttribute(null=True)
    csv = UnicodeAttribute(null=True)
    tiempo_espera = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    incidencia = BooleanAttribute(null=True)  # sent with Incidencia=S (ADR 0207)

    @staticmethod
    def key(clinic_id: str, submission_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFSUB#{submission_id}"


# --- reconciliation with the AEAT (ADR 0205) -------------------------------------------------

RECONCILE_DUE_PK = "VFRCDUE"
#: Records answered by the AEAT are compared with what it holds for this long (daily runs).
RECONCILE_WINDOW = timedelta(days=7)


class ReconcileDue(Item, discriminator="VerifactuReconcileDue"):
    """One per chain: when the reconciliation job should next ask the AEAT about it.

    In GSI1 ``VFRCDUE`` / ``<next check ISO>#<cid>#<nif>`` while the chain had records answered
    within ``RECONCILE_WINDOW`` (``active_until``) or still has an open discrepancy; the job
    Queries the entries that are due, so its cost grows with the chains that had records in
    the window, never with the clinics or the history.
    """

    clinic_id = UnicodeAttribute()
    nif = UnicodeAttribute()
    active_until = UTCDateTimeAttribute()  # last answer + RECONCILE_WINDOW
    last_checked_at = UTCDateTimeAttribute(null=True)
    last_status = UnicodeAttribute(null=True)  # ok | discrepancies | failed | ...
    last_error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)  # consecutive failed checks
    open_discrepancies = NumberAttribute(default=0)

    @staticmethod
    def key(clinic_id: str, nif: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFRCDUE#{nif}"

    @staticmethod
    def due_sk(at: datetime, clinic_id: str, nif: str) -> str:
        return f"{iso(at)}#{clinic_id}#{nif}"

    @classmethod
    def note(cls, clinic_id: str, nif: str, at: datetime) -> None:
        """The AEAT answered a submission of this chain at ``at``: keep the chain in the
        reconciliation index for ``RECONCILE_WINDOW`` more (due at once if it was not in it).
        Never fails the caller: a missed note is made good by the chain's next answer."""
        item = cls(*cls.key(clinic_id, nif))
        try:
            item.update(
                actions=[
                    cls.clinic_id.set(clinic_id),
                    cls.nif.set(nif),
                    cls.active_until.set(at + RECONCILE_WINDOW),
                    cls.entity.set(cls),
                    cls.GSI1PK.set(RECONCILE_DUE_PK),
                    cls.GSI1SK.set(cls.GSI1SK | cls.due_sk(at, clinic_id, nif)),
                ]
            )
        except Exception:  # noqa: BLE001 - bookkeeping after the answers are stored
            logger.warning("verifactu reconcile index not updated", extra={"clinic_id": clinic_id})


class ReconciliationDay(Item, discriminator="VerifactuReconciliationDay"):
    """What one day's reconciliation found for a clinic (all its chains); the summary email
    goes at most once per clinic and day (``emailed_at`` set with a condition)."""

    day = UnicodeAttribute()  # yyyy-mm-dd in the clinic's zone
    checked_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()  # ok | discrepancies | failed | not_checked
    chains = JSONAttribute(default=dict)  # {nif: {status, compared, discrepancies, error}}
    discrepancies = JSONAttribute(default=list)  # [{record_id, num_serie, ..., differences}]
    unknown = JSONAttribute(default=list)  # what the AEAT holds and we do not
    emailed_at = UTCDateTimeAttribute(null=True)
    recipients = NumberAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, day: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFRCDAY#{day}"
