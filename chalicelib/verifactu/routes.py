"""VERI*FACTU routes: chain verification, records, the invoice's record state, annulment,
subsanación, the AEAT certificate and the settings. Importing this module plugs the record
hooks into billing (``service.register()``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.core.api import Page, Req, Router
from chalicelib.verifactu import books, certificates, service
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu import reconciliation as recon
from chalicelib.verifactu import settings as vf_settings

router = Router("verifactu")
READ, ADMIN = "verifactu.read", "verifactu.admin"
BOOKS = "verifactu.books.export"


def r(path: str, method: str = "GET", **spec: Any) -> Callable[[Callable], Callable]:
    """``router.route`` for a module only Spanish clinics load: after authentication and the
    permission check, another country's clinic gets a 409 ``VERIFACTU_NOT_ES``."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def spanish_only(req: Req, **path_params: str) -> Any:
            service.require_es(req.user.clinic_id)
            return view(req, **path_params)

        router.route(path, method, **spec)(spanish_only)
        return view

    return decorator


@r(
    "/verifactu/chain/verify",
    "GET",
    permission=READ,
    query=c.VerifyQuery,
    response=c.VerifyOut,
    summary="Recompute every huella and link of the chain(s), and with archive=true compare "
    "each record with its WORM copy: first break or intact",
)
def verify_chain(req: Req) -> c.VerifyOut:
    return service.verify(req.user, with_archive=req.query.archive)


@r(
    "/verifactu/records",
    "GET",
    permission=READ,
    query=c.RecordQuery,
    response=c.RecordOut,
    paged=True,
    summary="Records, newest first (filter by status)",
)
def list_records(req: Req) -> Page:
    return service.list_records(req.user, req.query)


@r(
    "/verifactu/records/{record_id}",
    "GET",
    permission=READ,
    response=c.RecordDetailOut,
    summary="One record: stored fields, XML, AEAT state",
)
def get_record(req: Req, record_id: str) -> c.RecordDetailOut:
    return service.get_record(req.user, record_id)


@r(
    "/verifactu/records/{record_id}/subsanacion",
    "POST",
    permission=ADMIN,
    body=c.SubsanacionIn,
    response=c.RecordDetailOut,
    status=201,
    summary="Correct a rejected record with a new one (Subsanacion S / RechazoPrevio)",
)
def subsanar(req: Req, record_id: str) -> c.RecordDetailOut:
    return service.subsanar(req.user, record_id, req.body)


@r(
    "/verifactu/invoices/{invoice_id}",
    "GET",
    permission=READ,
    response=c.InvoiceVerifactuOut,
    summary="The invoice's VERI*FACTU state: status, AEAT code, QR URL, records",
)
def invoice_status(req: Req, invoice_id: str) -> c.InvoiceVerifactuOut:
    return service.invoice_status(req.user, invoice_id)


@r(
    "/verifactu/invoices/{invoice_id}/annul",
    "POST",
    permission=ADMIN,
    body=c.AnnulIn,
    response=c.InvoiceVerifactuOut,
    summary="Annul an invoice issued by mistake (registro de anulación)",
)
def annul(req: Req, invoice_id: str) -> c.InvoiceVerifactuOut:
    return service.annul(req.user, invoice_id, req.body)


@r(
    "/verifactu/certificate",
    "POST",
    permission=ADMIN,
    body=c.CertificateIn,
    response=c.CertificateOut,
    status=201,
    summary="Upload the AEAT client certificate (PKCS#12 base64 + password)",
)
def upload_certificate(req: Req) -> c.CertificateOut:
    return certificates.upload(req.user, req.body)


@r(
    "/verifactu/certificate",
    "GET",
    permission=ADMIN,
    response=c.CertificateOut,
    summary="The certificate's metadata (never the key); expires_soon within 30 days",
)
def get_certificate(req: Req) -> c.CertificateOut:
    return certificates.get(req.user)


@r(
    "/verifactu/settings",
    "GET",
    permission=ADMIN,
    response=c.SettingsOut,
    summary="Environment, SIF data, certificate, submission state and alerts",
)
def get_verifactu_settings(req: Req) -> c.SettingsOut:
    return vf_settings.get(req.user, req.lang)


@r(
    "/verifactu/status",
    "GET",
    permission=READ,
    response=c.StatusOut,
    summary="The ledger's state for staff: environment, each chain's submission state, "
    "blocked series and alerts (no certificate or SIF data)",
)
def get_verifactu_status(req: Req) -> c.StatusOut:
    return vf_settings.status(req.user, req.lang)


@r(
    "/verifactu/settings",
    "PUT",
    permission=ADMIN,
    body=c.SettingsIn,
    response=c.SettingsOut,
    summary="Switch to production (explicit confirmation: the clinic's NIF)",
)
def put_verifactu_settings(req: Req) -> c.SettingsOut:
    return vf_settings.put(req.user, req.body, req.lang)


@r(
    "/verifactu/submission/release",
    "POST",
    permission=ADMIN,
    response=c.SettingsOut,
    summary="Resume sending after a failed (Client fault) submission",
)
def release(req: Req) -> c.SettingsOut:
    return vf_settings.release(req.user, req.lang)


# --- reconciliation with the AEAT (ADR 0205) -------------------------------------------------


@r(
    "/verifactu/reconciliation/records",
    "GET",
    permission=READ,
    query=c.ReconciliationQuery,
    response=c.RecordOut,
    paged=True,
    summary="Records whose AEAT state differs from ours (open discrepancies), in chain order",
)
def list_reconciliation_records(req: Req) -> Page:
    return recon.list_discrepancies(req.user, req.query)


@r(
    "/verifactu/reconciliation/days",
    "GET",
    permission=READ,
    query=c.ReconciliationQuery,
    response=c.ReconciliationDayOut,
    paged=True,
    summary="Daily reconciliations with the AEAT, newest first (differences, what it holds "
    "that we do not)",
)
def list_reconciliation_days(req: Req) -> Page:
    return recon.list_days(req.user, req.query)


# --- the invoice book (ADR 0206): routes whose job is to read everything for the period ----


@r(
    "/verifactu/book/issued",
    "GET",
    permission=BOOKS,
    query=c.BookQuery,
    produces="text/csv",
    summary="Libro registro de facturas expedidas of a period (at most 366 days) as CSV "
    "(';', decimal comma, UTF-8 with BOM); X-Next-Cursor names the next part",
)
def book_issued(req: Req) -> Response:
    return books.issued_csv(req.user, req.query)


@r(
    "/verifactu/book/records",
    "GET",
    permission=BOOKS,
    query=c.BookQuery,
    produces="application/xml",
    summary="The period's records as sent: RegFactuSistemaFacturacion (up to 1,000 records, "
    "valid against SuministroLR.xsd); X-Next-Cursor names the next part",
)
def book_records(req: Req) -> Response:
    return books.records_xml(req.user, req.query, service.as_model)
