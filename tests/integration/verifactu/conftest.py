"""Fixtures of the VERI*FACTU integration tests: a Spanish clinic with a NIF (billing's
fixtures), service-level principals for threads, and the local AEAT stub."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.aeat_stub import AeatStub, Pki
from tests.integration.billing.conftest import (  # noqa: F401 - fixtures
    Billing,
    billing,
    hygienist,
    other_billing,
    receptionist,
)


def issue_one(b: Billing, *, iva: bool = True, nif: bool = True) -> dict:
    """An F1 with an exempt E1 line and (optionally) a 21% S1 line, issued via the API."""
    pid = b.patient_with_nif() if nif else b.patient()
    lines = [{"treatment_id": b.treatment("LIM", "60.00")}]
    if iva:
        lines.append({"treatment_id": b.treatment("BLQ", "300.00", vat="IVA21")})
    return b.issue(b.invoice(pid, lines)["invoice_id"])


@pytest.fixture
def es_billing(billing: Billing) -> Billing:  # noqa: F811
    return billing


P12_PASSWORD = "contraseña-del-certificado"  # noqa: S105 - test data


def upload_cert(b: Billing, p12: bytes, password: str = P12_PASSWORD, status: int = 201) -> Any:
    body = {"pkcs12_base64": base64.b64encode(p12).decode(), "password": password}
    return b.post("/verifactu/certificate", body, status)


@pytest.fixture(autouse=True)
def _forget_due_chains() -> Iterator[None]:
    """The job's due index is global: after each test, take its chains out, so a later test's
    run only sees its own clinic (tests of one module share the table)."""
    yield
    from chalicelib.verifactu.models import DUE_PK, ChainHead

    for head in list(ChainHead.gsi1.query(DUE_PK)):
        head.update(actions=[ChainHead.GSI1PK.remove(), ChainHead.GSI1SK.remove()])


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture
def stub(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> Iterator[AeatStub]:
    """The mutual-TLS AEAT stand-in, with the job pointed at it (endpoint and trusted CA)."""
    with AeatStub(pki) as server:
        monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", server.base_url)
        monkeypatch.setenv("AEAT_CA_BUNDLE", pki.ca_pem_path)
        yield server


@pytest.fixture
def certified(billing: Billing, pki: Pki) -> Billing:  # noqa: F811
    """The clinic with a client certificate the stub's CA signed."""
    upload_cert(billing, pki.client_p12(P12_PASSWORD))
    return billing


def run_job(at: datetime) -> dict[str, int]:
    from chalicelib.verifactu import submission

    return submission.run(at)


def later(seconds: float) -> datetime:
    from chalicelib.core.ids import now

    return now() + timedelta(seconds=seconds)


def chain_status(b: Billing) -> dict[str, Any]:
    chains = b.get("/verifactu/settings")["chains"]
    assert len(chains) == 1, chains
    return chains[0]


def statuses(b: Billing) -> dict[str, str]:
    """num_serie -> status of its (latest) record."""
    items = b.get("/verifactu/records?limit=200")["items"]
    return {i["num_serie"]: i["status"] for i in reversed(items)}


def raw_table():
    import boto3

    from chalicelib.core.config import settings

    return boto3.client("dynamodb"), settings().table_name


def tamper(clinic_id: str, seq: int, change) -> None:
    """Edit a stored record behind the application's back, in the raw table."""
    import json

    from chalicelib.verifactu.models import RecordItem

    client, table = raw_table()
    pk, sk = RecordItem.key(clinic_id, "B12345674", seq)
    key = {"PK": {"S": pk}, "SK": {"S": sk}}
    item = client.get_item(TableName=table, Key=key)["Item"]
    record = json.loads(item["record"]["S"])
    change(record, item)
    item["record"] = {"S": json.dumps(record)}
    client.put_item(TableName=table, Item=item)
