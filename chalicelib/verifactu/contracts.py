"""Input and output schemas of the VERI*FACTU routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.verifactu.models import STATUSES

Status = Literal["pending", "accepted", "accepted_with_errors", "rejected"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordQuery(_In):
    status: Status | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


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


class RecordDetailOut(RecordOut):
    record: dict[str, Any]
    xml: str | None = Field(None, description="the record's XML; null if the record is damaged")
    problem: str | None = Field(None, description="why a damaged record has no XML")
    duplicate: dict[str, Any] | None = None


class ChainBreakOut(BaseModel):
    record: str | None
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
    message: str


class SettingsOut(BaseModel):
    environment: Literal["test", "production"]
    production_locked: bool
    production_enabled_at: datetime | None
    sistema_informatico: dict[str, Any]
    certificate: CertificateOut | None
    chains: list[ChainStatusOut]
    blocked_series: dict[str, dict[str, str]]
    alerts: list[AlertOut]
