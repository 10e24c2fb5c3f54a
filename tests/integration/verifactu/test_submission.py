"""The AEAT submission job against the local mutual-TLS stub (tests/aeat_stub): every request
the stub receives is validated against SuministroLR.xsd, every answer it gives against
RespuestaSuministro.xsd."""

from __future__ import annotations

import ssl
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests.aeat_stub import Script
from tests.aeat_stub.answers import REJECT_CODE, REJECT_TEXT
from tests.aeat_stub.server import PATH
from tests.integration.verifactu.conftest import (
    P12_PASSWORD,
    chain_status,
    issue_one,
    later,
    run_job,
    statuses,
    tamper,
    upload_cert,
)

NIF = "B12345674"


def sent(stub) -> list[list[tuple]]:
    """The record keys of each request the stub answered (in order)."""
    assert all("error" not in r for r in stub.requests), [r.get("error") for r in stub.requests]
    return [r["claves"] for r in stub.requests]


def test_correct_submission_over_mutual_tls(certified, stub):
    first = issue_one(certified)
    second = issue_one(certified, iva=False)
    assert chain_status(certified)["submission_status"] == "waiting"

    assert run_job(later(0)) == {"answered": 1}

    assert sent(stub) == [
        [
            (NIF, first["num_serie"], _fecha(first), "Alta"),
            (NIF, second["num_serie"], _fecha(second), "Alta"),
        ]
    ]
    request = stub.requests[0]
    assert request["path"] == PATH
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert headers["soapaction"] == '""'
    # the clinic's own certificate was presented in the handshake
    assert request["client_subject"]["organizationIdentifier"] == f"VATES-{NIF}"
    for item in certified.get("/verifactu/records")["items"]:
        assert item["status"] == "accepted"
        assert item["csv"] == "A-STUBCSV0000001" and item["submission_id"]
        assert item["aeat_code"] is None
    inv = certified.get(f"/verifactu/invoices/{first['invoice_id']}")
    assert inv["status"] == "accepted"
    chain = chain_status(certified)
    assert chain["pending"] == 0 and chain["submission_status"] == "idle"
    assert chain["tiempo_espera"] == 60 and chain["last_error"] is None

    # nothing is due any more: the next runs send nothing
    assert run_job(later(3600)) == {}
    assert len(stub.requests) == 1


def _fecha(inv: dict) -> str:
    y, m, d = inv["issue_date"].split("-")
    return f"{d}-{m}-{y}"


def test_partially_correct_answer_marks_each_record_and_blocks_the_series(certified, stub):
    a, b, c = (issue_one(certified) for _ in range(3))
    stub.script(Script.partial(rejected={1}, with_errors={2}))
    run_job(later(0))

    assert statuses(certified) == {
        a["num_serie"]: "accepted",
        b["num_serie"]: "rejected",
        c["num_serie"]: "accepted_with_errors",
    }
    rejected = certified.get(f"/verifactu/invoices/{b['invoice_id']}")
    assert rejected["aeat_code"] == REJECT_CODE and rejected["aeat_description"] == REJECT_TEXT
    warned = certified.get(f"/verifactu/invoices/{c['invoice_id']}")
    assert warned["status"] == "accepted_with_errors" and warned["aeat_code"] == 2000

    # the rejected record blocks its series until a subsanación corrects it
    pid = certified.patient_with_nif()
    draft = certified.invoice(pid, [{"treatment_id": certified.treatment("LIM", "60.00")}])
    r = certified.api.post(f"/billing/invoices/{draft['invoice_id']}/issue", token=certified.token)
    assert r.status == 409, r.body
    err = r.json()
    assert err["code"] == "VERIFACTU_SERIES_BLOCKED"
    rid = rejected["records"][0]["record_id"]
    assert rid in err["message"] and "subsanación" in err["message"]
    assert list(err["data"]["records"]) == [rid]
    s = certified.get("/verifactu/settings")
    assert "F" in s["blocked_series"]
    assert "SERIES_BLOCKED" in {a["code"] for a in s["alerts"]}

    fixed = certified.post(
        f"/verifactu/records/{rid}/subsanacion",
        {"reason": "NIF del destinatario corregido", "DescripcionOperacion": "Limpieza dental"},
        201,
    )
    assert fixed["corrects"] == rid and fixed["status"] == "pending"
    assert fixed["record"]["Subsanacion"] == "S" and fixed["record"]["RechazoPrevio"] == "X"
    assert certified.get(f"/verifactu/records/{rid}")["superseded_by"] == fixed["record_id"]
    assert certified.get("/verifactu/settings")["blocked_series"] == {}
    assert certified.issue(draft["invoice_id"])["num_serie"]

    # the subsanación goes (schema-valid) with the next submission, after the wait
    run_job(later(61))
    assert sent(stub)[1][0] == (NIF, b["num_serie"], _fecha(b), "Alta")
    assert b"<sum1:Subsanacion>S</sum1:Subsanacion>" in stub.requests[1]["body"]
    assert b"<sum1:RechazoPrevio>X</sum1:RechazoPrevio>" in stub.requests[1]["body"]
    assert certified.get(f"/verifactu/invoices/{b['invoice_id']}")["status"] == "accepted"


