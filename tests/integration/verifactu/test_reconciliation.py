"""The daily reconciliation with the AEAT against the local mutual-TLS stub: records are issued
and sent through the real submission job, the stub registers what it accepted (its ``ledger``)
and answers ConsultaFactuSistemaFacturacion from it; every consulta it receives is validated
against ConsultaLR.xsd and every answer it gives against RespuestaConsultaLR.xsd."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.aeat_stub import Script
from tests.integration.billing.conftest import Billing
from tests.integration.conftest import mails_to
from tests.integration.verifactu.conftest import (
    P12_PASSWORD,
    issue_one,
    later,
    run_job,
    upload_cert,
)

NIF = "B12345674"
OTHER_NIF = "A58818501"


@pytest.fixture(autouse=True)
def _forget_due_reconciliations() -> Iterator[None]:
    """The reconciliation's due index is global: after each test take its chains out, so a
    later test's run only sees its own clinics (the tests of one module share the table)."""
    yield
    from chalicelib.verifactu.models import RECONCILE_DUE_PK, ReconcileDue

    for due in list(ReconcileDue.gsi1.query(RECONCILE_DUE_PK)):
        due.update(actions=[ReconcileDue.GSI1PK.remove(), ReconcileDue.GSI1SK.remove()])


def reconcile(at: datetime) -> dict[str, int]:
    from chalicelib.verifactu import reconciliation

    return reconciliation.run(at)


def after(t: datetime, **delta: float) -> datetime:
    return t + timedelta(**delta)


def records(b: Billing) -> dict[str, dict[str, Any]]:
    """num_serie -> its latest record (with ``reconciliation``)."""
    items = b.get("/verifactu/records?limit=200")["items"]
    return {i["num_serie"]: i for i in reversed(items)}


def codes(record: dict[str, Any]) -> list[str]:
    return sorted(d["code"] for d in (record["reconciliation"] or {}).get("differences", []))


def consultas_ok(stub) -> list[dict[str, Any]]:
    assert all("error" not in r for r in stub.requests), [r.get("error") for r in stub.requests]
    return stub.consultas


def window_months(at: datetime) -> set[tuple[str, str]]:
    """The months the 7-day window ending at ``at`` spans (in the clinic's zone)."""
    zone = ZoneInfo("Europe/Madrid")
    first, last = (at - timedelta(days=7)).astimezone(zone).date(), at.astimezone(zone).date()
    return {(f"{d.year}", f"{d.month:02d}") for d in (first, last)}


def this_month(at: datetime) -> tuple[str, str]:
    d = at.astimezone(ZoneInfo("Europe/Madrid")).date()
    return f"{d.year}", f"{d.month:02d}"


def sent_and_answered(b: Billing, n: int, **kw: Any) -> list[dict]:
    invoices = [issue_one(b, **kw) for _ in range(n)]
    assert run_job(later(0)).get("answered") == 1
    return invoices


def test_all_equal_flags_nothing_and_sends_no_email(certified, stub, clinic):
    a, b = sent_and_answered(certified, 2)
    before = len(mails_to(clinic.admin_email))
    t0 = later(60)

    assert reconcile(t0) == {"ok": 1}

    consultas = consultas_ok(stub)
    # one query per imputation period of the window, narrowed to its expedition dates
    assert {c["periodo"] for c in consultas} == window_months(t0) and len(consultas) <= 2
    zone = ZoneInfo("Europe/Madrid")
    for consulta in consultas:
        assert consulta["nif"] == NIF and consulta["nombre"] == "Clínica Uno Dental, S.L."
        assert consulta["hasta"] == t0.astimezone(zone).strftime("%d-%m-%Y")
        since = (t0 - timedelta(days=7)).astimezone(zone)
        assert consulta["desde"] == since.strftime("%d-%m-%Y")
        assert consulta["clave"] is None and consulta["num_serie"] is None  # one page
    # every consulta left over mutual TLS with the clinic's certificate
    assert stub.requests[-1]["client_subject"]["organizationIdentifier"] == f"VATES-{NIF}"
    for inv in (a, b):
        rec = records(certified)[inv["num_serie"]]
        assert rec["reconciliation"]["status"] == "ok"
        assert rec["reconciliation"]["aeat_estado"] == "Correcto"
        assert rec["reconciliation"]["differences"] == []
    assert certified.get("/verifactu/reconciliation/records")["items"] == []
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert day["status"] == "ok" and day["emailed_at"] is None
    assert day["chains"][NIF]["compared"] == 2 and day["unknown"] == []
    assert len(mails_to(clinic.admin_email)) == before


