"""Input and output schemas of the VERI*FACTU routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.core.i18n import tr
from chalicelib.verifactu.models import STATUSES

Status = Literal["pending", "accepted", "accepted_with_errors", "rejected"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordQuery(_In):
    status: Status | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- reconciliation with the AEAT (ADR 0205) -------------------------------------------------


class ReconciliationDifferenceOut(BaseModel):
    code: Literal["missing_at_aeat", "held_but_rejected", "state_differs", "huella_differs"]
    ours: str | None = Field(None, description="what we hold (state or huella)")
    aeat: str | None = Field(None, description="what the AEAT holds (EstadoRegistro or Huella)")


class ReconciliationOut(BaseModel):
    """What the daily reconciliation last found for the record (the invoice's current one)."""

    status: Literal["ok", "discrepancy"]
    checked_at: datetime
    aeat_estado: str | None = Field(None, description="EstadoRegistro at the AEAT; null: absent")
    differences: list[ReconciliationDifferenceOut] = []
    since: datetime | None = Field(None, description="when this discrepancy was first found")


class ReconciliationQuery(_In):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class ReconciliationDayOut(BaseModel):
    day: date
    checked_at: datetime
    status: Literal["ok", "discrepancies", "failed", "not_checked"]
    chains: dict[str, dict[str, Any]]
    discrepancies: list[dict[str, Any]]
    unknown: list[dict[str, Any]] = Field(description="records the AEAT holds that we do not")
    emailed_at: datetime | None = None


class RecordOut(BaseModel):
    record_id: str
    kind: Literal["alta", "anulacion"]
    seq: int
    nif: str
    invoice_id: str
    series: str
    num_serie: str
    fecha_expedicion: str
    huella: str
    environment: str
    status: Status
    aeat_code: int | None = None
    aeat_description: str | None = None
    csv: str | None = None
    submission_id: str | None = None
    answered_at: datetime | None = None
    corrects: str | None = None
    superseded_by: str | None = None
    created_at: datetime
    qr_url: str | None = None
    reconciliation: ReconciliationOut | None = None  # ADR 0205
    incidencia: bool = Field(
        False, description="sent (or to be sent) with Incidencia=S: the AEAT could not be reached"
    )


class RecordDetailOut(RecordOut):
    record: dict[str, Any]
    xml: str | None = Field(None, description="the record's XML; null if the record is damaged")
    problem: str | None = Field(None, description="why a damaged record has no XML")
    duplicate: dict[str, Any] | None = None


class ChainBreakOut(BaseModel):
    record: str | None
    num_serie: str | None = None  # the invoice of that record, to name it to a person
    position: int
    problem: str
    field: str
    expected: str
    found: str


class ChainOut(BaseModel):
    nif: str
    records: int
    intact: bool
    first_break: ChainBreakOut | None = None


class VerifyOut(BaseModel):
    intact: bool
    chains: list[ChainOut]


class InvoiceVerifactuOut(BaseModel):
    invoice_id: str
    num_serie: str | None
    status: Status | None
    aeat_code: int | None
    aeat_description: str | None
    qr_url: str | None
    annulled: bool
    records: list[RecordOut]


class AnnulIn(_In):
    reason: str = Field(min_length=3, max_length=500)


class IDOtroIn(_In):
    CodigoPais: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    IDType: Literal["02", "03", "04", "05", "06", "07"]
    ID: str = Field(min_length=1, max_length=20)


class DestinatarioIn(_In):
    NombreRazon: str = Field(min_length=1, max_length=120)
    NIF: str | None = Field(None, pattern=r"^[0-9A-Z]{9}$")
    IDOtro: IDOtroIn | None = None


class SubsanacionIn(_In):
    """Corrections that do not require a rectifying invoice (AEAT_descripcion_servicio_web
    9.1.3). Amounts, number, date and type cannot change here: that is a rectifying invoice."""

    reason: str = Field(min_length=3, max_length=500)
    DescripcionOperacion: str | None = Field(None, min_length=1, max_length=500)
    FechaOperacion: date | None = None
    Destinatarios: list[DestinatarioIn] | None = Field(None, min_length=1, max_length=1000)


class CertificateIn(_In):
    pkcs12_base64: str = Field(min_length=4, max_length=200_000)
    password: str = Field(max_length=200)


class CertificateOut(BaseModel):
    subject: str
    nif: str | None
    matches_clinic_nif: bool
    issuer: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    expires_soon: bool
    expired: bool
    days_left: int
    label: str | None = None
    uploaded_at: datetime


class SettingsIn(_In):
    environment: Literal["test", "production"]
    confirmation: str | None = Field(
        None, description="To enable production: the clinic's NIF, typed by the admin"
    )


class ChainStatusOut(BaseModel):
    nif: str
    records: int
    pending: int
    submission_status: str
    last_sent_at: datetime | None
    tiempo_espera: int | None
    next_attempt_at: datetime | None
    last_error: str | None
    held: bool


class AlertOut(BaseModel):
    code: str
    message: str  # in the caller's language
    params: dict[str, Any] = {}  # the values in the message (nif, series, count, date...)


class StatusOut(BaseModel):
    """What every user with verifactu.read may see: the ledger's state, never the
    certificate or the SIF data (those are the admin's SettingsOut)."""

    environment: Literal["test", "production"]
    chains: list[ChainStatusOut]
    blocked_series: dict[str, dict[str, str]]
    alerts: list[AlertOut]


class SettingsOut(BaseModel):
    environment: Literal["test", "production"]
    production_locked: bool
    production_enabled_at: datetime | None
    sistema_informatico: dict[str, Any]
    certificate: CertificateOut | None
    chains: list[ChainStatusOut]
    blocked_series: dict[str, dict[str, str]]
    alerts: list[AlertOut]


# --- archive check and invoice book (ADR 0206) -----------------------------------------------

#: Longest period one book request covers: a whole calendar year, leap years included.
BOOK_MAX_DAYS = 366


class VerifyQuery(_In):
    archive: bool = Field(
        False,
        description="also compare every record with its WORM copy in the archive (one S3 read "
        "per record): a record answered by the AEAT without a copy, or whose copy differs from "
        "the table, is a break with problem 'archive'",
    )


class BookQuery(_In):
    """A period of invoice dates (fecha de expedición), both days included."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    date_from: date = Field(alias="from", description="first invoice date, YYYY-MM-DD")
    date_to: date = Field(alias="to", description="last invoice date, YYYY-MM-DD (included)")
    nif: str | None = Field(
        None,
        pattern=r"^[0-9A-Z]{9}$",
        description="the issuer's NIF; needed only when the clinic has records of two NIFs",
    )
    cursor: str | None = Field(
        None, max_length=2000, description="X-Next-Cursor of the previous part"
    )

    @model_validator(mode="after")
    def _period(self) -> BookQuery:
        if self.date_from > self.date_to:
            raise ValueError(
                tr(
                    "'from' must not be after 'to'.",
                    "'from' no puede ser posterior a 'to'.",
                )
            )
        if (self.date_to - self.date_from).days + 1 > BOOK_MAX_DAYS:
            raise ValueError(
                tr(
                    f"The period is too long: at most {BOOK_MAX_DAYS} days per request (one "
                    "year); ask for each year, or each quarter, on its own.",
                    f"El periodo es demasiado largo: como mucho {BOOK_MAX_DAYS} días por "
                    "petición (un año); pide cada año, o cada trimestre, por separado.",
                )
            )
        return self
