"""Billing routes: catalog and VAT types, budgets, invoices, payments, and the patient's
public budget page. Handlers parse, call one service function and shape the response."""

from __future__ import annotations

from chalice import Response

from chalicelib.billing import budgets, catalog, invoices, payments, public, schemas
from chalicelib.core.api import PUBLIC, Page, Req, Router

router = Router("billing")
r = router.route
PDF = "application/pdf"


def _pdf(data: bytes, filename: str) -> Response:
    return Response(
        body=data,
        status_code=200,
        headers={"Content-Type": PDF, "Content-Disposition": f'inline; filename="{filename}"'},
    )


# --- VAT types and catalog -----------------------------------------------------------------


@r(
    "/billing/vat-types",
    "GET",
    permission="billing.catalog.read",
    response=list[schemas.VatTypeOut],
    summary="VAT types (Spanish defaults included)",
)
def list_vat_types(req: Req) -> list[schemas.VatTypeOut]:
    return catalog.list_vat_types(req.user)


@r(
    "/billing/vat-types",
    "POST",
    permission="billing.catalog.write",
    body=schemas.VatTypeIn,
    response=schemas.VatTypeOut,
    status=201,
    summary="Add a VAT type",
)
def create_vat_type(req: Req) -> schemas.VatTypeOut:
    return catalog.create_vat_type(req.user, req.body)


@r(
    "/billing/vat-types/{code}",
    "PATCH",
    permission="billing.catalog.write",
    body=schemas.VatTypeUpdate,
    response=schemas.VatTypeOut,
    summary="Rename or deactivate a VAT type",
)
def update_vat_type(req: Req, code: str) -> schemas.VatTypeOut:
    return catalog.update_vat_type(req.user, code, req.body)


@r(
    "/billing/treatments",
    "GET",
    permission="billing.catalog.read",
    query=schemas.TreatmentQuery,
    response=list[schemas.TreatmentOut],
    paged=True,
    summary="The treatment catalog, by code",
)
def list_treatments(req: Req) -> Page:
    return catalog.list_treatments(req.user, req.query)


@r(
    "/billing/treatments",
    "POST",
    permission="billing.catalog.write",
    body=schemas.TreatmentIn,
    response=schemas.TreatmentOut,
    status=201,
    summary="Add a treatment",
)
def create_treatment(req: Req) -> schemas.TreatmentOut:
    return catalog.create_treatment(req.user, req.body)


@r(
    "/billing/treatments/export",
    "GET",
    permission="billing.catalog.read",
    produces="text/csv",
    summary="The catalog as CSV (semicolon separated, UTF-8 with BOM, decimal comma)",
)
def export_treatments(req: Req) -> Response:
    return Response(
        body=catalog.export_csv(req.user),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="tratamientos.csv"',
        },
    )


@r(
    "/billing/treatments/import",
    "POST",
    permission="billing.catalog.write",
    body=schemas.CsvImportIn,
    response=schemas.CsvImportOut,
    summary="Import treatments from CSV (upsert by code of the columns given; dry run reports)",
)
def import_treatments(req: Req) -> schemas.CsvImportOut:
    return catalog.import_csv(req.user, req.body, req.lang)


@r(
    "/billing/treatments/{treatment_id}",
    "GET",
    permission="billing.catalog.read",
    response=schemas.TreatmentOut,
    summary="A treatment",
)
def get_treatment(req: Req, treatment_id: str) -> schemas.TreatmentOut:
    return catalog.get_treatment(req.user, treatment_id)


@r(
    "/billing/treatments/{treatment_id}",
    "PATCH",
    permission="billing.catalog.write",
    body=schemas.TreatmentUpdate,
    response=schemas.TreatmentOut,
    summary="Edit a treatment",
)
def update_treatment(req: Req, treatment_id: str) -> schemas.TreatmentOut:
    return catalog.update_treatment(req.user, treatment_id, req.body)


# --- budgets -------------------------------------------------------------------------------


@r(
    "/billing/budgets",
    "GET",
    permission="billing.budgets.read",
    query=schemas.BudgetQuery,
    response=list[schemas.BudgetOut],
    paged=True,
    summary="Budgets, newest first",
)
def list_budgets(req: Req) -> Page:
    return budgets.list_budgets(req.user, req.query)


@r(
    "/billing/budgets",
    "POST",
    permission="billing.budgets.write",
    body=schemas.BudgetIn,
    response=schemas.BudgetOut,
    status=201,
    summary="Create a draft budget (numbered)",
)
def create_budget(req: Req) -> schemas.BudgetOut:
    return budgets.create(req.user, req.body)


@r(
    "/billing/budgets/{budget_id}",
    "GET",
    permission="billing.budgets.read",
    response=schemas.BudgetOut,
    summary="A budget with its acceptance record",
)
def get_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.get(req.user, budget_id)


@r(
    "/billing/budgets/{budget_id}",
    "PATCH",
    permission="billing.budgets.write",
    body=schemas.BudgetUpdate,
    response=schemas.BudgetOut,
    summary="Edit a draft budget",
)
def update_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.update(req.user, budget_id, req.body)


