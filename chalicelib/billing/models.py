"""Billing items (one table; keys from the authenticated clinic). ADR 0501-0505.

| item | PK | SK | GSI1 | GSI2 | GSI3 |
|---|---|---|---|---|---|
| VatType | C#<cid> | VAT#<code> | | | |
| Treatment | C#<cid> | TRT#<id> | C#<cid>#TRT / <code> | | |
| TreatmentCode (unique code) | C#<cid> | TRTCODE#<code> | | | |
| Counter, budgets | C#<cid> | COUNTER#BUD#<year> | | | |
| Counter, invoices | C#<cid> | COUNTER#INV#<series>#<year> | | | |
| Budget | C#<cid> | BUD#<id> | C#<cid>#BUD / <id> | C#<cid>#PAT#<pid>#BUD / <id> | (1) |
| BudgetAcceptance | C#<cid> | BUD#<id>#ACCEPT | | | |
| BudgetLink (global) | BLINK#<link id> | LINK | | | |
| Invoice | C#<cid> | INV#<id> | C#<cid>#INV / <id> | C#<cid>#PAT#<pid>#INV / <id> | (2) |
| InvoiceIssuedOn (day entry) | C#<cid> | INVDAY#<issue date>#<id> | | | |
| Payment | C#<cid> | INV#<iid>#PAY#<id> | C#<cid>#PAY / <id> | C#<cid>#PAT#<pid>#PAY / <id> | (3) |

(1) GSI3 of a budget: BUDEXP#<valid_until> / C#<cid>#<id>, only while it is sent.
(2) GSI3 of an invoice: C#<cid>#BUD#<bid>#INV / <id>.
(3) GSI3 of a payment or refund: C#<cid>#PAYDAY#<local day of paid_at> / <paid_at UTC>#<id>:
the day's takings are one Query (ADR 0508).

Money: integer cents (``*_cents``) or canonical Decimal text inside JSON lines. Lines of a
budget/invoice live inside their item (a budget has tens of lines, not thousands); quantities
are Decimal text. Every mutable item carries ``version`` for optimistic locking.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.db import Item, clinic_pk


class VatType(Item, discriminator="BillingVatType"):
    code = UnicodeAttribute()
    name_es = UnicodeAttribute()
    name_en = UnicodeAttribute()
    rate = UnicodeAttribute()  # "21.00"
    classification = UnicodeAttribute()  # S1, S2, N1, N2, E1..E6
    active = BooleanAttribute(default=True)
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(clinic_id: str, code: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"VAT#{code}"


class Treatment(Item, discriminator="BillingTreatment"):
    treatment_id = UnicodeAttribute()
    code = UnicodeAttribute()
    name_es = UnicodeAttribute()
    name_en = UnicodeAttribute(null=True)
    category = ListAttribute(of=UnicodeAttribute, default=list)  # ["Restauradora", "Composite"]
    price_cents = NumberAttribute()
    cost_cents = NumberAttribute(null=True)
    duration_min = NumberAttribute(null=True)
    scope = UnicodeAttribute()  # tooth | surface | sextant | quadrant | mouth
    vat_code = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    # The inventory materials it uses: [{"item_id", "quantity"}] (issue 17, ADR 1203).
    materials = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, treatment_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"TRT#{treatment_id}"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#TRT"


class TreatmentCode(Item, discriminator="BillingTreatmentCode"):
    treatment_id = UnicodeAttribute()

    @staticmethod
    def key(clinic_id: str, code: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"TRTCODE#{code.upper()}"


class Counter(Item, discriminator="BillingCounter"):
    """Last number handed out in a sequence (budgets per year; invoices per series and year).
    Moved only by a conditional write inside the transaction that uses the number."""

    last = NumberAttribute(default=0)

    @staticmethod
    def budget_key(clinic_id: str, year: int) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"COUNTER#BUD#{year}"

    @staticmethod
    def invoice_key(clinic_id: str, series: str, year: int) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"COUNTER#INV#{series}#{year}"


class Budget(Item, discriminator="BillingBudget"):
    budget_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    number = UnicodeAttribute()  # PRES-2026-0001
    revision = NumberAttribute(default=1)  # the renegotiated versions share the number
    status = UnicodeAttribute()  # draft|sent|accepted|rejected|expired|cancelled|superseded
    title = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="es")
    valid_until = UnicodeAttribute()  # ISO date in the clinic's zone
    time_zone = UnicodeAttribute()
    lines = JSONAttribute(default=list)
    global_discount = JSONAttribute(null=True)  # {"kind": "percent"|"amount", "value": "10"}
    totals = JSONAttribute(default=dict)  # canonical amount texts
    breakdown = JSONAttribute(default=list)
    accepted_line_ids = ListAttribute(of=UnicodeAttribute, null=True)
    partial = BooleanAttribute(default=False)
    supersedes = UnicodeAttribute(null=True)
    superseded_by = UnicodeAttribute(null=True)
    rejection_reason = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=1)
    sent_to = UnicodeAttribute(null=True)  # the address the link was last emailed to
    emailed_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, budget_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BUD#{budget_id}"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#BUD"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#BUD"

    @staticmethod
    def expiry_pk(valid_until: str) -> str:
        return f"BUDEXP#{valid_until}"


class BudgetAcceptance(Item, discriminator="BillingBudgetAcceptance"):
    """Evidence of the acceptance: who signed, how, from where, and which PDF."""

    budget_id = UnicodeAttribute()
    channel = UnicodeAttribute()  # link | staff
    signer_name = UnicodeAttribute()
    relationship = UnicodeAttribute()  # self, madre, padre, tutor...
    signature = UnicodeAttribute(null=True)  # PNG data URL or SVG path
    signature_kind = UnicodeAttribute(null=True)  # png | svg
    accepted_line_ids = ListAttribute(of=UnicodeAttribute)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    accepted_at = UTCDateTimeAttribute()
    pdf_sha256 = UnicodeAttribute()
    pdf_key = UnicodeAttribute(null=True)  # S3 key of the accepted PDF
    link_id = UnicodeAttribute(null=True)
    staff_user_id = UnicodeAttribute(null=True)

    @staticmethod
    def key(clinic_id: str, budget_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"BUD#{budget_id}#ACCEPT"


class BudgetLink(Item, discriminator="BillingBudgetLink"):
    """A signed acceptance link's id: single use by a conditional write on ``used``."""

    clinic_id = UnicodeAttribute()
    budget_id = UnicodeAttribute()
    action = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    used_at = UTCDateTimeAttribute(null=True)
    valid_until = UTCDateTimeAttribute()

    @staticmethod
    def key(link_id: str) -> tuple[str, str]:
        return f"BLINK#{link_id}", "LINK"


