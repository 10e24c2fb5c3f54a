from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from chalicelib.core import events, ratelimit, rbac
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.keys import generate_secret_value
from infra.local import moto_dynamodb, moto_sqs
from infra.local.provision import provision, reset_table
from tests.conftest import ENDPOINT, MOTO_PORT, RESOURCES
from tests.integration.api import Api

PASSWORD = "correct-horse-battery"
_n = itertools.count(1)


_servers: list[ThreadedMotoServer] = []


@pytest.fixture(scope="session", autouse=True)
def moto_server() -> Iterator[str]:
    # tests/fuzz imports this fixture too: a worker that runs both folders gets one server per
    # process (a second one on MOTO_PORT would never bind), whichever folder starts it.
    if _servers:
        yield ENDPOINT
        return
    moto_dynamodb.apply()  # serialised calls and per-item rollback, as in the local stack
    moto_sqs.apply()  # sends and receives that do not cost the backlog, as in the local stack
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    _servers.append(server)
    provision(RESOURCES, ENDPOINT, secret_value=generate_secret_value())
    yield ENDPOINT
    server.stop()


@pytest.fixture(scope="module", autouse=True)
def fresh_table(moto_server: str) -> None:
    """Each test module starts from an empty table, so tests stay independent of what earlier
    modules wrote and the in-memory moto backend does not grow for the whole session."""
    reset_table(RESOURCES, ENDPOINT, settings().region)


@pytest.fixture(autouse=True)
def rate_limit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits count in fixed windows; a test that straddled a window's end saw its counter
    start again (a signup test failed once at 03:00). Each test keeps the instant it started."""
    pinned = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: pinned))


@pytest.fixture(autouse=True)
def own_role_is_global_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The functions' own roles reach the global path only (ADR 0012): every DynamoDB or S3
    call made on a function's own credentials during a unit of work (an API request, a live
    socket invocation, an event of a consumer: ``scoping.adoptable``) must be a global
    lookup. The local stand-in does not check the functions' own credentials (it cannot tell
    one function from another), so every test that drives one checks it here: work that
    touches a clinic's data before its clinic is known fails its test, naming the call."""
    import traceback  # noqa: PLC0415

    from chalicelib.core import scoping  # noqa: PLC0415

    leaks: list[str] = []
    real = scoping.RoutedCredentials.get_frozen_credentials

    def frozen(self: Any) -> Any:
        in_request = scoping._slot.get()  # noqa: SLF001 - set around each unit of work
        # With scoping off (a test that switches it off) there is nothing to tell apart.
        own = scoping.enabled() and scoping.current_clinic() is None
        if in_request and own and not self.on_own_path():
            frames = [
                f"{'/'.join(f.filename.rsplit('/', 2)[-2:])}:{f.lineno} {f.name}"
                for f in traceback.extract_stack()
                if "/chalicelib/" in f.filename and "scoping" not in f.filename
            ]
            leaks.append(("dynamodb " if self._by_call else "s3 ") + " <- ".join(frames[::-1][:4]))
        return real(self)

    monkeypatch.setattr(scoping.RoutedCredentials, "get_frozen_credentials", frozen)
    yield
    if leaks and os.environ.get("LEAKS_FILE"):  # discovery aid: collect every path at once
        with open(os.environ["LEAKS_FILE"], "a") as f:
            f.write("\n".join(leaks) + "\n")
    assert not leaks, "a unit of work used the function's own role on clinic data:\n" + "\n".join(
        dict.fromkeys(leaks)
    )


@pytest.fixture(scope="session")
def app() -> Any:
    import app as app_module

    return app_module.app


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app)


@dataclass
class Clinic:
    clinic_id: str
    admin_token: str
    admin_refresh: str
    admin_id: str
    admin_email: str
    name: str


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_n)}-{id(object())}@clinic-tests.com"


def signup(api: Api, name: str = "Clínica Test", **clinic: Any) -> Clinic:
    email = unique_email("admin")
    body = {
        "clinic": {
            "name": name,
            "country": "ES",
            "time_zone": "Europe/Madrid",
            "currency": "EUR",
            **clinic,
        },
        "admin": {"name": "Ana Admin", "email": email, "password": PASSWORD},
    }
    r = api.post("/clinics/signup", body)
    assert r.status == 201, r.body
    d = r.json()["data"]
    return Clinic(
        d["clinic"]["clinic_id"],
        d["access_token"],
        d["refresh_token"],
        d["user"]["user_id"],
        email,
        name,
    )


