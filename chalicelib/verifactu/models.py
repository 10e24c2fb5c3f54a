"""VERI*FACTU items (one table; keys from the authenticated clinic). ADR 0202.

| item | PK | SK |
|---|---|---|
| ChainHead (per issuer NIF) | C#<cid> | VFHEAD#<nif> |
| RecordItem | C#<cid> | VFREC#<nif>#<seq:010d> |
| SeriesBlock | C#<cid> | VFBLOCK#<series> |
| VfSettings | C#<cid> | VFSETTINGS |
| VfCertificate | C#<cid> | VFCERT |
| Submission | C#<cid> | VFSUB#<id> |

Indexes: ChainHead GSI1 ``VFDUE`` / ``<due>#<cid>#<nif>`` (only while records wait).
RecordItem GSI1 ``C#<cid>#VFPEND`` / ``<nif>#<seq>`` (only while pending), GSI2
``C#<cid>#VFINV#<invoice_id>`` / ``<nif>#<seq>``, GSI3 ``C#<cid>#VFST#<status>`` / ``<nif>#<seq>``.

- The chain of one issuer is the base-table range ``VFREC#<nif>#`` in ``seq`` order (strongly
  consistent reads for verification). ``seq`` is the position in the chain: a record is written
  with ``attribute_not_exists`` and the head moves from ``version`` n to n+1 in the same
  transaction, so two writers can never both take the same position (no fork, no gap).
- ``record`` is ``RegistroAlta/RegistroAnulacion.model_dump(mode="json")`` verbatim, written
  once and never updated; the other attributes of a RecordItem are its submission state.
- ``VFDUE`` is the one global partition of the module: the submission job Queries the heads
  whose due time has come, so its cost grows with the work that is due.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk

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
    superseded_by = UnicodeAttribute(null=True)  # the subsanación that corrects a rejection

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

    @staticmethod
    def key(clinic_id: str, submission_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VFSUB#{submission_id}"
