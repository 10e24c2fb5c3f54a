"""What happens after the AEAT rejects a record (ADR 0207), against the mutual-TLS stub (which
validates every request against SuministroLR.xsd):

- the chain is the SIF's generation order: the next record chains to the immediately previous
  record generated, rejected or not (web service 9.1.1, 9.1.2, 9.1.3, 9.2.1: "el
  encadenamiento debe ser con el registro de facturación inmediatamente anterior ... por orden
  cronológico de generación de registros de facturación en el SIF");
- a rejected record blocks its own series (ours, not an AEAT rule) until a subsanación or an
  anulación resolves it; other series and the chain's submissions go on;
- subsanación: Subsanacion=S with RechazoPrevio X (the AEAT never held the invoice, 9.1.3),
  S (a rejected subsanación of an invoice the AEAT holds, DsRegistro "Alta por rechazo de
  subsanación") or absent (accepted with errors, 9.1.2);
- anulación: RechazoPrevio=S after a rejected anulación (9.2.2); SinRegistroPrevio=S when the
  invoice's alta was rejected and never accepted (9.2.3; validations annex 6.2).
"""

from __future__ import annotations

from tests.aeat_stub import Script
from tests.integration.verifactu.conftest import chain_status, issue_one, run_job, statuses
from tests.integration.verifactu.sent import (
    Clock,
    anterior,
    campo,
    num_serie,
    registros,
)


def _record(b, invoice_id: str, n: int = -1) -> dict:
    """The invoice's n-th record (its detail, with the stored record)."""
    rid = b.get(f"/verifactu/invoices/{invoice_id}")["records"][n]["record_id"]
    return b.get(f"/verifactu/records/{rid}")


def _blocked_issue(b) -> int:
    """Try to issue a new invoice of series F; returns the HTTP status."""
    pid = b.patient_with_nif()
    draft = b.invoice(pid, [{"treatment_id": b.treatment("LIM", "60.00")}])
    r = b.api.post(f"/billing/invoices/{draft['invoice_id']}/issue", token=b.token)
    return r.status


def _subsanar(b, rid: str, **fields) -> dict:
    return b.post(
        f"/verifactu/records/{rid}/subsanacion", {"reason": "Datos corregidos", **fields}, 201
    )


def test_the_chain_is_the_generation_order_whatever_the_aeat_answered(certified, stub):
    clock = Clock()
    a = issue_one(certified)
    b = issue_one(certified, iva=False)
    stub.script(Script.partial(rejected={1}))
    run_job(clock.step(0))
    assert statuses(certified) == {a["num_serie"]: "accepted", b["num_serie"]: "rejected"}
    rejected = _record(certified, b["invoice_id"])

    # the next record generated (a rectifying invoice, series R) chains to the rejected one:
    # it is the immediately previous record of the SIF, whatever the AEAT said about it
    rect = certified.post(
        f"/billing/invoices/{a['invoice_id']}/rectify", {"reason": "Descuento olvidado"}, 201
    )
    rect = certified.issue(rect["invoice_id"])
    # ...and the correction of the rejected record chains to the rectifying one
    fixed = _subsanar(certified, rejected["record_id"], DescripcionOperacion="Revisión")
    assert fixed["record"]["Subsanacion"] == "S" and fixed["record"]["RechazoPrevio"] == "X"

    stub.script(Script.all_correct())
    run_job(clock.step())
    sent = registros(stub.requests[1])
    assert [num_serie(r) for r in sent] == [rect["num_serie"], b["num_serie"]]
    assert anterior(sent[0]) == (b["num_serie"], rejected["huella"])
    assert anterior(sent[1]) == (rect["num_serie"], campo(sent[0], "Huella"))
    assert campo(sent[1], "Subsanacion") == "S" and campo(sent[1], "RechazoPrevio") == "X"
    assert set(statuses(certified).values()) == {"accepted"}
    assert certified.get("/verifactu/chain/verify")["intact"] is True


