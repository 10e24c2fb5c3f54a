"""The OpenAPI 3.1 document, generated from the routes' declarations and pydantic schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.core.api import AUTHENTICATED, DEVICE, JSON, PUBLIC, Router, RouteSpec
from chalicelib.core.config import settings

REF = "#/components/schemas/{model}"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["data", "message"],
    "properties": {
        "data": {},
        "message": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                # A CSV import names the row of each problem and may have no field to blame.
                "properties": {
                    "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "row": {"type": "integer"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


HTML = "text/html"
# What a public page answers instead of the page (its own HTML, never the JSON envelope).
PAGE_PROBLEMS = {
    "404": "The link is unknown or was tampered with",
    "409": "The budget changed since the link was sent",
    "410": "The link expired or was already used",
    "422": "The form is incomplete (the page says what is missing)",
    "429": "Too many requests from this address; try again later",
}

Refs = dict[type[BaseModel], dict[str, str]]

# Problems a route answers beyond the ones every route of its kind does (``build`` documents
# those). Found by the fuzz run (tests/fuzz, docs/adr/0013-fuzzing.md): each one is what the
# service really answers, with the code it carries.
EXTRA_PROBLEMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/auth/login"): {"401": "Wrong email or password (INVALID_CREDENTIALS)"},
    ("POST", "/auth/refresh"): {"401": "The refresh token is not valid (INVALID_REFRESH_TOKEN)"},
    ("POST", "/auth/switch-clinic"): {"403": "Not an active member of that clinic (NOT_A_MEMBER)"},
    ("GET", "/verifactu/certificate"): {"404": "No certificate uploaded (CERTIFICATE_NOT_FOUND)"},
    ("DELETE", "/comms/whatsapp"): {"404": "WhatsApp is not connected (WHATSAPP_NOT_CONNECTED)"},
    ("POST", "/comms/whatsapp/test"): {"404": "WhatsApp is not connected (WHATSAPP_NOT_CONNECTED)"},
    ("GET", "/public/whatsapp/{clinic_id}/webhook"): {"403": "The verify token does not match"},
    ("POST", "/public/whatsapp/{clinic_id}/webhook"): {
        "400": "The notification is not valid JSON",
        "401": "Missing or wrong X-Hub-Signature-256",
    },
}
# A route that answers something other than JSON answers its problems in its own media type
# too: a Meta webhook check in plain text, a public page's PDF with the page's HTML.
PROBLEMS_AS: dict[tuple[str, str], str] = {
    ("GET", "/public/whatsapp/{clinic_id}/webhook"): "text/plain",
    ("GET", "/public/budgets/{token}/pdf"): "text/html",
    ("GET", "/public/booking/{clinic_id}/widget.js"): "text/javascript",
}
# Pages that answer more than every page does (PAGE_PROBLEMS), as a page too.
BOOKING_OFF = "Online booking is switched off for this clinic (the page says to call)"
EXTRA_PAGE_PROBLEMS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/public/booking/{clinic_id}"): {"403": BOOKING_OFF},
    ("POST", "/public/booking/{clinic_id}"): {
        "400": "The form names no bookable type or time, or its proof of work did not verify",
        "403": BOOKING_OFF,
    },
}


def _models(specs: list[RouteSpec]) -> list[type[BaseModel]]:
    """Every model a route names, once each; two models may share a class name (each module
    has its ``SettingsOut``): pydantic then gives each its own component name."""
    seen: dict[type[BaseModel], None] = {}
    for s in specs:
        for m in (s.body, s.query):
            if m is not None:
                seen[m] = None
        r = s.response
        inner = getattr(r, "__args__", (r,))
        for m in inner:
            if isinstance(m, type) and issubclass(m, BaseModel):
                seen[m] = None
    return list(seen)


def _schema_of(response: Any, refs: Refs) -> dict[str, Any]:
    if response is None:
        return {}
    if isinstance(response, type) and issubclass(response, BaseModel):
        return refs[response]
    args = getattr(response, "__args__", None)
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return {"type": "array", "items": refs[args[0]]}
    return TypeAdapter(response).json_schema(ref_template=REF)


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, by_alias=True)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _path_params(path: str) -> list[dict[str, Any]]:
    return [
        {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for seg in path.split("/")
        if seg.startswith("{") and seg.endswith("}")
    ]


def build(routers: list[Router], prefix: str = "/api/v1") -> dict[str, Any]:
    specs = [s for r in routers for s in r.specs]
    by_mode, top = models_json_schema([(m, "validation") for m in _models(specs)], ref_template=REF)
    refs: Refs = {model: ref for (model, _), ref in by_mode.items()}
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for s in specs:
        op: dict[str, Any] = {
            "operationId": s.operation_id,
            "summary": s.summary,
            "tags": list(s.tags),
            "x-permission": s.permission,
            "parameters": _path_params(s.path) + (_query_params(s.query) if s.query else []),
            "responses": {},
        }
        if s.permission == DEVICE:
            op["security"] = [{"deviceKey": []}]
            op["responses"]["401"] = _err("Not a valid device key (DEVICE_KEY_INVALID)")
            op["responses"]["429"] = _err("Too many calls with this key; see Retry-After")
        elif s.permission != PUBLIC:
            op["security"] = [{"bearer": []}]
            op["responses"]["401"] = _err("Not signed in, or the token is invalid or expired")
            if s.permission != AUTHENTICATED:
                op["responses"]["403"] = _err(f"Needs the '{s.permission}' permission")
        else:
            op["security"] = []
        if s.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": refs[s.body]}},
            }
        if s.body is not None or s.query is not None:
            op["responses"]["400"] = _err("The body is not valid JSON, or the cursor is not valid")
            op["responses"]["422"] = _err("Validation failed (field errors)")
        if s.status == 204:
            op["responses"]["204"] = {"description": "Done"}
        elif s.produces != JSON:
            op["responses"][str(s.status)] = {
                "description": "OK",
                "content": {s.produces: {"schema": {"type": "string"}}},
            }
        else:
            data = _schema_of(s.response, refs)
            if s.paged and data.get("type") != "array":
                data = {"type": "array", "items": data}  # a paged route names its item
            if s.paged:
                data = {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": data,
                        "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                }
            op["responses"][str(s.status)] = {
                "description": "OK",
                "content": {
                    JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["data", "message"],
                            # null, except where a route adds a note for people (the
                            # password-reset request repeats its answer there).
                            "properties": {
                                "data": data,
                                "message": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                            },
                        }
                    }
                },
            }
        if _path_params(s.path) or s.body is not None or s.query is not None:
            # Every id a request names, in its path, body or query, is looked up in the
            # caller's clinic only: another clinic's id is as unknown as a made-up one.
            op["responses"]["404"] = _err("Something the request names is not in this clinic")
        if s.method != "GET" and s.produces == JSON:
            op["responses"]["409"] = _err(
                "Conflicts with the current state (a duplicate, a status that does not allow "
                "it, a plan limit); `code` says which"
            )
        if s.permission == PUBLIC:
            op["responses"]["429"] = _err("Too many requests from this address; see Retry-After")
        for status, text in EXTRA_PROBLEMS.get((s.method, s.path), {}).items():
            op["responses"][status] = _err(text)
        problems_as = PROBLEMS_AS.get((s.method, s.path))
        if s.produces == HTML or problems_as == HTML:
            # A page answers its problems as a page too, in the patient's language.
            for status in [k for k in op["responses"] if not k.startswith("2")]:
                del op["responses"][status]
            page_problems = {**PAGE_PROBLEMS, **EXTRA_PAGE_PROBLEMS.get((s.method, s.path), {})}
            for status, text in page_problems.items():
                op["responses"][status] = {
                    "description": text,
                    "content": {HTML: {"schema": {"type": "string"}}},
                }
        elif problems_as is not None:
            # Its own refusals in its type; validation still answers in the JSON envelope.
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    response["content"][problems_as] = {"schema": {"type": "string"}}
        paths.setdefault(prefix + s.path, {})[s.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cúspide API",
            "version": settings().version,
            "description": "REST API of Cúspide. Every response is an envelope "
            '`{"data": ..., "message": null}`; errors carry `message`, `code` and `errors`.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "deviceKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "cbk_<prefix>.<secret> (a Bridge device's API key)",
                },
            },
        },
    }


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