def test_each_kind_of_difference_is_flagged_listed_and_emailed(certified, stub, clinic):
    ok, missing, huella, with_errors, annulled, warned = (issue_one(certified) for _ in range(6))
    stub.script(Script.partial(rejected=set(), with_errors={5}))
    assert run_job(later(0)) == {"answered": 1}
    ledger = stub.ledger
    ledger.forget(missing["num_serie"])
    ledger.set_huella(huella["num_serie"], "F" * 64)
    ledger.set_estado(with_errors["num_serie"], "AceptadoConErrores", 2004, "Aviso.")
    ledger.set_estado(annulled["num_serie"], "Anulado")
    ledger.set_estado(warned["num_serie"], "Correcto")  # we hold it accepted with errors
    fecha = _fecha(ok)
    ledger.add_foreign(NIF, "OTRO-SIF-1", fecha)
    before = len(mails_to(clinic.admin_email))

    assert reconcile(later(60)) == {"discrepancies": 1}

    recs = records(certified)
    assert codes(recs[ok["num_serie"]]) == []
    assert codes(recs[missing["num_serie"]]) == ["missing_at_aeat"]
    assert recs[missing["num_serie"]]["reconciliation"]["aeat_estado"] is None
    assert codes(recs[huella["num_serie"]]) == ["huella_differs"]
    diff = recs[huella["num_serie"]]["reconciliation"]["differences"][0]
    assert diff["aeat"] == "F" * 64 and diff["ours"] == recs[huella["num_serie"]]["huella"]
    assert codes(recs[with_errors["num_serie"]]) == ["state_differs"]
    assert recs[with_errors["num_serie"]]["reconciliation"]["differences"][0] == {
        "code": "state_differs",
        "ours": "correct",
        "aeat": "AceptadoConErrores",
    }
    assert codes(recs[annulled["num_serie"]]) == ["state_differs"]
    assert recs[annulled["num_serie"]]["reconciliation"]["aeat_estado"] == "Anulado"
    assert recs[warned["num_serie"]]["status"] == "accepted_with_errors"
    assert recs[warned["num_serie"]]["reconciliation"]["differences"][0]["aeat"] == "Correcto"

    flagged = certified.get("/verifactu/reconciliation/records")["items"]
    assert sorted(i["num_serie"] for i in flagged) == sorted(
        x["num_serie"] for x in (missing, huella, with_errors, annulled, warned)
    )
    detail = certified.get(f"/verifactu/records/{recs[missing['num_serie']]['record_id']}")
    assert detail["reconciliation"]["status"] == "discrepancy"
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert day["status"] == "discrepancies" and day["emailed_at"]
    assert [(u["num_serie"], u["aeat_estado"]) for u in day["unknown"]] == [
        ("OTRO-SIF-1", "Correcto")
    ]
    assert len(day["discrepancies"]) == 5 and all(d["new"] for d in day["discrepancies"])

    (email,) = mails_to(clinic.admin_email)[before:]
    assert "diferencias con la AEAT" in email.subject  # the clinic's language: Spanish
    assert missing["num_serie"] in email.body and "no consta en la AEAT" in email.body
    assert "OTRO-SIF-1" in email.body and "huella distinta" in email.body


def _fecha(inv: dict) -> str:
    y, m, d = inv["issue_date"].split("-")
    return f"{d}-{m}-{y}"


def test_records_we_hold_rejected_but_the_aeat_holds_are_flagged(certified, stub, api, clinic):
    r = api.patch("/clinics/current", {"language": "en"}, token=clinic.admin_token)
    assert r.status == 200, r.body
    a = issue_one(certified)
    stub.script(Script.incorrect())
    run_job(later(0))
    assert records(certified)[a["num_serie"]]["status"] == "rejected"
    stub.ledger.add_foreign(NIF, a["num_serie"], _fecha(a))
    before = len(mails_to(clinic.admin_email))

    assert reconcile(later(60)) == {"discrepancies": 1}

    rec = records(certified)[a["num_serie"]]
    assert codes(rec) == ["held_but_rejected"]
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert day["unknown"] == []  # known to us, just in another state
    (email,) = mails_to(clinic.admin_email)[before:]  # in the clinic's language: English
    assert email.subject == f"Clínica Uno: VERI*FACTU differences with the AEAT ({day_text(day)})"
    assert "the AEAT holds it (Correcto) but we have it as rejected" in email.body
    assert "contact Cúspide support" in email.body