def test_a_rejection_blocks_its_own_series_only_until_it_is_resolved(certified, stub):
    clock = Clock()
    a = issue_one(certified)
    b = issue_one(certified)
    stub.script(Script.partial(rejected={1}))
    run_job(clock.step(0))
    rid = _record(certified, b["invoice_id"])["record_id"]
    assert _blocked_issue(certified) == 409
    assert list(certified.get("/verifactu/settings")["blocked_series"]) == ["F"]

    # another series is not blocked, and the chain keeps being sent
    rect = certified.post(
        f"/billing/invoices/{a['invoice_id']}/rectify", {"reason": "Descuento olvidado"}, 201
    )
    rect = certified.issue(rect["invoice_id"])
    run_job(clock.step())
    assert [num_serie(r) for r in registros(stub.requests[1])] == [rect["num_serie"]]
    assert statuses(certified)[rect["num_serie"]] == "accepted"
    assert chain_status(certified)["held"] is False

    # the series goes on as soon as the correction is recorded (not when the AEAT accepts it)
    fixed = _subsanar(certified, rid)
    assert certified.get("/verifactu/settings")["blocked_series"] == {}
    assert _blocked_issue(certified) == 200

    # a rejected correction blocks the series again
    stub.script(Script.partial(rejected={0}))
    run_job(clock.step())
    assert certified.get(f"/verifactu/records/{fixed['record_id']}")["status"] == "rejected"
    assert certified.get("/verifactu/settings")["blocked_series"] == {
        "F": {fixed["record_id"]: "1105: El NIF del destinatario no está identificado."}
    }
    assert _blocked_issue(certified) == 409
    again = _subsanar(certified, fixed["record_id"])
    assert again["corrects"] == fixed["record_id"]
    # the AEAT never held that invoice: still "alta por rechazo" (X)
    assert again["record"]["RechazoPrevio"] == "X"
    assert certified.get("/verifactu/settings")["blocked_series"] == {}


def test_subsanacion_of_an_accepted_with_errors_alta_and_of_its_rejection(certified, stub):
    clock = Clock()
    a = issue_one(certified)
    stub.script(Script.partial(rejected=set(), with_errors={0}))
    run_job(clock.step(0))
    warned = _record(certified, a["invoice_id"])
    assert warned["status"] == "accepted_with_errors" and warned["aeat_code"] == 2000
    assert certified.get("/verifactu/settings")["blocked_series"] == {}  # nothing blocks

    # 9.1.2 "Alta de subsanación": the AEAT holds the invoice -> S, no RechazoPrevio
    fixed = _subsanar(certified, warned["record_id"], DescripcionOperacion="Limpieza dental")
    assert fixed["record"]["Subsanacion"] == "S" and fixed["record"].get("RechazoPrevio") is None
    stub.script(Script.incorrect())
    run_job(clock.step())
    [sent] = registros(stub.requests[1])
    assert campo(sent, "Subsanacion") == "S" and campo(sent, "RechazoPrevio") is None
    assert campo(sent, "DescripcionOperacion") == "Limpieza dental"

    # the AEAT rejected the subsanación: "Alta por rechazo de subsanación" -> S / S
    again = _subsanar(certified, fixed["record_id"], DescripcionOperacion="Limpieza dental.")
    assert again["record"]["Subsanacion"] == "S" and again["record"]["RechazoPrevio"] == "S"
    run_job(clock.step())
    [sent] = registros(stub.requests[2])
    assert campo(sent, "Subsanacion") == "S" and campo(sent, "RechazoPrevio") == "S"
    inv = certified.get(f"/verifactu/invoices/{a['invoice_id']}")
    assert inv["status"] == "accepted"
    assert [r["status"] for r in inv["records"]] == [
        "accepted_with_errors",
        "rejected",
        "accepted",
    ]
    assert [r["superseded_by"] for r in inv["records"]] == [
        fixed["record_id"],
        again["record_id"],
        None,
    ]