def test_incorrect_answer_rejects_every_record(certified, stub):
    a = issue_one(certified)
    stub.script(Script.incorrect())
    assert run_job(later(0)) == {"answered": 1}
    item = certified.get(f"/verifactu/invoices/{a['invoice_id']}")["records"][0]
    assert item["status"] == "rejected" and item["csv"] is None
    assert item["aeat_code"] == REJECT_CODE
    assert "rejected by the AEAT" in chain_status(certified)["last_error"]


@pytest.mark.parametrize(
    ("estado", "outcome"),
    [
        ("Correcta", "accepted"),
        ("AceptadaConErrores", "accepted_with_errors"),
        ("Anulada", "rejected"),
    ],
)
def test_duplicate_3000_counts_as_what_the_aeat_holds(certified, stub, estado, outcome):
    a = issue_one(certified)
    stub.script(Script.duplicate(estado))
    run_job(later(0))
    rec = certified.get(f"/verifactu/invoices/{a['invoice_id']}")["records"][0]
    assert rec["status"] == outcome and rec["aeat_code"] == 3000
    detail = certified.get(f"/verifactu/records/{rec['record_id']}")
    assert detail["duplicate"]["EstadoRegistroDuplicado"] == estado
    blocked = certified.get("/verifactu/settings")["blocked_series"]
    assert (blocked != {}) == (outcome == "rejected")


def test_server_fault_is_retried_with_backoff(certified, stub):
    a = issue_one(certified)
    stub.script(Script.server_fault(), Script.garbage(), Script.all_correct())
    t0 = later(0)
    assert run_job(t0) == {"retry": 1}
    chain = chain_status(certified)
    assert chain["submission_status"] == "retrying" and "SOAP Server" in chain["last_error"]
    assert _about(chain["next_attempt_at"], t0, 60)

    assert run_job(after(t0, 30)) == {}  # still backing off: nothing sent
    assert len(stub.requests) == 1

    t1 = after(t0, 61)
    assert run_job(t1) == {"retry": 1}  # an answer that is not SOAP: retried too, wait doubles
    assert len(stub.requests) == 2
    chain = chain_status(certified)
    assert "unexpected answer" in chain["last_error"]
    assert _about(chain["next_attempt_at"], t1, 120)
    assert run_job(after(t1, 110)) == {}

    assert run_job(after(t1, 121)) == {"answered": 1}
    assert len(stub.requests) == 3 and sent(stub)[2] == sent(stub)[0]
    assert certified.get(f"/verifactu/invoices/{a['invoice_id']}")["status"] == "accepted"
    chain = chain_status(certified)
    assert chain["submission_status"] == "idle" and chain["last_error"] is None


def after(t: datetime, seconds: float) -> datetime:
    """``seconds`` after ``t``: the job's clock in these tests (never the wall clock, so a slow
    machine cannot make a wait look over)."""
    return t + timedelta(seconds=seconds)


def _about(text: str, t: datetime, seconds: int) -> bool:
    """``text`` is ``seconds`` after ``t`` (give or take the run's own duration)."""
    return abs(datetime.fromisoformat(text).timestamp() - t.timestamp() - seconds) < 2


