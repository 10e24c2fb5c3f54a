"""Routes of the reports module (issue 18): the owner's dashboard figures, the list behind each
figure and their CSV exports. Handlers parse, call one service function and shape the
response."""

from __future__ import annotations

from chalicelib.core.api import Router

router = Router("reports")
r = router.route
READ, EXPORT = "reports.read", "reports.export"