def test_a_rejected_anulacion_is_sent_again_with_rechazo_previo_s(certified, stub):
    clock = Clock()
    a = issue_one(certified)
    run_job(clock.step(0))
    certified.post(f"/verifactu/invoices/{a['invoice_id']}/annul", {"reason": "Emitida por error"})
    stub.script(Script.incorrect())
    run_job(clock.step())
    anulacion = _record(certified, a["invoice_id"])
    assert anulacion["kind"] == "anulacion" and anulacion["status"] == "rejected"
    [sent] = registros(stub.requests[1])
    assert campo(sent, "SinRegistroPrevio") is None and campo(sent, "RechazoPrevio") is None
    assert _blocked_issue(certified) == 409

    # 9.2.2 "Anulación por rechazo": the AEAT holds the alta -> RechazoPrevio S only
    fixed = _subsanar(certified, anulacion["record_id"])
    assert fixed["kind"] == "anulacion" and fixed["record"]["RechazoPrevio"] == "S"
    assert fixed["record"].get("SinRegistroPrevio") is None
    assert certified.get("/verifactu/settings")["blocked_series"] == {}
    run_job(clock.step())
    [sent] = registros(stub.requests[2])
    assert sent.tag.endswith("RegistroAnulacion")
    assert campo(sent, "RechazoPrevio") == "S" and campo(sent, "SinRegistroPrevio") is None
    inv = certified.get(f"/verifactu/invoices/{a['invoice_id']}")
    assert inv["annulled"] is True and inv["status"] == "accepted"
    assert certified.get("/verifactu/chain/verify")["intact"] is True


def test_annulling_an_invoice_whose_alta_was_rejected_sends_sin_registro_previo(certified, stub):
    clock = Clock()
    a = issue_one(certified)
    stub.script(Script.incorrect())
    run_job(clock.step(0))
    alta = _record(certified, a["invoice_id"])
    assert alta["status"] == "rejected" and _blocked_issue(certified) == 409

    # 9.2.3: the alta was rejected and the invoice is annulled instead of corrected: the
    # anulación says the AEAT has no record of it, and it resolves the rejection
    certified.post(f"/verifactu/invoices/{a['invoice_id']}/annul", {"reason": "Emitida por error"})
    anulacion = _record(certified, a["invoice_id"])
    assert anulacion["record"]["SinRegistroPrevio"] == "S"
    assert anulacion["record"].get("RechazoPrevio") is None
    resolved = certified.get(f"/verifactu/records/{alta['record_id']}")
    assert resolved["superseded_by"] == anulacion["record_id"]
    assert certified.get("/verifactu/settings")["blocked_series"] == {}
    assert _blocked_issue(certified) == 200
    r = certified.api.post(
        f"/verifactu/records/{alta['record_id']}/subsanacion",
        {"reason": "Ya no procede"},
        token=certified.token,
    )
    assert r.status == 409 and r.json()["code"] == "RECORD_STATE"

    # the AEAT rejects that anulación too: "Anulación por rechazo sin registro previo" (S + S)
    stub.script(Script.partial(rejected={0}))
    run_job(clock.step())
    sent = registros(stub.requests[1])[0]  # with the invoice issued meanwhile
    assert sent.tag.endswith("RegistroAnulacion")
    assert campo(sent, "SinRegistroPrevio") == "S" and campo(sent, "RechazoPrevio") is None
    fixed = _subsanar(certified, anulacion["record_id"])
    assert fixed["record"]["SinRegistroPrevio"] == "S" and fixed["record"]["RechazoPrevio"] == "S"
    stub.script(Script.all_correct())
    run_job(clock.step())
    sent = registros(stub.requests[2])
    assert [num_serie(x) for x in sent][0] == a["num_serie"]
    assert campo(sent[0], "SinRegistroPrevio") == "S" and campo(sent[0], "RechazoPrevio") == "S"
    assert certified.get("/verifactu/chain/verify")["intact"] is True