def test_client_fault_is_not_resent_until_an_admin_releases_the_chain(certified, stub):
    a = issue_one(certified)
    stub.script(Script.client_fault())
    assert run_job(later(0)) == {"failed": 1}
    chain = chain_status(certified)
    assert chain["held"] is True and chain["submission_status"] == "failed"
    assert "4102" in chain["last_error"]
    alerts = {x["code"]: x["message"] for x in certified.get("/verifactu/settings")["alerts"]}
    assert "4102" in alerts["SUBMISSION_FAILED"]

    # not blindly resent, however long we wait or however many invoices follow
    issue_one(certified)
    assert run_job(later(6 * 3600)) == {}
    assert len(stub.requests) == 1
    assert statuses(certified)[a["num_serie"]] == "pending"

    released = certified.post("/verifactu/submission/release")
    assert released["chains"][0]["held"] is False
    assert run_job(later(6 * 3600)) == {"answered": 1}
    assert len(sent(stub)[1]) == 2
    assert set(statuses(certified).values()) == {"accepted"}


def test_the_answers_wait_time_sets_the_next_submission(certified, stub):
    issue_one(certified)
    stub.script(Script.all_correct(espera=60), Script.all_correct(espera=180))
    t0 = later(0)
    run_job(t0)
    assert chain_status(certified)["tiempo_espera"] == 60

    issue_one(certified)
    assert run_job(after(t0, 30)) == {}  # the initial 60 s have not passed
    t1 = max(after(t0, 61), later(0))
    assert run_job(t1) == {"answered": 1}
    assert chain_status(certified)["tiempo_espera"] == 180

    issue_one(certified)
    assert run_job(after(t1, 170)) == {}  # the AEAT asked for 180 s now
    assert len(stub.requests) == 2
    assert run_job(after(t1, 181)) == {"answered": 1}
    assert [len(c) for c in sent(stub)] == [1, 1, 1]


def test_annulment_is_submitted_as_a_registro_de_anulacion(certified, stub):
    a = issue_one(certified)
    run_job(later(0))
    certified.post(f"/verifactu/invoices/{a['invoice_id']}/annul", {"reason": "Emitida por error"})
    run_job(later(61))
    assert sent(stub)[1] == [(NIF, a["num_serie"], _fecha(a), "Anulacion")]
    inv = certified.get(f"/verifactu/invoices/{a['invoice_id']}")
    assert inv["annulled"] is True
    assert [r["status"] for r in inv["records"]] == ["accepted", "accepted"]


def test_a_client_certificate_the_ca_did_not_sign_is_refused_in_the_handshake(billing, stub, pki):
    from chalicelib.verifactu import transport

    upload_cert(billing, pki.foreign_client_p12(P12_PASSWORD))
    issue_one(billing)
    assert run_job(later(0)) == {"retry": 1}
    assert stub.requests == []  # no HTTP request got through
    chain = chain_status(billing)
    assert chain["submission_status"] == "retrying"
    assert "no answer from the AEAT" in chain["last_error"]

    # and without any client certificate at all, the stub does not talk either
    context = ssl.create_default_context(cafile=pki.ca_pem_path)
    request = urllib.request.Request(stub.base_url + PATH, data=b"<x/>", method="POST")
    with pytest.raises(OSError):
        urllib.request.urlopen(request, context=context, timeout=10)  # noqa: S310
    assert stub.requests == []
    assert transport.endpoint("production") == stub.base_url + PATH


def test_not_configured_and_no_certificate_are_reported_and_nothing_is_sent(
    billing, pki, stub, monkeypatch
):
    issue_one(billing)
    monkeypatch.delenv("AEAT_ENDPOINT_OVERRIDE")
    t0 = later(0)
    assert run_job(t0) == {"not_configured": 1}
    chain = chain_status(billing)
    assert chain["submission_status"] == "not_configured"
    assert "AEAT_ENDPOINT_OVERRIDE" in chain["last_error"]
    codes = {a["code"] for a in billing.get("/verifactu/settings")["alerts"]}
    assert {"SUBMISSION_NOT_CONFIGURED", "CERTIFICATE_MISSING"} <= codes

    monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", stub.base_url)
    assert run_job(after(t0, 60)) == {}  # looked at again 5 minutes later
    assert run_job(after(t0, 301)) == {"no_certificate": 1}
    assert chain_status(billing)["submission_status"] == "no_certificate"
    assert stub.requests == []

    upload_cert(billing, pki.client_p12(P12_PASSWORD))  # wakes the chain at once
    assert chain_status(billing)["submission_status"] == "waiting"
    assert run_job(max(after(t0, 302), later(0))) == {"answered": 1}
    assert len(stub.requests) == 1


