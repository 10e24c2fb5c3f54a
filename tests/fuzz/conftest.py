"""Fixtures for the OpenAPI fuzz run (docs/adr/0013-fuzzing.md): the same moto server, table and
rate-limit clock as the integration suite, the Chalice app served as a WSGI callable so
schemathesis can call it in-process, and one seeded clinic whose admin and Bridge device the
authenticated run speaks as."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.identity import service as identity_service
from infra.local.server import dispatch_api, make_gateway
from tests.integration.api import Api, fresh_ip
from tests.integration.conftest import (  # noqa: F401 - fixtures shared with the integration suite
    PASSWORD,
    Clinic,
    app,
    fresh_table,
    moto_server,
    rate_limit_clock,
    signup,
)
from tests.integration.patients.helpers import create_patient

TOKEN_TTL_S = 10 * 60  # access tokens live 15 minutes; a long run signs in again before that


def wsgi(chalice_app: Any) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The app behind Chalice's LocalGateway (the same dispatch as the local server and the
    integration client), as a WSGI callable: schemathesis calls WSGI apps in-process, so no
    server, port or thread is needed."""
    gateway = make_gateway(chalice_app)
    ips = itertools.count(1)

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # PATH_INFO arrives decoded as latin-1 (PEP 3333); the gateway wants the path as sent.
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        # Every request from its own address: per-address rate limits are tested on their own,
        # here they would only turn the rest of a run into 429s.
        n = next(ips)
        headers["X-Forwarded-For"] = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        resp = dispatch_api(gateway, environ["REQUEST_METHOD"], path, headers, body)
        start_response(
            f"{resp.status} {HTTPStatus(resp.status).phrase}", list(resp.headers.items())
        )
        return [resp.body]

    return call


class Identity:
    """The seeded clinic's admin (every permission, on the broadest plan) and a Bridge device
    key; the access token is renewed by signing in again when it gets old, so a long run stays
    authenticated."""

    def __init__(self, api: Api, clinic: Clinic, device_key: str, ids: dict[str, str]) -> None:
        self.api, self.clinic, self.device_key, self.ids = api, clinic, device_key, ids
        self._token, self._at = clinic.admin_token, time.monotonic()

    def fresh_session(self) -> str:
        r = self.api.post(
            "/auth/login", {"email": self.clinic.admin_email, "password": PASSWORD}, ip=fresh_ip()
        )
        assert r.status == 200, r.body
        return r.json()["data"]["access_token"]

    @property
    def token(self) -> str:
        if time.monotonic() - self._at > TOKEN_TTL_S:
            self._token, self._at = self.fresh_session(), time.monotonic()
        return self._token


@pytest.fixture(scope="module")
def identity(app: Any, fresh_table: None) -> Identity:  # noqa: F811 - the shared fixture
    """Seeded after the module's table reset: a clinic with one of each thing a path names, so
    the run reaches past the 404 of a made-up id (``ids``, by path parameter name)."""
    api = Api(app)
    clinic = signup(api, "Clínica Fuzz")
    # The broadest plan, so the admin's token reaches every route (WhatsApp, inventory...)
    # instead of stopping at the plan's 403.
    identity_service.set_plan(clinic.clinic_id, "pro_plus")

    def made(path: str, body: dict[str, Any], key: str) -> str:
        r = api.post(path, body, token=clinic.admin_token)
        assert r.status == 201, r.body
        return r.json()["data"][key]

    patient_id = create_patient(api, clinic.admin_token)["patient_id"]
    treatment_id = made(
        "/billing/treatments", {"code": "FZ1", "name_es": "Limpieza", "price": "50"}, "treatment_id"
    )
    line = [{"treatment_id": treatment_id}]
    device = {"name": "Sensor fuzz", "defaults": {"kind": "xray"}}
    ids = {
        "patient_id": patient_id,
        "treatment_id": treatment_id,
        "budget_id": made(
            "/billing/budgets", {"patient_id": patient_id, "lines": line}, "budget_id"
        ),
        "invoice_id": made(
            "/billing/invoices", {"patient_id": patient_id, "lines": line}, "invoice_id"
        ),
        "cabinet_id": made("/agenda/cabinets", {"name": "Gabinete fuzz"}, "cabinet_id"),
        # A device of its own for the management routes: rotating or revoking it must not
        # take the key the device routes are called with.
        "device_id": made("/bridge/devices", device, "device")["device_id"],
        "clinic_id": clinic.clinic_id,
        "code": "IVA21",
        "role": "assistant",
        "channel": "email",
    }
    key = made("/bridge/devices", device, "api_key")
    return Identity(api, clinic, key, ids)
