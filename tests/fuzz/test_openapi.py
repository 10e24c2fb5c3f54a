"""Schemathesis over the API's own OpenAPI document, in-process against the Chalice app with
moto (docs/adr/0013-fuzzing.md). Every operation is called signed in (the seeded clinic's admin,
or its Bridge device key on the device routes) and signed out; a 5xx, a status code the document
does not list, or a body or content type that does not match what it documents fails the test.

The budget is small in ``make test`` and large in ``make fuzz``: ``FUZZ_MAX_EXAMPLES`` sets the
examples per operation and mode. Generation is derandomized, so a run is the same run every
time and CI never fails by chance; the long run explores more because it draws more."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import app as app_module
from tests.fuzz.conftest import Identity, wsgi

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
# The coverage phase (boundary values of every field, deterministic) sends dozens of requests per
# operation: the long run does it, the bounded one only draws MAX_EXAMPLES examples per mode.
COVERAGE = os.environ.get("FUZZ_COVERAGE", "0") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Calls that end the session they are made with get a session of their own, so the rest of the
# run stays signed in.
ENDS_SESSION = {("POST", "/api/v1/auth/logout")}

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    wsgi(app_module.app),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}),
)

budget = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # moto and the first PDF render are slow; speed is not what is tested here
    derandomize=True,
    database=None,  # no example database: a run depends on nothing a previous one left
    suppress_health_check=list(HealthCheck),
)


def _auth(case: Any, identity: Identity) -> dict[str, str]:
    schemes = {name for req in case.operation.definition.raw.get("security", []) for name in req}
    if "deviceKey" in schemes:
        return {"Authorization": f"Bearer {identity.device_key}"}
    if "bearer" in schemes:
        key = (case.operation.method.upper(), case.operation.path)
        token = identity.fresh_session() if key in ENDS_SESSION else identity.token
        return {"Authorization": f"Bearer {token}"}
    return {}


_drawn: Counter[str] = Counter()


def _seeded_ids(case: Any, identity: Identity) -> None:
    """Every other case of an operation names the seeded clinic's real ids in its path, so its
    body and query are tried against something that exists (a made-up id stops at 404); the
    others keep the generated path parameters. Alternating by count keeps runs repeatable."""
    _drawn[case.operation.label] += 1
    if _drawn[case.operation.label] % 2:
        for name in case.path_parameters or {}:
            if name in identity.ids:
                case.path_parameters[name] = identity.ids[name]


@schema.parametrize()
@budget
def test_signed_in(case: Any, identity: Identity) -> None:
    _seeded_ids(case, identity)
    case.call_and_validate(headers=_auth(case, identity), checks=CHECKS)


@schema.parametrize()
@budget
def test_signed_out(case: Any, identity: Identity) -> None:
    # ``identity`` only orders the seeding after the table reset; nothing here is signed in.
    case.call_and_validate(checks=CHECKS)
