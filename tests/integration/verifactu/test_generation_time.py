"""FechaHoraHusoGenRegistro end to end (ADR 0207): Spanish legal time of the clinic's
territory, written once and resent byte for byte (a retry after a Server fault across a DST
change), never ahead of the server clock, and the AEAT's 2004 answer (generation time ahead of
its clock: accepted with errors, exempt from subsanación)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.verifactu import service
from tests.aeat_stub import Script
from tests.integration.verifactu.conftest import chain_status, issue_one, later, run_job
from tests.integration.verifactu.sent import answer_with, campo, num_serie, registros

SPRING = datetime(2027, 3, 28, 1, 0, 0, tzinfo=UTC)  # both Spanish changes at 01:00 UTC
AUTUMN = datetime(2027, 10, 31, 1, 0, 0, tzinfo=UTC)
TEXT_2004 = (
    "El valor del campo FechaHoraHusoGenRegistro debe ser la fecha actual del sistema de la "
    "AEAT, admitiéndose un margen de error de:"
)


def _clinic(b, **fields) -> None:
    r = b.api.patch("/clinics/current", fields, token=b.token)
    assert r.status == 200, r.body


def _stored(b, invoice_id: str) -> dict:
    rid = b.get(f"/verifactu/invoices/{invoice_id}")["records"][-1]["record_id"]
    return b.get(f"/verifactu/records/{rid}")


def _at(monkeypatch, moment: datetime) -> None:
    """The server clock the records are generated with."""
    monkeypatch.setattr(service, "now", lambda: moment)


@pytest.mark.parametrize(
    ("zone", "change", "before", "after"),
    [
        ("Europe/Madrid", SPRING, "2027-03-28T01:59:50+01:00", "2027-03-28T03:00:10+02:00"),
        ("Atlantic/Canary", SPRING, "2027-03-28T00:59:50+00:00", "2027-03-28T02:00:10+01:00"),
        ("Europe/Madrid", AUTUMN, "2027-10-31T02:59:50+02:00", "2027-10-31T02:00:10+01:00"),
        ("Atlantic/Canary", AUTUMN, "2027-10-31T01:59:50+01:00", "2027-10-31T01:00:10+00:00"),
    ],
)
def test_a_resent_record_carries_its_first_generation_time_across_a_dst_change(
    certified, stub, monkeypatch, zone, change, before, after
):
    _clinic(certified, time_zone=zone)
    s = timedelta(seconds=1)
    _at(monkeypatch, change - 10 * s)
    a = issue_one(certified)
    stored = _stored(certified, a["invoice_id"])
    assert stored["record"]["FechaHoraHusoGenRegistro"] == before

    stub.script(Script.server_fault(), Script.all_correct())
    assert run_job(change - 5 * s) == {"retry": 1}
    _at(monkeypatch, change + 10 * s)  # the clocks have changed meanwhile
    b = issue_one(certified, iva=False)
    assert _stored(certified, b["invoice_id"])["record"]["FechaHoraHusoGenRegistro"] == after
    assert run_job(change + 70 * s) == {"answered": 1}

    [first] = registros(stub.requests[0])
    resent, following = registros(stub.requests[1])
    for sent in (first, resent):
        assert num_serie(sent) == a["num_serie"]
        assert campo(sent, "FechaHoraHusoGenRegistro") == before  # byte for byte
        assert campo(sent, "Huella") == stored["huella"]
    assert campo(following, "FechaHoraHusoGenRegistro") == after
    assert campo(following, "Encadenamiento/RegistroAnterior/Huella") == stored["huella"]
    assert _stored(certified, a["invoice_id"])["record"] == stored["record"]
    assert certified.get("/verifactu/chain/verify")["intact"] is True


def test_a_clinic_zone_that_is_not_spanish_is_never_written(certified, monkeypatch):
    _at(monkeypatch, datetime(2027, 1, 15, 10, 0, 0, tzinfo=UTC))
    _clinic(certified, time_zone="America/New_York")  # its postal code is 28013, Madrid
    a = issue_one(certified)
    assert _stored(certified, a["invoice_id"])["record"]["FechaHoraHusoGenRegistro"] == (
        "2027-01-15T11:00:00+01:00"
    )
    _clinic(
        certified,
        address={
            "line1": "Calle Triana 1",
            "city": "Las Palmas de Gran Canaria",
            "postal_code": "35002",
            "country": "ES",
        },
    )
    _at(monkeypatch, datetime(2027, 1, 15, 10, 5, 0, tzinfo=UTC))
    b = issue_one(certified)
    assert _stored(certified, b["invoice_id"])["record"]["FechaHoraHusoGenRegistro"] == (
        "2027-01-15T10:05:00+00:00"
    )


def test_a_clock_that_went_back_never_dates_a_record_ahead_of_itself(certified, monkeypatch):
    t = datetime(2027, 2, 1, 10, 0, 0, tzinfo=UTC)
    _at(monkeypatch, t)
    issue_one(certified)
    # 45 s behind the previous record: allowed (Orden art. 7.i) 2.º), dated with its own
    # clock, never moved forward to the previous record's time
    _at(monkeypatch, t - timedelta(seconds=45))
    b = issue_one(certified)
    assert _stored(certified, b["invoice_id"])["record"]["FechaHoraHusoGenRegistro"] == (
        "2027-02-01T10:59:15+01:00"
    )
    # more than a minute behind the last record: refused, nothing issued, the chain unchanged
    _at(monkeypatch, t - timedelta(seconds=61 + 45))
    pid = certified.patient_with_nif()
    draft = certified.invoice(pid, [{"treatment_id": certified.treatment("LIM", "60.00")}])
    r = certified.api.post(f"/billing/invoices/{draft['invoice_id']}/issue", token=certified.token)
    assert r.status == 409 and r.json()["code"] == "VERIFACTU_CLOCK", r.body
    assert certified.get(f"/billing/invoices/{draft['invoice_id']}")["status"] == "draft"
    assert chain_status(certified)["records"] == 2


def test_2004_generation_time_ahead_of_the_aeat_is_accepted_and_needs_no_subsanacion(
    certified, stub
):
    a = issue_one(certified)
    stub.script(answer_with("AceptadoConErrores", 2004, TEXT_2004))
    assert run_job(later(1)) == {"answered": 1}
    rec = certified.get(f"/verifactu/invoices/{a['invoice_id']}")["records"][0]
    assert rec["status"] == "accepted_with_errors" and rec["aeat_code"] == 2004
    assert rec["csv"]  # registered by the AEAT
    # a warning, not a rejection: nothing blocked, issuing goes on
    assert certified.get("/verifactu/settings")["blocked_series"] == {}
    issue_one(certified)
    # ...but the clock must be looked at
    assert "2004" in chain_status(certified)["last_error"]
    # exempt from subsanación (validations 4.3.1): a correction would not change anything
    r = certified.api.post(
        f"/verifactu/records/{rec['record_id']}/subsanacion",
        {"reason": "Hora corregida"},
        token=certified.token,
    )
    assert r.status == 409 and r.json()["code"] == "RECORD_STATE", r.body
    assert "4.3.1" in r.json()["message"]