def test_at_most_1000_records_per_submission_and_1000_waiting_go_at_once(certified, stub, clinic):
    issue_one(certified)
    run_job(later(0))
    _pending_records(clinic.clinic_id, 1001)
    # 1,000 or more waiting may go before the wait is over, 1,000 at most per submission
    t1 = later(1)
    assert run_job(t1) == {"answered": 1}
    assert [len(c) for c in sent(stub)] == [1, 1000]
    assert sent(stub)[1][0][1] == "T-1" and sent(stub)[1][-1][1] == "T-1000"
    assert chain_status(certified)["pending"] == 1
    assert run_job(after(t1, 30)) == {}  # 1 waiting: the 60 s apply again
    assert run_job(after(t1, 61)) == {"answered": 1}
    assert [len(c) for c in sent(stub)] == [1, 1000, 1]
    assert sent(stub)[2][0][1] == "T-1001"


def _pending_records(clinic_id: str, n: int) -> None:
    """``n`` records appended to the clinic's chain as issuing would, written in bulk (issuing
    a thousand invoices one by one would only make the test slow)."""
    from chalicelib.core.ids import now
    from chalicelib.verifactu import service
    from chalicelib.verifactu.models import RecordItem
    from chalicelib.verifactu.records import (
        Encadenamiento,
        RegistroAlta,
        RegistroAnterior,
        fecha_hora_huso,
    )

    class Collect:
        def __init__(self) -> None:
            self.items: list = []

        def save(self, item, condition=None) -> None:
            self.items.append(item)

    head = service.load_head(clinic_id, NIF)
    version = int(head.version or 0)
    tx = Collect()
    at = now()
    generated = fecha_hora_huso(at, "Europe/Madrid")
    for k in range(1, n + 1):
        anterior = RegistroAnterior(**head.last) if head.last else None
        record = RegistroAlta(
            IDFactura={
                "IDEmisorFactura": NIF,
                "NumSerieFactura": f"T-{k}",
                "FechaExpedicionFactura": at.strftime("%d-%m-%Y"),
            },
            NombreRazonEmisor="Clínica Uno Dental, S.L.",
            TipoFactura="F2",
            DescripcionOperacion="Limpieza dental",
            Desglose=[
                {
                    "ClaveRegimen": "01",
                    "OperacionExenta": "E1",
                    "BaseImponibleOimporteNoSujeto": "60.00",
                }
            ],
            CuotaTotal="0.00",
            ImporteTotal="60.00",
            Encadenamiento=Encadenamiento.tras(anterior),
            SistemaInformatico=service.sistema_informatico(clinic_id),
            FechaHoraHusoGenRegistro=generated,
        )
        service.append_record(
            tx, head, record, invoice_id=f"INV{k}", series="T", environment="test", at=at
        )
    with RecordItem.batch_write() as batch:
        for item in tx.items:
            if isinstance(item, RecordItem):
                batch.save(item)
    head.save(condition=service.head_condition(head, version))


def test_overlapping_runs_send_a_chain_once(certified, stub):
    for _ in range(3):
        issue_one(certified)
    at = later(0)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: run_job(at), range(3)))
    assert len(stub.requests) == 1
    assert sum(r.get("answered", 0) for r in results) == 1
    assert set(statuses(certified).values()) == {"accepted"}
    assert chain_status(certified)["pending"] == 0


def test_scheduled_handler_runs_the_job_and_respects_its_time(certified, stub):
    from functions import aeat_submit
    from infra.local.workers import FakeLambdaContext, scheduled_event
    from infra.resources import for_stage

    schedule = next(s for s in for_stage("test").schedules if s.name == "aeat-submit")
    assert schedule.handler == "aeat_submit:handler"
    assert {"global", "tenant", "kms"} <= set(schedule.grants)  # ADR 0012

    issue_one(certified)
    short = FakeLambdaContext("aeat-submit")
    short.get_remaining_time_in_millis = lambda: 5_000  # type: ignore[method-assign]
    assert aeat_submit.handler(scheduled_event(schedule), short) == {"deferred": 1}
    assert stub.requests == []
    assert aeat_submit.handler(scheduled_event(schedule), FakeLambdaContext("x")) == {"answered": 1}
    assert len(stub.requests) == 1


def test_a_record_changed_in_the_table_is_never_sent(certified, stub, clinic):
    issue_one(certified)

    def cheaper(record, item):
        record["ImporteTotal"] = "42.00"

    tamper(clinic.clinic_id, 1, cheaper)
    assert run_job(later(0)) == {"failed": 1}
    assert stub.requests == []
    chain = chain_status(certified)
    assert chain["held"] is True and "request not valid" in chain["last_error"]
