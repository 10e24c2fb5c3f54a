"""How a route is declared: permission, input and output schemas, and the envelope.

Every module exposes a :class:`Router`; ``app.py`` registers them under ``/api/v1``. A route::

    @router.route("/patients/{patient_id}", "GET", permission="patients.read",
                  response=PatientOut, summary="Get a patient")
    def get_patient(req: Req, patient_id: str) -> PatientOut:
        return service.get(req.principal, patient_id)

The wrapper, in order: authenticates (401), checks the permission (403), parses the query and
the JSON body with the declared pydantic models (400 for bad JSON, 422 with field errors),
calls the view, and wraps what it returns in ``{"data": ..., "message": null}``. Any
:class:`~chalicelib.core.errors.ApiError` becomes the error envelope; anything else is logged
(without request data) and answered 500. The declarations also produce the OpenAPI document
(``chalicelib.core.openapi``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from chalicelib.core import i18n, jsontext, rbac, scoping
from chalicelib.core.config import settings
from chalicelib.core.errors import ApiError, BadRequest, Forbidden, Unauthorized, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.observability import logger

PUBLIC = "public"
"""No authentication (still rate-limited by the route itself)."""
AUTHENTICATED = "authenticated"
"""Any signed-in staff member of the clinic, whatever their role."""
DEVICE = "device"
"""A Bridge device only: ``Authorization: Bearer cbk_...`` (its API key); a staff token gets
401, and a device key gets 401 on every other route (it is not a JWT). See
docs/adr/1001-bridge-devices.md."""
DEVICE_KEY_PREFIX = "cbk_"

JSON = "application/json"


@dataclass
class Principal:
    """The authenticated caller of a staff route: a user acting in one clinic."""

    user_id: str
    clinic_id: str
    session_id: str
    role: str
    plan: str
    permissions: frozenset[str]
    email: str = ""
    name: str = ""
    ip: str | None = None
    user_agent: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> dict[str, Any]:
        """Who did it, for audit entries and events."""
        return {
            "type": "user",
            "id": self.user_id,
            "name": self.name,
            "ip": self.ip,
            "user_agent": self.user_agent,
        }


@dataclass
class DevicePrincipal:
    """The authenticated caller of a device route: one Bridge device of one clinic. It holds
    no staff permission, so no staff route or service accepts it."""

    device_id: str
    clinic_id: str
    name: str
    key_prefix: str
    key_expires_at: datetime | None = None  # set while a rotated-out key is in its grace
    ip: str | None = None
    user_agent: str | None = None

    def can(self, permission: str) -> bool:
        return False

    @property
    def actor(self) -> dict[str, Any]:
        """Who did it, for audit entries and events."""
        return {
            "type": "device",
            "id": self.device_id,
            "name": self.name,
            "ip": self.ip,
            "user_agent": self.user_agent,
        }


@dataclass
class Req:
    """What a view receives."""

    principal: Principal | DevicePrincipal | None
    body: Any
    query: Any
    headers: dict[str, str]
    raw_body: bytes
    ip: str | None
    user_agent: str | None
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> Principal:
        assert isinstance(self.principal, Principal)  # only on staff routes
        return self.principal

    @property
    def device(self) -> DevicePrincipal:
        assert isinstance(self.principal, DevicePrincipal)  # only on DEVICE routes
        return self.principal

    @property
    def lang(self) -> str:
        """The caller's language (Accept-Language, ADR 0009), for texts inside a response."""
        return i18n.negotiate(self.headers.get("accept-language"))


@dataclass
class Page:
    """A page of a list endpoint: ``data = {"items": [...], "next_cursor": ...}``."""

    items: list[Any]
    next_cursor: str | None


@dataclass
class RouteSpec:
    method: str
    path: str
    permission: str
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    paged: bool
    produces: str
    operation_id: str