class Invoice(Item, discriminator="BillingInvoice"):
    invoice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    status = UnicodeAttribute()  # draft | issued | partially_paid | paid
    kind = UnicodeAttribute(default="ordinary")  # ordinary | rectifying
    series = UnicodeAttribute()  # F (ordinary) | R (rectifying)
    # Assigned at issue only:
    year = NumberAttribute(null=True)
    number = NumberAttribute(null=True)
    num_serie = UnicodeAttribute(null=True)  # NumSerieFactura, e.g. F-2026-000001
    issue_date = UnicodeAttribute(null=True)  # ISO date, clinic zone
    issued_at = UTCDateTimeAttribute(null=True)
    tipo_factura = UnicodeAttribute(null=True)  # F1 | F2 | R1..R5
    issuer = JSONAttribute(null=True)  # {name, legal_name, tax_id, address}
    customer = JSONAttribute(null=True)  # copied at issue: {name, tax_id, tax_id_type, ...}
    # Draft inputs:
    third_party = JSONAttribute(null=True)  # {name, tax_id, address} paying instead of patient
    art4_2 = BooleanAttribute(default=False)  # RD 1619/2012 art. 4.2 operation
    operation_date = UnicodeAttribute(null=True)
    description = UnicodeAttribute()
    notes = UnicodeAttribute(null=True)
    budget_id = UnicodeAttribute(null=True)
    lines = JSONAttribute(default=list)
    breakdown = JSONAttribute(default=list)
    total_base_cents = NumberAttribute(default=0)
    total_vat_cents = NumberAttribute(default=0)
    total_cents = NumberAttribute(default=0)
    paid_cents = NumberAttribute(default=0)  # payments minus refunds
    # Rectifying:
    rectifies = JSONAttribute(null=True)  # [{invoice_id, num_serie, issue_date}]
    rectification_code = UnicodeAttribute(null=True)  # R1..R4 asked; R5 for a simplified original
    rectification_mode = UnicodeAttribute(null=True)  # S (sustitución) | I (diferencias)
    rectification_reason = UnicodeAttribute(null=True)
    rectified_amount = JSONAttribute(null=True)  # {base, cuota} of the original (mode S)
    rectified_by = ListAttribute(of=UnicodeAttribute, null=True)
    # What the customer is asked to pay (ADR 0503): the total plus the differences of the
    # rectifying invoices by differences issued against it; nothing once cancelled (in full,
    # by substitution, or annulled).
    cancelled = BooleanAttribute(default=False)
    differences_cents = NumberAttribute(default=0)
    # Free room for the VERI*FACTU module (e.g. record id, huella, QR URL).
    verifactu = JSONAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)

    @staticmethod
    def key(clinic_id: str, invoice_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INV#{invoice_id}"

    @staticmethod
    def list_pk(clinic_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#INV"

    @staticmethod
    def patient_pk(clinic_id: str, patient_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#PAT#{patient_id}#INV"

    @staticmethod
    def budget_pk(clinic_id: str, budget_id: str) -> str:
        return f"{clinic_pk(clinic_id)}#BUD#{budget_id}#INV"


class InvoiceIssuedOn(Item, discriminator="BillingInvoiceIssuedOn"):
    """An issued invoice under its issue date (clinic zone): the end-of-day email totals a day
    with one Query on ``INVDAY#<date>#`` (issue 23). Written in the issue transaction, never
    changed: what a day invoiced stays what it was (a rectifying invoice is its own entry on
    its own day)."""

    invoice_id = UnicodeAttribute()
    num_serie = UnicodeAttribute()
    total_cents = NumberAttribute()
    # Set (in the annulment's transaction) when the invoice is annulled: it was issued by
    # mistake, so the day did not invoice it (the end-of-day email leaves it out).
    annulled = BooleanAttribute(default=False)

    @staticmethod
    def key(clinic_id: str, issue_date: str, invoice_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INVDAY#{issue_date}#{invoice_id}"

    @staticmethod
    def day_prefix(issue_date: str) -> str:
        return f"INVDAY#{issue_date}#"


class Payment(Item, discriminator="BillingPayment"):
    payment_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # payment | refund
    method = UnicodeAttribute()  # cash | card | transfer | financing
    amount_cents = NumberAttribute()  # positive; a refund subtracts
    reference = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute()
    recorded_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    num_serie = UnicodeAttribute(null=True)  # the invoice's, for the takings and the receipt
    refund_of = UnicodeAttribute(null=True)  # a refund of one payment: that payment's id

    @staticmethod
    def key(clinic_id: str, invoice_id: str, payment_id: str) -> tuple[str, str]:
        return clinic_pk(clinic_id), f"INV#{invoice_id}#PAY#{payment_id}"

    @staticmethod
    def day_pk(clinic_id: str, day: str) -> str:
        """GSI3 key of the payments and refunds of a local day (clinic zone)."""
        return f"{clinic_pk(clinic_id)}#PAYDAY#{day}"
