"""Input and output schemas of the billing routes. Money travels as text ("45.50"); integers
are accepted on input, floats are refused (they cannot hold cents exactly). Amounts are at most
99,999,999.99 in absolute value, quantities 1000, both with at most 2 decimals and written with
the ASCII digits 0-9 (``money.dec``); dates are between 1900 and 2100."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
)

from chalicelib.billing import money, rules
from chalicelib.core.validators import BoundedDate, BoundedDatetime, PartialUpdate

Classification = rules.Classification
Scope = rules.Scope
BudgetStatus = Literal[
    "draft", "sent", "accepted", "rejected", "expired", "cancelled", "superseded"
]
InvoiceStatus = Literal["draft", "issued", "partially_paid", "paid"]
PaymentMethod = Literal["cash", "card", "transfer", "financing"]


def _money(value: Any, info: ValidationInfo) -> Decimal:
    return money.dec(value, places=2, field=info.field_name or "amount")


def _qty(value: Any, info: ValidationInfo) -> Decimal:
    field = info.field_name or "quantity"
    return money.dec(value, places=2, field=field, limit=money.MAX_QUANTITY)


def _rate(value: Any, info: ValidationInfo) -> Decimal:
    return money.dec(value, places=2, field=info.field_name or "rate", limit=money.MAX_RATE)


Money = Annotated[Decimal, BeforeValidator(_money)]
Quantity = Annotated[Decimal, BeforeValidator(_qty)]
Rate = Annotated[Decimal, BeforeValidator(_rate)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="null")


# --- VAT types -----------------------------------------------------------------------------


class VatTypeIn(Strict):
    code: str = Field(min_length=2, max_length=30, pattern=r"^[A-Z0-9_]+$")
    name_es: str = Field(min_length=2, max_length=120)
    name_en: str = Field(min_length=2, max_length=120)
    rate: Rate = Field(ge=0, le=100)
    classification: Classification


class VatTypeUpdate(PartialUpdate):
    """Only the fields sent change; none of them can be cleared."""

    name_es: str | None = Field(default=None, min_length=2, max_length=120)
    name_en: str | None = Field(default=None, min_length=2, max_length=120)
    active: bool | None = None


class VatTypeOut(Out):
    code: str
    name_es: str
    name_en: str
    rate: str
    classification: str
    exempt: bool
    active: bool


# --- treatments ----------------------------------------------------------------------------


class Material(Strict):
    """An inventory material a treatment uses: the item and how many of its units (issue 17)."""

    item_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")
    quantity: int = Field(ge=1, le=1000)


class TreatmentIn(Strict):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._\-]+$")
    name_es: str = Field(min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    category: list[str] = Field(default_factory=list, max_length=4)
    price: Money = Field(ge=0)
    cost: Money | None = Field(default=None, ge=0)
    duration_min: int | None = Field(default=None, ge=0, le=600)
    scope: Scope = "mouth"
    vat_code: str = rules.DEFAULT_VAT_CODE
    active: bool = True
    materials: list[Material] = Field(default_factory=list, max_length=20)


class TreatmentUpdate(PartialUpdate):
    """Only the fields sent change; null clears the English name, the cost or the duration."""

    CLEARABLE = frozenset({"name_en", "cost", "duration_min"})

    name_es: str | None = Field(default=None, min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    category: list[str] | None = Field(default=None, max_length=4)
    price: Money | None = Field(default=None, ge=0)
    cost: Money | None = Field(default=None, ge=0)
    duration_min: int | None = Field(default=None, ge=0, le=600)
    scope: Scope | None = None
    vat_code: str | None = None
    active: bool | None = None
    materials: list[Material] | None = Field(default=None, max_length=20)


class TreatmentOut(Out):
    treatment_id: str
    code: str
    name_es: str
    name_en: str | None
    category: list[str]
    price: str
    cost: str | None
    duration_min: int | None
    scope: str
    vat_code: str
    active: bool
    updated_at: datetime
    materials: list[Material] = Field(default_factory=list)


class TreatmentQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)
    active: bool | None = None


class CsvImportIn(Strict):
    csv: str = Field(min_length=1, max_length=2_000_000)
    dry_run: bool = True


class RowError(Out):
    row: int
    field: str | None
    message: str


class FieldChange(Out):
    """One field of a row, before -> after (as text: amounts "45.50", category "A > B",
    active "true"/"false"; before is null for a new treatment)."""

    field: str
    before: str | None
    after: str | None


class CsvRowReport(Out):
    row: int = Field(description="the row's line in the file (the header is row 1)")
    code: str | None
    action: Literal["created", "updated", "unchanged", "error"]
    changes: list[FieldChange]
    errors: list[RowError]


class CsvImportOut(Out):
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int = 0
    errors: list[RowError]
    report: list[CsvRowReport] = Field(default_factory=list)


# --- budgets -------------------------------------------------------------------------------


class Discount(Strict):
    kind: Literal["percent", "amount"]
    value: Money = Field(ge=0)


class BudgetLineIn(Strict):
    treatment_id: str = Field(min_length=1, max_length=40)
    description: str | None = Field(default=None, max_length=300)
    tooth: int | None = None
    surfaces: list[str] = Field(default_factory=list, max_length=5)
    quantity: Quantity = Field(default=Decimal(1), gt=0, le=1000)
    unit_price: Money | None = Field(default=None, ge=0, description="defaults to the catalog")
    discount: Discount | None = None
    vat_code: str | None = Field(default=None, description="defaults to the treatment's")

    @field_validator("surfaces")
    @classmethod
    def _surfaces(cls, v: list[str]) -> list[str]:
        return rules.normalise_surfaces(v)


class BudgetIn(Strict):
    patient_id: str = Field(min_length=1, max_length=40)
    title: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    valid_until: BoundedDate | None = None
    valid_days: int | None = Field(default=None, ge=1, le=365)
    lines: list[BudgetLineIn] = Field(min_length=1, max_length=200)
    global_discount: Discount | None = None


class BudgetUpdate(PartialUpdate):
    """Only the fields sent change; null clears the title, the notes or the global discount."""

    CLEARABLE = frozenset({"title", "notes", "global_discount"})

    title: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    valid_until: BoundedDate | None = None
    lines: list[BudgetLineIn] | None = Field(default=None, min_length=1, max_length=200)
    global_discount: Discount | None = None
    clear_global_discount: bool = False


class BudgetLineOut(Out):
    line_id: str
    treatment_id: str
    code: str
    description: str
    tooth: int | None
    surfaces: list[str]
    quantity: str
    unit_price: str
    discount: dict[str, str] | None
    vat_code: str
    vat_rate: str
    classification: str
    gross: str
    line_discount: str
    global_discount: str
    base: str
    vat: str
    total: str
    accepted: bool | None
    invoiced_quantity: str
    invoiced_base: str
    plan_item_id: str | None = None  # the chart's plan item this line prices


class BreakdownOut(Out):
    classification: str
    rate: str
    base: str
    vat: str


class TotalsOut(Out):
    gross: str
    discount: str
    global_discount: str
    base: str
    vat: str
    total: str


class BudgetOut(Out):
    budget_id: str
    number: str
    revision: int
    patient_id: str
    status: str
    title: str | None
    notes: str | None
    valid_until: date
    lines: list[BudgetLineOut]
    global_discount: dict[str, str] | None
    totals: TotalsOut
    breakdown: list[BreakdownOut]
    partial: bool
    supersedes: str | None
    superseded_by: str | None
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    decided_at: datetime | None
    acceptance: dict[str, Any] | None = None
    patient_name: str | None = Field(default=None, description="in lists")
    sent_to: str | None = Field(default=None, description="where the link was last emailed")
    emailed_at: datetime | None = None
    history: list[dict[str, Any]] | None = Field(
        default=None, description="GET one budget only: what happened to it, oldest first"
    )


class BudgetQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)
    patient_id: str | None = None
    status: BudgetStatus | None = None


class SendBudgetIn(Strict):
    valid_days: int = Field(default=15, ge=7, le=30, description="link validity (7-30 days)")
    email: bool = Field(default=True, description="email the link to the patient")


class SendBudgetOut(Out):
    budget: BudgetOut
    link: str
    link_expires_at: datetime
    emailed_to: str | None = None
    not_emailed: str | None = Field(
        default=None,
        description="why it was not emailed: not_requested|no_email|no_consent|undeliverable"
        "|failed",
    )


class AcceptBudgetIn(Strict):
    line_ids: list[str] | None = Field(default=None, description="omit to accept every line")
    signer_name: str = Field(min_length=2, max_length=200)
    relationship: str = Field(default="self", min_length=2, max_length=60)


class RejectBudgetIn(Strict):
    reason: str | None = Field(default=None, max_length=1000)


# --- invoices ------------------------------------------------------------------------------


class Party(Strict):
    name: str = Field(min_length=2, max_length=120)
    tax_id: str = Field(min_length=5, max_length=20)
    address: dict[str, Any] | None = None


class InvoiceLineIn(Strict):
    treatment_id: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=300)
    tooth: int | None = None
    quantity: Quantity = Field(default=Decimal(1), ge=-1000, le=1000)
    unit_price: Money | None = None
    discount: Discount | None = None
    vat_code: str | None = None


class BudgetLinePick(Strict):
    line_id: str
    quantity: Quantity | None = Field(default=None, gt=0, description="default: what is left")


class InvoiceIn(Strict):
    patient_id: str | None = Field(default=None, max_length=40)
    budget_id: str | None = Field(default=None, max_length=40)
    budget_lines: list[BudgetLinePick] | None = Field(default=None, max_length=200)
    lines: list[InvoiceLineIn] | None = Field(default=None, max_length=200)
    third_party: Party | None = None
    description: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=2000)
    operation_date: BoundedDate | None = None
    art4_2: bool = Field(
        default=False,
        description="an operation of those art. 4.2 RD 1619/2012 lists (e.g. a retail sale): "
        "simplified invoice up to 3,000 € instead of 400 €",
    )


class InvoiceUpdate(PartialUpdate):
    """Only the fields sent change; null clears the notes or the operation date (the third
    party is removed with ``clear_third_party``)."""

    CLEARABLE = frozenset({"notes", "operation_date"})

    lines: list[InvoiceLineIn] | None = Field(default=None, min_length=1, max_length=200)
    third_party: Party | None = None
    clear_third_party: bool = False
    description: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=2000)
    operation_date: BoundedDate | None = None
    art4_2: bool | None = None


class RectifyIn(Strict):
    code: Literal["R1", "R2", "R3", "R4"] = "R4"
    mode: Literal["I", "S"] = "I"
    reason: str = Field(min_length=3, max_length=500)
    lines: list[InvoiceLineIn] | None = Field(
        default=None,
        description="I: the differences (negative to reduce); S: the corrected invoice. "
        "Omit to cancel the whole invoice.",
    )


class InvoiceLineOut(Out):
    line_id: str
    treatment_id: str | None
    budget_line_id: str | None
    code: str | None
    description: str
    tooth: int | None
    quantity: str
    unit_price: str
    discount: str
    base: str
    vat_code: str
    vat_rate: str
    classification: str
    vat: str
    total: str


class InvoiceOut(Out):
    invoice_id: str
    patient_id: str
    status: str
    kind: str
    series: str
    number: int | None
    num_serie: str | None
    issue_date: date | None
    issued_at: datetime | None
    tipo_factura: str | None
    issuer: dict[str, Any] | None
    customer: dict[str, Any] | None
    third_party: dict[str, Any] | None
    description: str
    notes: str | None
    operation_date: date | None
    budget_id: str | None
    lines: list[InvoiceLineOut]
    breakdown: list[BreakdownOut]
    total_base: str
    total_vat: str
    total: str
    due: str = Field(
        description="what the customer is asked to pay: the total plus the rectifying invoices "
        "by differences issued against it; 0 once cancelled (ADR 0503)"
    )
    paid: str
    outstanding: str
    rectifies: list[dict[str, Any]] | None
    rectification_code: str | None
    rectification_mode: str | None
    rectification_reason: str | None
    rectified_by: list[str] | None
    cancelled: bool
    created_at: datetime
    updated_at: datetime


class InvoiceQuery(Strict):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)
    patient_id: str | None = None
    budget_id: str | None = None
    # Filters of the clinic-wide list (issue 13); a page may hold fewer than ``limit``.
    status: Literal["draft", "issued", "partially_paid", "paid", "cancelled"] | None = None
    series: Literal["F", "R"] | None = None
    date_from: date | None = None
    date_to: date | None = None
    number: str | None = Field(default=None, max_length=60, description="part of the number")


class InvoiceEmailIn(Strict):
    to: EmailStr | None = Field(default=None, description="default: the patient's email")


class InvoiceEmailOut(Out):
    sent_to: str
    message_id: str


# --- payments ------------------------------------------------------------------------------


class PaymentIn(Strict):
    amount: Money = Field(gt=0)
    method: PaymentMethod
    paid_at: BoundedDatetime | None = None
    reference: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, max_length=500)


class RefundIn(Strict):
    amount: Money = Field(gt=0)
    method: PaymentMethod
    reference: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, max_length=500, description="the reason")
    payment_id: str | None = Field(
        default=None,
        max_length=40,
        description="the payment refunded: the refund is then at most what is left of it",
    )


class PaymentOut(Out):
    payment_id: str
    invoice_id: str
    patient_id: str
    kind: str
    method: str
    amount: str
    reference: str | None
    note: str | None
    paid_at: datetime
    created_at: datetime
    num_serie: str | None = None
    refund_of: str | None = None


class PaymentResult(Out):
    payment: PaymentOut
    invoice: InvoiceOut


class BalanceOut(Out):
    patient_id: str
    invoiced: str
    paid: str
    outstanding: str
    open_invoices: list[dict[str, Any]]


class TakingsQuery(Strict):
    day: BoundedDate | None = Field(default=None, description="default: today, clinic zone")


class MethodTotal(Out):
    method: str
    payments: str
    refunds: str
    net: str
    count: int


class TakingOut(PaymentOut):
    patient_name: str


class TakingsOut(Out):
    day: date
    time_zone: str
    methods: list[MethodTotal]
    payments: str
    refunds: str
    net: str
    items: list[TakingOut]


class ReceiptEmailOut(Out):
    sent_to: str