class _PerThread:
    """An attribute whose value belongs to the thread that set it (a data descriptor, so it
    wins over the instance's ``__dict__``, where Chalice would otherwise share it)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(self._local, self._name, None)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(self._local, self._name, value)


class App(Chalice):
    """Chalice with its per-request attributes kept per thread.

    Chalice stores the request being served on the app object itself (``current_request``,
    ``lambda_context``), which is right for Lambda (one request per process at a time) but lets
    the threads of the local server (``infra/local/server.py``) read each other's requests:
    another caller's token, body or language. Per thread, each request is as isolated as a
    Lambda invocation; in Lambda nothing changes.
    """

    current_request = _PerThread()  # type: ignore[assignment]
    lambda_context = _PerThread()  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        global _app
        _app = self


_app: App | None = None


def current_request() -> Any:
    """The request the app is serving on this thread (the route handlers read it here: their
    modules are imported on first use, not registered on the app as blueprints, ADR 0017)."""
    if _app is None:
        raise RuntimeError("no App has been created")
    return _app.current_request


PrincipalResolver = Callable[[str, str | None, str | None], Principal]
_resolver: PrincipalResolver | None = None


def set_principal_resolver(resolver: PrincipalResolver) -> None:
    """Installed by app.py: turns a bearer token (+ ip, user agent) into a Principal."""
    global _resolver
    _resolver = resolver


DeviceResolver = Callable[[str, str | None, str | None], DevicePrincipal]
_device_resolver: DeviceResolver | None = None


def set_device_resolver(resolver: DeviceResolver) -> None:
    """Installed by ``chalicelib.bridge.routes`` at import: turns a device API key (+ ip, user
    agent) into a DevicePrincipal, or raises 401 ``DEVICE_KEY_INVALID`` (or 429)."""
    global _device_resolver
    _device_resolver = resolver


def device_key_invalid() -> Unauthorized:
    """The one answer to every bad device key (malformed, unknown, wrong secret, revoked,
    rotated out, another clinic's): it reveals nothing about which."""
    return Unauthorized(
        tr(
            "The device key is not valid. Register the device again, or paste its current "
            "key into the Bridge.",
            "La clave del dispositivo no es válida. Vuelve a registrar el dispositivo, o "
            "pega su clave actual en el Bridge.",
        ),
        code="DEVICE_KEY_INVALID",
    )


def plan_forbidden(plan: str, permission: str) -> Forbidden:
    """403 for what the clinic's plan leaves out: it names the plan, not the role (the role may
    well grant it), and the plans that include it."""
    cur_en, cur_es = rbac.PLAN_LABELS.get(plan, (plan, plan))
    plans = rbac.plans_including(permission)
    en = " or ".join(rbac.PLAN_LABELS[p][0] for p in plans)
    es = " o ".join(rbac.PLAN_LABELS[p][1] for p in plans)
    return Forbidden(
        tr(
            f"Your clinic's {cur_en} plan does not include this; it comes with the {en} plan. "
            "The clinic's administrator can change the plan.",
            f"El plan {cur_es} de tu clínica no incluye esto; viene con el plan {es}. "
            "El administrador de la clínica puede cambiar de plan.",
        ),
        code="PLAN_LIMIT",
        data={"permission": permission, "plan": plan, "plans": plans},
    )


def client_ip(headers: dict[str, str], source_ip: str | None) -> str | None:
    """The caller's address: the connection's, or the one the trusted proxies recorded."""
    hops = settings().trusted_proxy_hops
    xff = headers.get("x-forwarded-for", "")
    if hops > 0 and xff:
        parts = [p.strip() for p in xff.split(",") if p.strip()]
        if len(parts) >= hops:
            return parts[-hops]
    return source_ip


def envelope(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps({"data": data, "message": None}, default=str),
        status_code=status,
        headers={"Content-Type": JSON, **(headers or {})},
    )


def error_response(err: ApiError, lang: str = i18n.DEFAULT) -> Response:
    """The error envelope, its messages in ``lang`` (ADR 0009); the code never changes."""
    body: dict[str, Any] = {
        "data": err.data,
        "message": i18n.render(err.message, lang),
        "code": err.code,
        "errors": [{**e, "message": i18n.render(e.get("message"), lang)} for e in err.errors],
    }
    return Response(
        body=json.dumps(body, default=str),
        status_code=err.status,
        headers={
            "Content-Type": JSON,
            "Content-Language": lang,
            "Vary": "Accept-Language",
            **err.headers,
        },
    )


class MethodNotAllowed(ApiError):
    status, code = 405, "METHOD_NOT_ALLOWED"


class UnsupportedMediaType(ApiError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


def framework_error_in_envelope(headers: dict[str, str] | None, response: Response) -> Response:
    """Chalice answers a method a route lacks (405) and a body type it does not take (415)
    itself, as ``{"Code", "Message"}`` in English: the same in the API's envelope and the
    caller's language (``Allow`` kept). Any other response is returned as it is."""
    body = response.body
    if response.status_code not in (405, 415) or not (isinstance(body, dict) and "Code" in body):
        return response
    lang = i18n.negotiate({k.lower(): v for k, v in (headers or {}).items()}.get("accept-language"))
    allow = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
    err: ApiError
    if response.status_code == 405:
        allowed = next(iter(allow.values()), "")
        err = MethodNotAllowed(
            tr(
                f"This path does not take that method; it takes: {allowed}.",
                f"Esta ruta no admite ese método; admite: {allowed}.",
            ),
            headers=allow,
        )
    else:
        err = UnsupportedMediaType(
            tr(
                "This route does not take a body of that type: send JSON, with "
                "'Content-Type: application/json'.",
                "Esta ruta no admite un cuerpo de ese tipo: envía JSON, con "
                "'Content-Type: application/json'.",
            )
        )
    return error_response(err, lang)


class InternalError(ApiError):
    status, code = 500, "INTERNAL"

    def __init__(self) -> None:
        super().__init__(
            tr(
                "Something went wrong on our side; it has been logged.",
                "Algo ha fallado por nuestra parte; ha quedado registrado.",
            )
        )


def _field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e.get("loc", ()))
        out.append(
            {
                "field": (prefix + loc) if loc else prefix.rstrip(".") or "body",
                "message": tr(i18n.field_message(e, "en"), i18n.field_message(e, "es")),
            }
        )
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


class Router:
    """A module's routes: their handlers by (method, path), and the declarations behind the
    OpenAPI. The app serves them through the route table (``core/route_table.py``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.specs: list[RouteSpec] = []
        self.handlers: dict[tuple[str, str], Callable[..., Response]] = {}
        self.content_types: dict[tuple[str, str], tuple[str, ...]] = {}

    def route(
        self,
        path: str,
        method: str = "GET",
        *,
        permission: str,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        paged: bool = False,
        produces: str = JSON,
        tags: tuple[str, ...] | None = None,
        content_types: tuple[str, ...] = (JSON,),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            spec = RouteSpec(
                method=method.upper(),
                path=path,
                permission=permission,
                summary=summary,
                tags=tags or (self.name,),
                body=body,
                query=query,
                response=response,
                status=status,
                paged=paged,
                produces=produces,
                operation_id=view.__name__,
            )
            self.specs.append(spec)

            def handler(**path_params: str) -> Response:
                request = current_request()
                try:
                    # A public or device route adopts the clinic its link, token or key
                    # resolves to (ADR 0012); the scope ends with the request.
                    with scoping.adoptable():
                        return _handle(spec, view, request, path_params)
                except ApiError as err:
                    return error_response(err, _language(request))
                except Exception:  # noqa: BLE001 - the one place that turns bugs into a 500
                    logger.exception("unhandled error", extra={"route": spec.operation_id})
                    return error_response(InternalError(), _language(request))

            handler.__name__ = view.__name__
            key = (spec.method, path)
            if key in self.handlers:
                raise ValueError(f"{spec.method} {path} is declared twice in {self.name}")
            self.handlers[key] = handler
            self.content_types[key] = tuple(content_types)
            return view

        return decorator


def _language(request: Any) -> str:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    return i18n.negotiate(headers.get("accept-language"))


def _handle(spec: RouteSpec, view: Callable[..., Any], request: Any, path_params: dict) -> Any:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    ctx = request.context or {}
    source_ip = (ctx.get("identity") or {}).get("sourceIp")
    ip = client_ip(headers, source_ip)
    user_agent = headers.get("user-agent")

    principal: Principal | DevicePrincipal | None = None
    if spec.permission != PUBLIC:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                tr(
                    "Sign in first: this request needs an 'Authorization: Bearer <token>' header.",
                    "Inicia sesión primero: esta petición necesita la cabecera "
                    "'Authorization: Bearer <token>'.",
                ),
                code="UNAUTHENTICATED",
            )
        token = token.strip()
        if spec.permission == DEVICE:
            # Only a device key: a staff JWT (or anything else) is not one.
            if not token.startswith(DEVICE_KEY_PREFIX):
                raise device_key_invalid()
            assert _device_resolver is not None, "chalicelib.bridge installs the device resolver"
            device = _device_resolver(token, ip, user_agent)
            logger.thread_safe_append_keys(clinic_id=device.clinic_id)
            principal = device
        else:
            assert _resolver is not None, "app.py must install the principal resolver"
            principal = _resolver(token, ip, user_agent)
            logger.thread_safe_append_keys(clinic_id=principal.clinic_id)
        if spec.permission not in (AUTHENTICATED, DEVICE) and not principal.can(spec.permission):
            if isinstance(principal, Principal) and rbac.excluded_by_plan(
                principal.plan, spec.permission
            ):
                raise plan_forbidden(principal.plan, spec.permission)
            raise Forbidden(
                tr(
                    f"Your role does not allow this: it needs the '{spec.permission}' permission.",
                    f"Tu rol no permite hacer esto: hace falta el permiso '{spec.permission}'.",
                ),
                code="FORBIDDEN",
                data={"permission": spec.permission},
            )

    query = None
    if spec.query is not None:
        raw_q = dict(request.query_params or {})
        try:
            query = spec.query.model_validate(raw_q)
        except ValidationError as exc:
            raise Unprocessable(
                tr(
                    "Some query parameters are not valid.",
                    "Algunos parámetros de la consulta no son válidos.",
                ),
                errors=_field_errors(exc, "query."),
            ) from exc

    raw_body = request.raw_body or b""
    body = None
    if spec.body is not None:
        if not raw_body.strip():
            raise BadRequest(
                tr("This request needs a JSON body.", "Esta petición necesita un cuerpo JSON.")
            )
        try:
            payload = jsontext.loads(raw_body)
        except jsontext.TooDeep as exc:
            raise BadRequest(
                tr(
                    f"The request body nests more than {jsontext.MAX_DEPTH} levels of arrays "
                    "or objects; no field of this API needs that many.",
                    f"El cuerpo de la petición anida más de {jsontext.MAX_DEPTH} niveles de "
                    "listas u objetos; ningún campo de esta API necesita tantos.",
                )
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(
                tr(
                    "The request body is not valid JSON.",
                    "El cuerpo de la petición no es JSON válido.",
                )
            ) from exc
        try:
            body = spec.body.model_validate(payload)
        except ValidationError as exc:
            raise Unprocessable(
                tr("Some fields are not valid.", "Algunos campos no son válidos."),
                errors=_field_errors(exc),
            ) from exc

    req = Req(
        principal=principal,
        body=body,
        query=query,
        headers=headers,
        raw_body=raw_body,
        ip=ip,
        user_agent=user_agent,
        path_params=path_params,
    )
    if principal is None:
        result = view(req, **path_params)
    else:
        # The view's DynamoDB and S3 calls run with credentials that reach only the caller's
        # clinic (ADR 0012): a key built for another clinic is refused by AWS itself.
        with scoping.clinic(principal.clinic_id):
            result = view(req, **path_params)
    if isinstance(result, Response):
        return result
    if spec.status == 204:
        return Response(body="", status_code=204, headers={})
    if isinstance(result, Page):
        return envelope(
            {"items": _dump(result.items), "next_cursor": result.next_cursor}, spec.status
        )
    return envelope(_dump(result), spec.status)