@pytest.fixture
def clinic(api: Api) -> Clinic:
    return signup(api, "Clínica Uno")


@pytest.fixture
def other_clinic(api: Api) -> Clinic:
    return signup(api, "Clínica Otra")


def sent_mail() -> list[Any]:
    """Messages SES (moto) has accepted, newest last."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.core.config import settings

    return list(ses_backends[DEFAULT_ACCOUNT_ID][settings().region].sent_messages)


def mails_to(address: str) -> list[Any]:
    """Sent messages addressed to ``address`` (plain and raw sends), newest last."""

    def recipients(m: Any) -> list[str]:
        d = m.destinations  # a dict for send_email, a list for send_raw_email
        return d.get("ToAddresses", []) if isinstance(d, dict) else list(d)

    return [m for m in sent_mail() if any(address in r for r in recipients(m))]


def add_member(api: Api, clinic: Clinic, role: str, name: str = "Staff Member") -> dict[str, str]:
    """Invite someone with ``role`` and accept; returns email, user_id and tokens."""
    import re

    email = unique_email(role)
    r = api.post(
        "/staff/invitations", {"email": email, "role": role, "name": name}, token=clinic.admin_token
    )
    assert r.status == 201, r.body
    msg = mails_to(email)[-1]
    token = re.search(r"token=([A-Za-z0-9_\-]+)", msg.body).group(1)
    r = api.post("/invitations/accept", {"token": token, "name": name, "password": PASSWORD})
    assert r.status == 200, r.body
    d = r.json()["data"]
    return {
        "email": email,
        "user_id": d["user"]["user_id"],
        "token": d["access_token"],
        "refresh": d["refresh_token"],
        "invite_token": token,
    }


def admin_principal(clinic: Clinic, plan: str = "free") -> Principal:
    """The clinic's admin with every permission, for tests that call a service directly."""
    return Principal(
        user_id=clinic.admin_id,
        clinic_id=clinic.clinic_id,
        session_id="t",
        role="admin",
        plan=plan,
        permissions=frozenset(rbac.PERMISSIONS),
        name="Ana Admin",
    )


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Events as published, in order (the real publish to the bus runs too)."""
    seen: list[tuple[str, dict]] = []
    real = events.publish

    def spy(name: str, clinic_id: str, actor: dict, **payload: Any) -> dict:
        detail = real(name, clinic_id, actor, **payload)
        seen.append((name, detail))
        return detail

    monkeypatch.setattr(events, "publish", spy)
    return seen


@pytest.fixture
def scoped_as(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The clinic of every credentials lookup that signs a DynamoDB or S3 call inside a clinic
    scope (ADR 0012), in order: a path that should run as clinic A shows only A."""
    from chalicelib.core import scoping  # noqa: PLC0415

    seen: list[str] = []
    real = scoping.cache.get

    def get(clinic_id: str) -> Any:
        seen.append(clinic_id)
        return real(clinic_id)

    monkeypatch.setattr(scoping.cache, "get", get)
    return seen


@pytest.fixture
def own_credentials(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each DynamoDB or S3 call signed with the function's own credentials, by kind: "global"
    (a DynamoDB call on the global path, which ``scoping.global_policy`` allows), "tenant" (a
    DynamoDB call naming a clinic's key) or "s3" (an object call). A function whose own role is
    narrowed to the global path (ADR 0012) must make only "global" ones: the local stand-in
    does not check the functions' own credentials, this does."""
    from chalicelib.core import scoping  # noqa: PLC0415

    seen: list[str] = []
    real = scoping.RoutedCredentials.get_frozen_credentials

    def frozen(self: Any) -> Any:
        if scoping.current_clinic() is None or (
            self._by_call and scoping._path.get() == "global"  # noqa: SLF001
        ):
            if not self._by_call:
                seen.append("s3")
            else:
                seen.append("global" if scoping._path.get() == "global" else "tenant")  # noqa: SLF001
        return real(self)

    monkeypatch.setattr(scoping.RoutedCredentials, "get_frozen_credentials", frozen)
    return seen