def day_text(day: dict) -> str:
    y, m, d = day["day"].split("-")
    return f"{d}/{m}/{y}"


def test_an_annulment_the_aeat_holds_as_annulled_is_equal_and_otherwise_flagged(certified, stub):
    a = issue_one(certified)
    run_job(later(0))
    certified.post(f"/verifactu/invoices/{a['invoice_id']}/annul", {"reason": "Emitida por error"})
    t1 = later(61)
    run_job(t1)
    assert [
        r["status"] for r in certified.get(f"/verifactu/invoices/{a['invoice_id']}")["records"]
    ] == [
        "accepted",
        "accepted",
    ]
    assert reconcile(after(t1, seconds=1)) == {"ok": 1}
    inv = certified.get(f"/verifactu/invoices/{a['invoice_id']}")
    alta, anulacion = inv["records"]
    assert alta["reconciliation"] is None  # the result goes on the invoice's current record
    assert anulacion["reconciliation"]["aeat_estado"] == "Anulado"

    stub.ledger.set_estado(a["num_serie"], "Correcto")  # the AEAT lost the annulment
    assert reconcile(after(t1, days=1)) == {"discrepancies": 1}
    anulacion = certified.get(f"/verifactu/invoices/{a['invoice_id']}")["records"][1]
    assert anulacion["reconciliation"]["differences"] == [
        {"code": "state_differs", "ours": "annulled", "aeat": "Correcto"}
    ]


def test_pages_are_followed_to_the_end(certified, stub):
    invoices = sent_and_answered(certified, 5)
    stub.ledger.page_size = 2
    stub.ledger.set_huella(invoices[-1]["num_serie"], "E" * 64)  # on the last page

    assert reconcile(later(60)) == {"discrepancies": 1}

    t = this_month(later(0))
    pages = [c for c in consultas_ok(stub) if c["periodo"] == t]
    assert [p["clave"] for p in pages] == [
        None,
        (NIF, invoices[1]["num_serie"], _fecha(invoices[1])),
        (NIF, invoices[3]["num_serie"], _fecha(invoices[3])),
    ]
    recs = records(certified)
    assert codes(recs[invoices[-1]["num_serie"]]) == ["huella_differs"]
    assert all(recs[i["num_serie"]]["reconciliation"]["status"] == "ok" for i in invoices[:-1])


def test_one_clinics_reconciliation_never_touches_or_emails_another(
    certified, stub, pki, api, clinic, other_clinic
):
    r = api.patch(
        "/clinics/current",
        {
            "legal_name": "Otra Dental, S.A.",
            "tax_id": OTHER_NIF,
            "language": "en",
            "address": {
                "line1": "Calle Otra 2",
                "city": "Sevilla",
                "postal_code": "41001",
                "country": "ES",
            },
        },
        token=other_clinic.admin_token,
    )
    assert r.status == 200, r.body
    other = Billing(api, other_clinic.admin_token)
    upload_cert(other, pki.client_p12(P12_PASSWORD, nif=OTHER_NIF, entity="OTRA DENTAL SA"))
    mine = issue_one(certified)
    theirs = issue_one(other)
    assert run_job(later(0)) == {"answered": 2}
    stub.ledger.forget(mine["num_serie"], nif=NIF)  # same number in both clinics
    stub.ledger.add_foreign(NIF, "AJENO-1", _fecha(mine))
    mine_before = len(mails_to(clinic.admin_email))
    theirs_before = len(mails_to(other_clinic.admin_email))

    assert reconcile(later(60)) == {"discrepancies": 1, "ok": 1}

    by_nif = {c["nif"]: c for c in consultas_ok(stub)}
    assert set(by_nif) == {NIF, OTHER_NIF}
    assert by_nif[OTHER_NIF]["nombre"] == "Otra Dental, S.A."
    subjects = {
        r["consulta"]["nif"]: r["client_subject"]["organizationIdentifier"]
        for r in stub.requests
        if "consulta" in r
    }
    assert subjects == {NIF: f"VATES-{NIF}", OTHER_NIF: f"VATES-{OTHER_NIF}"}
    assert codes(records(certified)[mine["num_serie"]]) == ["missing_at_aeat"]
    assert records(other)[theirs["num_serie"]]["reconciliation"]["status"] == "ok"
    assert other.get("/verifactu/reconciliation/records")["items"] == []
    (their_day,) = other.get("/verifactu/reconciliation/days")["items"]
    assert their_day["status"] == "ok" and their_day["unknown"] == []
    assert [
        i["num_serie"] for i in certified.get("/verifactu/reconciliation/records")["items"]
    ] == [mine["num_serie"]]
    assert len(mails_to(clinic.admin_email)) == mine_before + 1
    assert len(mails_to(other_clinic.admin_email)) == theirs_before


