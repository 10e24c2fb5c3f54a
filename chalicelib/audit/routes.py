from __future__ import annotations

from chalice import Response

from chalicelib.audit import service
from chalicelib.audit.schemas import AuditEntryOut, AuditQuery
from chalicelib.core.api import Page, Req, Router

router = Router("audit")


@router.route(
    "/audit",
    "GET",
    permission="audit.read",
    query=AuditQuery,
    response=list[AuditEntryOut],
    paged=True,
    summary="The audit log, newest first; filter by user, entity and date range",
)
def list_audit(req: Req) -> Page:
    items, cursor = service.search(req.user, req.query)
    return Page(items, cursor)


@router.route(
    "/audit/export",
    "GET",
    permission="audit.read",
    query=AuditQuery,
    produces="text/csv",
    summary="The audit log as CSV (same filters)",
)
def export_audit(req: Req) -> Response:
    return Response(
        body=service.export_csv(req.user, req.query),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="audit.csv"',
        },
    )
