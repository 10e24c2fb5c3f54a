"""Routes of the reports module (issue 18): the owner's dashboard figures, the list behind each
figure and their CSV exports. Handlers parse, call one service function and shape the
response."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.core.api import Page, Req, Router
from chalicelib.reports import figures, lists, schemas

router = Router("reports")
r = router.route
READ, EXPORT = "reports.read", "reports.export"


def _csv(name: str, body: str) -> Response:
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@r(
    "/reports/summary",
    "GET",
    permission=READ,
    query=schemas.RangeQuery,
    response=schemas.SummaryOut,
    summary="The practice's figures for local days from-to (by day up to 62 days, else by month)",
)
def summary(req: Req) -> Any:
    first, last = figures.parse_range(req.query.date_from, req.query.date_to)
    return figures.summary(req.user.clinic_id, first, last)


@r(
    "/reports/pending",
    "GET",
    permission=READ,
    response=schemas.PendingOut,
    summary="Outstanding balances and pending budgets as of now, with their ages",
)
def pending(req: Req) -> schemas.PendingOut:
    return figures.pending(req.user.clinic_id)


@r(
    "/reports/items",
    "GET",
    permission=READ,
    query=schemas.ItemsQuery,
    response=list[schemas.ItemRow],
    paged=True,
    summary="The records behind a figure (by day then id; state lists oldest first)",
)
def items(req: Req) -> Page:
    return lists.items(req.user, req.query)


@r(
    "/reports/summary/export",
    "GET",
    permission=EXPORT,
    query=schemas.SummaryExportQuery,
    produces="text/csv",
    summary="The summary as CSV, one row per period, professional or cabinet (audited)",
)
def export_summary(req: Req) -> Response:
    return _csv(*lists.export_summary(req.user, req.query))


@r(
    "/reports/items/export",
    "GET",
    permission=EXPORT,
    query=schemas.ItemsExportQuery,
    produces="text/csv",
    summary="Every record behind a figure as CSV (audited)",
)
def export_items(req: Req) -> Response:
    return _csv(*lists.export_items(req.user, req.query))