def test_an_unreachable_aeat_flags_nothing_and_is_asked_again_next_run(certified, stub, clinic):
    a, b = sent_and_answered(certified, 2)
    t0 = later(60)
    assert reconcile(t0) == {"ok": 1}
    stub.ledger.forget(a["num_serie"])  # a real difference appears...
    stub.script_consulta(Script.server_fault(), Script.garbage())  # ...but the AEAT is down
    before = len(mails_to(clinic.admin_email))

    t1 = after(t0, days=1)
    assert reconcile(t1) == {"failed": 1}
    recs = records(certified)
    assert recs[a["num_serie"]]["reconciliation"]["status"] == "ok"  # nothing flagged wrongly
    assert recs[a["num_serie"]]["reconciliation"]["checked_at"].startswith(t0.date().isoformat())
    assert certified.get("/verifactu/reconciliation/records")["items"] == []
    days = certified.get("/verifactu/reconciliation/days")["items"]
    assert days[0]["status"] == "failed" and "Server" in days[0]["chains"][NIF]["error"]

    assert reconcile(after(t1, seconds=1)) == {"failed": 1}  # still due: garbage this time
    assert (
        "unexpected answer"
        in certified.get("/verifactu/reconciliation/days")["items"][0]["chains"][NIF]["error"]
    )
    assert len(mails_to(clinic.admin_email)) == before

    assert reconcile(after(t1, seconds=2)) == {"discrepancies": 1}  # the AEAT is back
    assert codes(records(certified)[a["num_serie"]]) == ["missing_at_aeat"]
    assert len(mails_to(clinic.admin_email)) == before + 1


def test_no_answer_at_all_is_retried_too(certified, stub, monkeypatch):
    sent_and_answered(certified, 1)
    monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", "https://127.0.0.1:9")  # nobody listens
    t0 = later(60)
    assert reconcile(t0) == {"failed": 1}
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert "no answer from the AEAT" in day["chains"][NIF]["error"]
    monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", stub.base_url)
    assert reconcile(after(t0, seconds=1)) == {"ok": 1}


def test_a_rerun_is_idempotent_and_the_email_goes_once_a_day(certified, stub, clinic):
    from chalicelib.verifactu import reconciliation

    a, _ = sent_and_answered(certified, 2)
    stub.ledger.forget(a["num_serie"])
    before = len(mails_to(clinic.admin_email))
    t0 = later(60)
    assert reconcile(t0) == {"discrepancies": 1}
    first = records(certified)[a["num_serie"]]["reconciliation"]

    assert reconcile(t0) == {}  # checked: not due again until the next daily run
    reconciliation.reconcile_clinic(clinic.clinic_id, [NIF], after(t0, seconds=5))  # forced
    again = records(certified)[a["num_serie"]]["reconciliation"]
    assert again["differences"] == first["differences"] and again["since"] == first["since"]
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert len(day["discrepancies"]) == 1 and day["discrepancies"][0]["new"] is False
    assert len(mails_to(clinic.admin_email)) == before + 1  # one email for the day

    # the next day it is still there: summarised again, not new
    t1 = after(t0, days=1)
    assert reconcile(t1) == {"discrepancies": 1}
    assert len(mails_to(clinic.admin_email)) == before + 2
    assert records(certified)[a["num_serie"]]["reconciliation"]["since"] == first["since"]

    # fixed at the AEAT: the flag goes, the list empties, no email
    ours = records(certified)[a["num_serie"]]["huella"]
    stub.ledger.add_foreign(NIF, a["num_serie"], _fecha(a), huella=ours)
    assert reconcile(after(t1, days=1)) == {"ok": 1}
    assert records(certified)[a["num_serie"]]["reconciliation"]["status"] == "ok"
    assert certified.get("/verifactu/reconciliation/records")["items"] == []
    assert len(mails_to(clinic.admin_email)) == before + 2


