"""Logs carry the clinic id and a correlation id, and never a password or a token."""

from __future__ import annotations

import io
import json
import logging

from chalicelib.core.observability import logger
from tests.integration.conftest import PASSWORD


def test_no_secrets_in_logs_and_context_is_present(api, clinic):
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    r = api.post(
        "/auth/login",
        {"email": clinic.admin_email, "password": PASSWORD},
        headers={"X-Correlation-Id": "corr-42"},
    )
    tokens = r.json()["data"]
    api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    api.get("/auth/me", token=tokens["access_token"], headers={"X-Correlation-Id": "corr-43"})
    api.post("/auth/login", {"email": clinic.admin_email, "password": "wrong-" + PASSWORD})
    logger._logger.removeHandler(handler)
    out = buf.getvalue()
    assert out, "expected structured logs"
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], clinic.admin_email):
        assert secret not in out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    me = [x for x in lines if x.get("route") == "/api/v1/auth/me"]
    assert me and me[-1]["correlation_id"] == "corr-43"
    assert me[-1]["clinic_id"] == clinic.clinic_id
