"""The API's route table: which module serves each route (ADR 0017).

The API is one Lambda. Importing every module's routes, with their schemas and services, on
each cold start cost about three times a bare Chalice app (issue 23), whichever route the
request was for. So ``app.py`` registers every route from ``route_table.json`` (method, path,
content types, module) with a small view that imports the module the first time one of its
routes is called, and hands the request to the handler the module's ``Router`` declared. API
Gateway, the local server and the Chalice test client see the same routes as before.

The JSON file is generated from the routers themselves, and a test fails when it is stale:

    .venv/bin/python -m chalicelib.core.route_table          # rewrite it after changing routes
    .venv/bin/python -m chalicelib.core.route_table --check  # what the test checks
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.core.observability import logger

if TYPE_CHECKING:
    from chalice import Chalice

    from chalicelib.core.api import Router

TABLE_FILE = Path(__file__).with_name("route_table.json")
PREFIX = "/api/v1"

# Every module with routes, in the order the OpenAPI document lists them.
ROUTER_MODULES = (
    "chalicelib.system.routes",
    "chalicelib.identity.routes",
    "chalicelib.audit.routes",
    "chalicelib.patients.routes",
    "chalicelib.imaging.routes",
    "chalicelib.agenda.routes",
    "chalicelib.timeline.routes",
    "chalicelib.charting.routes",
    "chalicelib.perio.routes",
    "chalicelib.notes.routes",
    "chalicelib.ortho.routes",
    "chalicelib.billing.routes",
    "chalicelib.inventory.routes",
    "chalicelib.labs.routes",
    "chalicelib.reports.routes",
    "chalicelib.gdpr.routes",
    "chalicelib.booking.routes",
    "chalicelib.recalls.routes",
    "chalicelib.verifactu.routes",
    "chalicelib.comms.routes",
    "chalicelib.bridge.routes",
    "chalicelib.live.routes",
)


def load_routers() -> list[Router]:
    """Every module's router, imported (what the OpenAPI document and the tests walk)."""
    return [importlib.import_module(name).router for name in ROUTER_MODULES]


def build() -> list[dict[str, Any]]:
    """The table as the routers declare it now."""
    rows = []
    for name in ROUTER_MODULES:
        router = importlib.import_module(name).router
        produces = {(spec.method, spec.path): spec.produces for spec in router.specs}
        for (method, path), types in router.content_types.items():
            rows.append(
                {
                    "method": method,
                    "path": path,
                    "content_types": list(types),
                    "produces": produces[(method, path)],
                    "module": name,
                    "view": router.handlers[(method, path)].__name__,
                }
            )
    return rows


def read() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    return rows


def _binary(media_type: str) -> bool:
    return not (
        media_type.startswith("text/") or media_type in ("application/json", "application/xml")
    )


def _lazy_view(module: str, method: str, path: str, view: str) -> Callable[..., Any]:
    handler: Callable[..., Any] | None = None

    def serve(**path_params: str) -> Any:
        nonlocal handler
        if handler is None:
            # The import lock makes a concurrent first call wait for the same import.
            handler = importlib.import_module(module).router.handlers[(method, path)]
        return handler(**path_params)

    serve.__name__ = view
    serve.__qualname__ = view
    return serve


def register(app: Chalice) -> None:
    """Every route of the table on ``app``, each importing its module on first call."""
    for row in read():
        # A binary answer (a PDF) must be base64-encoded by API Gateway: the app lists its type.
        if _binary(row["produces"]) and row["produces"] not in app.api.binary_types:
            app.api.binary_types.append(row["produces"])
        app.route(
            PREFIX + row["path"],
            methods=[row["method"]],
            content_types=list(row["content_types"]),
        )(_lazy_view(row["module"], row["method"], row["path"], row["view"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.core.route_table",
        description="Rewrite (or check) chalicelib/core/route_table.json from the routers.",
    )
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    # One route per line: a change of routes is a readable diff.
    lines = [json.dumps(row, ensure_ascii=False) for row in build()]
    text = "[\n" + ",\n".join(lines) + "\n]\n"
    if args.check:
        if TABLE_FILE.read_text(encoding="utf-8") != text:
            logger.error(
                "route table is stale: run python -m chalicelib.core.route_table",
                extra={"file": str(TABLE_FILE)},
            )
            return 1
        logger.info("route table matches the routers", extra={"file": str(TABLE_FILE)})
        return 0
    TABLE_FILE.write_text(text, encoding="utf-8")
    logger.info("route table written", extra={"file": str(TABLE_FILE), "routes": len(lines)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
