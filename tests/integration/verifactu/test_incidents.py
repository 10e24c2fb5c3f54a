"""Records the AEAT could not be sent in time go with Cabecera/RemisionVoluntaria/Incidencia=S
(DsRegistro "Incidencia"; Orden HAC/1177/2024 art. 16.4), in submissions of their own; the
others without it (absent: the AEAT reads N). ADR 0207. The stub validates every request
against SuministroLR.xsd."""

from __future__ import annotations

from tests.aeat_stub import Script
from tests.integration.verifactu.conftest import chain_status, issue_one, run_job, statuses
from tests.integration.verifactu.sent import Clock, first_only, incidencia, num_serie, registros


def _alerts(b) -> dict[str, str]:
    return {x["code"]: x["message"] for x in b.get("/verifactu/settings")["alerts"]}


def _flags(b) -> dict[str, bool]:
    """num_serie -> the record's incidencia flag (latest record of each invoice)."""
    items = b.get("/verifactu/records?limit=200")["items"]
    return {i["num_serie"]: i["incidencia"] for i in reversed(items)}


def test_records_of_an_incident_go_with_incidencia_s_and_later_ones_without(certified, stub):
    a = issue_one(certified)
    assert _flags(certified) == {a["num_serie"]: False}
    stub.script(Script.server_fault(), Script.all_correct(), Script.all_correct())
    clock = Clock()
    assert run_job(clock.step(0)) == {"retry": 1}
    # the first attempt could not know: no Incidencia; the record waits flagged from now on
    assert incidencia(stub.requests[0]) is None
    assert _flags(certified) == {a["num_serie"]: True}
    assert "1 record(s)" in _alerts(certified)["SUBMISSION_INCIDENT"]

    # generated while the AEAT cannot be reached: flagged in the write that appends it
    b = issue_one(certified, iva=False)
    assert _flags(certified)[b["num_serie"]] is True
    assert "2 record(s)" in _alerts(certified)["SUBMISSION_INCIDENT"]

    assert run_job(clock.step(61)) == {"answered": 1}
    assert incidencia(stub.requests[1]) == "S"
    assert [num_serie(r) for r in registros(stub.requests[1])] == [a["num_serie"], b["num_serie"]]
    assert chain_status(certified)["submission_status"] == "idle"
    assert "SUBMISSION_INCIDENT" not in _alerts(certified)

    # after the recovery: a normal submission, without RemisionVoluntaria at all
    c = issue_one(certified)
    assert _flags(certified)[c["num_serie"]] is False
    assert run_job(clock.step(61)) == {"answered": 1}
    assert incidencia(stub.requests[2]) is None
    assert b"RemisionVoluntaria" not in stub.requests[2]["body"]
    assert set(statuses(certified).values()) == {"accepted"}


def test_incident_and_normal_records_never_share_a_submission(certified, stub):
    a = issue_one(certified)
    stub.script(Script.server_fault(), first_only)
    clock = Clock()
    assert run_job(clock.step(0)) == {"retry": 1}
    b = issue_one(certified, iva=False)  # during the incident
    # the AEAT comes back but answers only the first record: the second still waits, flagged
    assert run_job(clock.step(61)) == {"answered": 1}
    assert statuses(certified) == {a["num_serie"]: "accepted", b["num_serie"]: "pending"}
    c = issue_one(certified)  # after the recovery
    assert _flags(certified) == {a["num_serie"]: True, b["num_serie"]: True, c["num_serie"]: False}

    assert run_job(clock.step(61)) == {"answered": 1}
    assert [num_serie(r) for r in registros(stub.requests[2])] == [b["num_serie"]]
    assert incidencia(stub.requests[2]) == "S"
    assert run_job(clock.step(61)) == {"answered": 1}
    assert [num_serie(r) for r in registros(stub.requests[3])] == [c["num_serie"]]
    assert incidencia(stub.requests[3]) is None
    assert set(statuses(certified).values()) == {"accepted"}


def test_no_answer_at_all_is_an_incident_too(certified, stub):
    """A broken connection (here: a TLS handshake the stub refuses) flags the waiting records
    like a Server fault does."""
    from tests.integration.verifactu.conftest import P12_PASSWORD, upload_cert

    upload_cert(certified, stub.pki.foreign_client_p12(P12_PASSWORD))
    a = issue_one(certified)
    clock = Clock()
    assert run_job(clock.step(0)) == {"retry": 1}
    assert stub.requests == []
    assert _flags(certified) == {a["num_serie"]: True}

    upload_cert(certified, stub.pki.client_p12(P12_PASSWORD))  # fixed: wakes the chain
    assert run_job(clock.step(0)) == {"answered": 1}
    assert incidencia(stub.requests[0]) == "S"
