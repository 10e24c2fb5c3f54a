"""The local server answers concurrent requests as Lambda would: each in isolation.

``infra/local/server.py`` serves every request on its own thread of one process, so nothing
per-request may live on a shared object (Chalice's ``current_request``, the logger's keys, the
metrics buffer). Two clinics and several users fire a few hundred requests at once, reading,
writing and failing, and every answer must be the caller's own: its user, its clinic, its body,
its language.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from chalicelib.core.observability import logger
from infra.local import server
from tests.conftest import free_port
from tests.integration.conftest import add_member, signup
from tests.integration.patients.helpers import patient_body

REQUESTS = 240
THREADS = 24


@pytest.fixture(scope="module")
def http(app: Any) -> Any:
    port = free_port()
    srv = server.start(app, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/api/v1"
    srv.shutdown()


@pytest.fixture(scope="module")
def callers(app: Any) -> list[dict[str, Any]]:
    from tests.integration.api import Api

    api = Api(app)
    out = []
    for name in ("Clínica Uno", "Clínica Dos"):
        c = signup(api, name)
        out.append({"clinic_id": c.clinic_id, "user_id": c.admin_id, "token": c.admin_token})
        for role in ("dentist", "receptionist"):
            m = add_member(api, c, role)
            out.append({"clinic_id": c.clinic_id, "user_id": m["user_id"], "token": m["token"]})
    return out


def _call(base: str, job: dict[str, Any]) -> tuple[dict[str, Any], requests.Response]:
    headers = {"Accept-Language": job["lang"], "X-Forwarded-For": job["ip"]}
    if job["token"]:
        headers["Authorization"] = f"Bearer {job['token']}"
    if job["kind"] == "patient":
        r = requests.post(f"{base}/patients", json=job["body"], headers=headers, timeout=120)
    else:
        r = requests.get(f"{base}/auth/me", headers=headers, timeout=120)
    return job, r


def test_concurrent_requests_of_two_clinics_each_get_their_own_answer(http, callers):
    rng = random.Random(21)
    n = itertools.count(1)
    jobs = []
    for _ in range(REQUESTS):
        who = rng.choice(callers)
        lang = rng.choice(["es", "en"])
        kind = rng.choices(["me", "patient", "anonymous"], weights=[6, 2, 2])[0]
        body = None
        if kind == "patient":
            i = next(n)
            body = patient_body(first_name=f"Caller{i}", last_name=f"U{who['user_id'][-8:]}")
        jobs.append(
            {
                **who,
                "lang": lang,
                "kind": kind,
                "token": None if kind == "anonymous" else who["token"],
                "body": body,
                "ip": f"10.21.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            }
        )

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda j: _call(http, j), jobs))

    wrong, created = [], []
    for job, r in results:
        got = r.json()
        if job["kind"] == "anonymous":
            ok = r.status_code == 401 and got["code"] == "UNAUTHENTICATED"
            words = "Inicia sesión" if job["lang"] == "es" else "Sign in first"
            ok = ok and got["message"].startswith(words)
        elif job["kind"] == "me":
            d = got.get("data") or {}
            ok = (
                r.status_code == 200
                and d["user"]["user_id"] == job["user_id"]
                and d["clinic"]["clinic_id"] == job["clinic_id"]
            )
        else:
            d = got.get("data") or {}
            ok = (
                r.status_code == 201
                and d["first_name"] == job["body"]["first_name"]
                and d["last_name"] == job["body"]["last_name"]
            )
            created.append((job, d.get("patient_id")))
        if not ok:
            wrong.append((job["kind"], job["lang"], r.status_code, json.dumps(got)[:200]))
    assert not wrong, f"{len(wrong)} of {REQUESTS} answers were not the caller's: {wrong[:5]}"
    # Each patient was written in the caller's clinic, and only there.
    assert created
    for job, patient_id in created:
        other = next(c for c in callers if c["clinic_id"] != job["clinic_id"])
        mine = requests.get(f"{http}/patients/{patient_id}", headers=_auth(job), timeout=60)
        theirs = requests.get(f"{http}/patients/{patient_id}", headers=_auth(other), timeout=60)
        assert mine.status_code == 200 and theirs.status_code == 404, (mine.text, theirs.text)


def _auth(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {who['token']}"}


def test_request_log_lines_carry_their_own_clinic(http, callers):
    """The logger's per-request keys (clinic, correlation id) are per request, not shared."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)

    def call(i: int) -> None:
        who = callers[i % len(callers)]
        headers = {**_auth(who), "X-Correlation-Id": f"corr-{who['clinic_id']}-{i}"}
        assert requests.get(f"{http}/auth/me", headers=headers, timeout=120).status_code == 200

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(call, range(60)))
    finally:
        logger._logger.removeHandler(handler)
    lines = [json.loads(x) for x in buf.getvalue().splitlines() if x.startswith("{")]
    logged = [x for x in lines if str(x.get("correlation_id", "")).startswith("corr-")]
    assert len([x for x in logged if x.get("message") == "request"]) == 60
    for line in logged:
        assert line["correlation_id"].startswith(f"corr-{line.get('clinic_id')}-"), line
