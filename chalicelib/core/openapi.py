"""The OpenAPI 3.1 document, generated from the routes' declarations and pydantic schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.core.api import AUTHENTICATED, JSON, PUBLIC, Router, RouteSpec
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
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _models(specs: list[RouteSpec]) -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for s in specs:
        for m in (s.body, s.query):
            if m is not None:
                seen[m.__name__] = m
        r = s.response
        inner = getattr(r, "__args__", (r,))
        for m in inner:
            if isinstance(m, type) and issubclass(m, BaseModel):
                seen[m.__name__] = m
    return list(seen.values())


def _schema_of(response: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if response is None:
        return {}
    if isinstance(response, type) and issubclass(response, BaseModel):
        return {"$ref": REF.format(model=response.__name__)}
    args = getattr(response, "__args__", None)
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return {"type": "array", "items": {"$ref": REF.format(model=args[0].__name__)}}
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
    _, top = models_json_schema([(m, "validation") for m in _models(specs)], ref_template=REF)
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
        if s.permission != PUBLIC:
            op["security"] = [{"bearer": []}]
            op["responses"]["401"] = _err("Not signed in, or the token is invalid or expired")
            if s.permission != AUTHENTICATED:
                op["responses"]["403"] = _err(f"Needs the '{s.permission}' permission")
        else:
            op["security"] = []
        if s.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": {"$ref": REF.format(model=s.body.__name__)}}},
            }
            op["responses"]["400"] = _err("The body is not valid JSON")
        if s.body is not None or s.query is not None:
            op["responses"]["422"] = _err("Validation failed (field errors)")
        if s.status == 204:
            op["responses"]["204"] = {"description": "Done"}
        elif s.produces != JSON:
            op["responses"][str(s.status)] = {
                "description": "OK",
                "content": {s.produces: {"schema": {"type": "string"}}},
            }
        else:
            data = _schema_of(s.response, schemas)
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
                            "properties": {"data": data, "message": {"type": "null"}},
                        }
                    }
                },
            }
        if _path_params(s.path):
            op["responses"]["404"] = _err("Not found in this clinic")
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
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