def test_records_in_flight_are_not_compared_nor_unknown(certified, stub):
    a = sent_and_answered(certified, 1)[0]
    pending = issue_one(certified)  # not sent yet
    stub.ledger.add_foreign(NIF, pending["num_serie"], _fecha(pending))  # e.g. answer lost
    assert reconcile(later(60)) == {"ok": 1}
    recs = records(certified)
    assert recs[pending["num_serie"]]["status"] == "pending"
    assert recs[pending["num_serie"]]["reconciliation"] is None
    assert recs[a["num_serie"]]["reconciliation"]["status"] == "ok"
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert day["unknown"] == []


def test_only_the_window_is_read_and_the_chain_leaves_the_index_after_it(certified, stub):
    from chalicelib.verifactu.models import ReconcileDue

    sent_and_answered(certified, 2)
    t0 = later(10 * 86400)  # the records were answered 10 days before
    assert reconcile(t0) == {"ok": 1}
    assert consultas_ok(stub) == []  # nothing in the window: the AEAT is not even asked
    (day,) = certified.get("/verifactu/reconciliation/days")["items"]
    assert day["chains"][NIF]["compared"] == 0
    assert [d for d in ReconcileDue.gsi1.query("VFRCDUE")] == []  # out of the due index
    assert reconcile(after(t0, days=1)) == {}

    # the chain's next answer puts it back, due at once
    issue_one(certified)
    assert run_job(later(61)) == {"answered": 1}  # after the AEAT's wait
    assert len(list(ReconcileDue.gsi1.query("VFRCDUE"))) == 1
    assert reconcile(later(62)) == {"ok": 1}


def test_a_stack_without_an_aeat_endpoint_asks_nothing(certified, stub, monkeypatch):
    sent_and_answered(certified, 1)
    monkeypatch.delenv("AEAT_ENDPOINT_OVERRIDE")
    t0 = later(60)
    assert reconcile(t0) == {"not_configured": 1}
    assert consultas_ok(stub) == []
    monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", stub.base_url)
    assert reconcile(after(t0, days=1)) == {"ok": 1}


def test_scheduled_handler_runs_the_reconciliation_and_respects_its_time(certified, stub):
    from functions import aeat_reconcile
    from infra.local.workers import FakeLambdaContext, scheduled_event
    from infra.resources import for_stage

    schedule = next(s for s in for_stage("test").schedules if s.name == "aeat-reconcile")
    assert schedule.handler == "aeat_reconcile:handler"
    assert {"global", "tenant", "kms", "mail"} <= set(schedule.grants)  # ADR 0012

    sent_and_answered(certified, 1)
    short = FakeLambdaContext("aeat-reconcile")
    short.get_remaining_time_in_millis = lambda: 5_000  # type: ignore[method-assign]
    assert aeat_reconcile.handler(scheduled_event(schedule), short) == {"deferred": 1}
    assert stub.consultas == []
    context = FakeLambdaContext("aeat-reconcile")
    assert aeat_reconcile.handler(scheduled_event(schedule), context) == {"ok": 1}
    assert {c["periodo"] for c in consultas_ok(stub)} == window_months(later(0))


def test_each_clinic_is_reconciled_with_its_own_credentials(
    certified, stub, clinic, monkeypatch, scoped_as, own_credentials
):
    """ADR 0012: the job reads the due chains on the global path and reconciles each clinic
    in its own scope."""
    from chalicelib.core import scoping
    from chalicelib.verifactu import reconciliation

    sent_and_answered(certified, 1)
    seen: list[str | None] = []
    real = reconciliation.reconcile_clinic

    def spy(clinic_id, *a, **k):
        seen.append(scoping.current_clinic())
        assert scoping.current_clinic() == clinic_id
        return real(clinic_id, *a, **k)

    monkeypatch.setattr(reconciliation, "reconcile_clinic", spy)
    scoped_as.clear()
    own_credentials.clear()
    assert reconcile(later(60)) == {"ok": 1}
    assert set(own_credentials) <= {"global"}, own_credentials  # its role: the global path
    assert seen == [clinic.clinic_id]
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