@r(
    "/billing/budgets/{budget_id}/send",
    "POST",
    permission="billing.budgets.write",
    body=schemas.SendBudgetIn,
    response=schemas.SendBudgetOut,
    summary="Send: draft -> sent, returns the patient's signed acceptance link",
)
def send_budget(req: Req, budget_id: str) -> schemas.SendBudgetOut:
    return budgets.send(req.user, budget_id, req.body)


@r(
    "/billing/budgets/{budget_id}/accept",
    "POST",
    permission="billing.budgets.write",
    body=schemas.AcceptBudgetIn,
    response=schemas.BudgetOut,
    summary="Record acceptance at the desk (all or some lines)",
)
def accept_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.accept(req.user, budget_id, req.body)


@r(
    "/billing/budgets/{budget_id}/reject",
    "POST",
    permission="billing.budgets.write",
    body=schemas.RejectBudgetIn,
    response=schemas.BudgetOut,
    summary="Record a rejection",
)
def reject_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.reject(req.user, budget_id, req.body)


@r(
    "/billing/budgets/{budget_id}/cancel",
    "POST",
    permission="billing.budgets.write",
    response=schemas.BudgetOut,
    summary="Cancel a draft or sent budget",
)
def cancel_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.cancel(req.user, budget_id)


@r(
    "/billing/budgets/{budget_id}/revise",
    "POST",
    permission="billing.budgets.write",
    response=schemas.BudgetOut,
    status=201,
    summary="New version (draft) that supersedes this budget",
)
def revise_budget(req: Req, budget_id: str) -> schemas.BudgetOut:
    return budgets.revise(req.user, budget_id)


@r(
    "/billing/budgets/{budget_id}/pdf",
    "GET",
    permission="billing.budgets.read",
    produces=PDF,
    summary="The budget's branded PDF",
)
def budget_pdf(req: Req, budget_id: str) -> Response:
    data = budgets.pdf_bytes(req.user, budget_id)
    return _pdf(data, f"presupuesto-{budget_id}.pdf")


@r(
    "/billing/budgets/{budget_id}/accepted-pdf",
    "GET",
    permission="billing.budgets.read",
    produces=PDF,
    summary="The accepted budget's PDF as stored at acceptance (lines, signer, signature, time)",
)
def budget_accepted_pdf(req: Req, budget_id: str) -> Response:
    data, number = budgets.accepted_pdf_bytes(req.user, budget_id)
    return _pdf(data, f"{number}-aceptado.pdf")


# --- invoices ------------------------------------------------------------------------------


@r(
    "/billing/invoices",
    "GET",
    permission="billing.invoices.read",
    query=schemas.InvoiceQuery,
    response=list[schemas.InvoiceOut],
    paged=True,
    summary="Invoices, newest first",
)
def list_invoices(req: Req) -> Page:
    return invoices.list_invoices(req.user, req.query)


@r(
    "/billing/invoices",
    "POST",
    permission="billing.invoices.write",
    body=schemas.InvoiceIn,
    response=schemas.InvoiceOut,
    status=201,
    summary="Draft invoice: from accepted budget lines or manual",
)
def create_invoice(req: Req) -> schemas.InvoiceOut:
    return invoices.create(req.user, req.body)


@r(
    "/billing/invoices/{invoice_id}",
    "GET",
    permission="billing.invoices.read",
    response=schemas.InvoiceOut,
    summary="An invoice",
)
def get_invoice(req: Req, invoice_id: str) -> schemas.InvoiceOut:
    return invoices.get(req.user, invoice_id)


@r(
    "/billing/invoices/{invoice_id}",
    "PATCH",
    permission="billing.invoices.write",
    body=schemas.InvoiceUpdate,
    response=schemas.InvoiceOut,
    summary="Edit a draft (an issued invoice answers 409)",
)
def update_invoice(req: Req, invoice_id: str) -> schemas.InvoiceOut:
    return invoices.update(req.user, invoice_id, req.body)


@r(
    "/billing/invoices/{invoice_id}",
    "DELETE",
    permission="billing.invoices.write",
    status=204,
    summary="Delete a draft (an issued invoice answers 409)",
)
def delete_invoice(req: Req, invoice_id: str) -> None:
    invoices.delete(req.user, invoice_id)


@r(
    "/billing/invoices/{invoice_id}/issue",
    "POST",
    permission="billing.invoices.issue",
    response=schemas.InvoiceOut,
    summary="Issue: gapless number, date, customer and type fixed",
)
def issue_invoice(req: Req, invoice_id: str) -> schemas.InvoiceOut:
    return invoices.issue(req.user, invoice_id)


@r(
    "/billing/invoices/{invoice_id}/rectify",
    "POST",
    permission="billing.invoices.issue",
    body=schemas.RectifyIn,
    response=schemas.InvoiceOut,
    status=201,
    summary="Draft rectifying invoice (series R) that corrects or cancels an issued one",
)
def rectify_invoice(req: Req, invoice_id: str) -> schemas.InvoiceOut:
    return invoices.rectify(req.user, invoice_id, req.body)


@r(
    "/billing/invoices/{invoice_id}/pdf",
    "GET",
    permission="billing.invoices.read",
    produces=PDF,
    summary="The invoice PDF (VERI*FACTU QR area on the first page)",
)
def invoice_pdf(req: Req, invoice_id: str) -> Response:
    data = invoices.pdf_bytes(req.user.clinic_id, invoice_id)
    return _pdf(data, f"factura-{invoice_id}.pdf")


@r(
    "/billing/invoices/{invoice_id}/email",
    "POST",
    permission="billing.invoices.write",
    body=schemas.InvoiceEmailIn,
    response=schemas.InvoiceEmailOut,
    summary="Email the invoice PDF to the patient (422 when the patient has no email)",
)
def email_invoice(req: Req, invoice_id: str) -> schemas.InvoiceEmailOut:
    return invoices.email(req.user, invoice_id, req.body)


@r(
    "/billing/invoices/{invoice_id}/payments",
    "GET",
    permission="billing.invoices.read",
    response=list[schemas.PaymentOut],
    summary="Payments and refunds of an invoice",
)
def list_payments(req: Req, invoice_id: str) -> list[schemas.PaymentOut]:
    return payments.list_for_invoice(req.user, invoice_id)


@r(
    "/billing/invoices/{invoice_id}/payments",
    "POST",
    permission="billing.payments.write",
    body=schemas.PaymentIn,
    response=schemas.PaymentResult,
    status=201,
    summary="Record a payment (400 above the outstanding amount)",
)
def record_payment(req: Req, invoice_id: str) -> schemas.PaymentResult:
    return payments.record(req.user, invoice_id, req.body)


@r(
    "/billing/invoices/{invoice_id}/refunds",
    "POST",
    permission="billing.payments.write",
    body=schemas.RefundIn,
    response=schemas.PaymentResult,
    status=201,
    summary="Refund part or all of what was paid",
)
def refund_payment(req: Req, invoice_id: str) -> schemas.PaymentResult:
    return payments.refund(req.user, invoice_id, req.body)


@r(
    "/billing/patients/{patient_id}/balance",
    "GET",
    permission="billing.invoices.read",
    response=schemas.BalanceOut,
    summary="The patient's outstanding balance",
)
def patient_balance(req: Req, patient_id: str) -> schemas.BalanceOut:
    return payments.balance(req.user, patient_id)


@r(
    "/billing/payments/{payment_id}/receipt/pdf",
    "GET",
    permission="billing.invoices.read",
    produces=PDF,
    summary="The receipt of a payment (or the proof of a refund) as PDF",
)
def payment_receipt_pdf(req: Req, payment_id: str) -> Response:
    name, data = payments.receipt_pdf(req.user, payment_id)
    return _pdf(data, name)


@r(
    "/billing/payments/{payment_id}/receipt/email",
    "POST",
    permission="billing.payments.write",
    response=schemas.ReceiptEmailOut,
    summary="Email the receipt PDF to the patient (409 when they have no usable address)",
)
def email_payment_receipt(req: Req, payment_id: str) -> schemas.ReceiptEmailOut:
    return payments.email_receipt(req.user, payment_id)


@r(
    "/billing/takings",
    "GET",
    permission="billing.payments.write",
    query=schemas.TakingsQuery,
    response=schemas.TakingsOut,
    summary="A day's takings by method, refunds subtracted (default today, clinic zone)",
)
def day_takings(req: Req) -> schemas.TakingsOut:
    return payments.takings(req.user, req.query)


@r(
    "/billing/takings/export",
    "GET",
    permission="billing.payments.write",
    query=schemas.TakingsQuery,
    produces="text/csv",
    summary="A day's takings as CSV (UTF-8 with BOM; in Spanish ';' and decimal commas)",
)
def export_takings(req: Req) -> Response:
    name, text = payments.takings_csv(req.user, req.query, req.lang)
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# --- public: the patient's budget page ----------------------------------------------------


@r(
    "/public/budgets/{token}",
    "GET",
    permission=PUBLIC,
    produces="text/html",
    summary="Patient's budget page (signed link; changes nothing)",
    tags=("public",),
)
def public_budget(req: Req, token: str) -> Response:
    return public.view(token, req.ip)


@r(
    "/public/budgets/{token}",
    "POST",
    permission=PUBLIC,
    produces="text/html",
    content_types=("application/x-www-form-urlencoded", "application/json"),
    summary="Accept the budget: typed name, relationship, drawn signature",
    tags=("public",),
)
def public_accept_budget(req: Req, token: str) -> Response:
    ctype = req.headers.get("content-type", "")
    return public.accept(token, req.raw_body, ctype, req.ip, req.user_agent)


@r(
    "/public/budgets/{token}/pdf",
    "GET",
    permission=PUBLIC,
    produces=PDF,
    summary="The budget PDF behind a signed link",
    tags=("public",),
)
def public_budget_pdf(req: Req, token: str) -> Response:
    return public.pdf(token, req.ip)
