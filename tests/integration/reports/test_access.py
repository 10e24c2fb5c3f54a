"""Reports routes: permissions (reports.read; the exports reports.export, audited), bad input,
other clinics' figures and lists, and events naming another clinic; and the consumer fed
through the real bus and queue."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib.core import scoping
from chalicelib.core.config import settings
from chalicelib.reports import models as m
from chalicelib.reports import store
from infra.local.workers import QueuePump, sqs_client
from tests.conftest import ENDPOINT, RESOURCES
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient
from tests.integration.reports.records import Records

D1 = "2025-12-02"
ROUTES = [
    f"/reports/summary?from={D1}&to={D1}",
    "/reports/pending",
    f"/reports/items?figure=collected&from={D1}&to={D1}",
]
EXPORTS = [
    f"/reports/summary/export?from={D1}&to={D1}",
    f"/reports/items/export?figure=collected&from={D1}&to={D1}",
]


@pytest.fixture
def paid(clinic):
    r = Records(clinic.clinic_id, clinic.admin_id)
    pat = r.patient("2025-12-02 10:00")
    inv = r.invoice(pat, D1, 4230)
    pay = r.payment(inv, pat, "2025-12-02 12:00", 4230, method="cash")
    r.deliver("payment.recorded", payment_id=pay, invoice_id=inv)
    r.deliver("invoice.issued", invoice_id=inv)
    return {"r": r, "inv": inv, "pay": pay, "pat": pat}


@pytest.mark.parametrize("role", ["dentist", "receptionist"])
def test_staff_without_the_keys_get_403(api, clinic, paid, role):
    who = add_member(api, clinic, role, "Sin Informes")
    for path in ROUTES + EXPORTS:
        assert api.get(path, token=who["token"]).status == 403, path


def test_export_needs_its_own_key_and_is_audited(api, clinic, paid):
    who = add_member(api, clinic, "receptionist", "Lectora")
    grants = ["reports.read"]
    assert (
        api.put("/roles/receptionist", {"grants": grants}, token=clinic.admin_token).status == 200
    )
    for path in ROUTES:
        assert api.get(path, token=who["token"]).status == 200, path
    for path in EXPORTS:
        assert api.get(path, token=who["token"]).status == 403, path
    res = api.get(EXPORTS[1], token=clinic.admin_token)
    assert res.status == 200 and res.headers["Content-Type"].startswith("text/csv")
    text = res.body.decode("utf-8")
    assert text.startswith("\ufeffdate,kind,id,patient_id,patient_name,label,amount,method")
    assert paid["pay"] in text and "42.30" in text and "Lucía Gómez" in text
    res = api.get(EXPORTS[0], token=clinic.admin_token)
    header, row = res.body.decode("utf-8").lstrip("\ufeff").splitlines()
    assert header.startswith("period,production,") and "collected_cash" in header
    assert row.startswith(D1) and "42.30" in row
    audit = api.get("/audit?entity_type=report", token=clinic.admin_token).json()["data"]
    assert {e["action"] for e in audit["items"]} == {"reports.exported"}
    assert len(audit["items"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/reports/summary?from=2025-12-10&to=2025-12-01",
        "/reports/summary?from=2024-01-01&to=2025-12-01",
        "/reports/summary?from=2025-13-01&to=2025-12-01",
        "/reports/summary?from=ayer&to=2025-12-01",
        "/reports/items?figure=happiness&from=2025-12-01&to=2025-12-02",
        "/reports/items?figure=invoiced&from=2025-12-01&to=2025-12-02&professional_id=X1",
        "/reports/items?figure=collected&from=2025-12-01&to=2025-12-02&cursor=nonsense",
        "/reports/items?figure=collected",
    ],
)
def test_bad_input_is_a_400_in_both_languages(api, clinic, path):
    res = api.get(path, token=clinic.admin_token)
    assert res.status == 400, res.body
    es = api.get(path, token=clinic.admin_token, headers={"Accept-Language": "es"})
    assert es.status == 400 and es.json()["message"] != res.json()["message"]


def test_a_cursor_of_another_list_or_clinic_is_refused(api, clinic, other_clinic, paid):
    r = paid["r"]
    r.deliver(
        "payment.recorded",
        payment_id=r.payment(paid["inv"], paid["pat"], "2025-12-02 13:00", 100),
        invoice_id=paid["inv"],
    )
    page = api.get(
        f"/reports/items?figure=collected&from={D1}&to={D1}&limit=1", token=clinic.admin_token
    )
    cursor = page.json()["data"]["next_cursor"]
    assert cursor
    other = api.get(
        f"/reports/items?figure=invoiced&from={D1}&to={D1}&cursor={cursor}",
        token=clinic.admin_token,
    )
    assert other.status == 400
    theirs = api.get(
        f"/reports/items?figure=collected&from={D1}&to={D1}&cursor={cursor}",
        token=other_clinic.admin_token,
    )
    assert theirs.status == 400


def test_another_clinics_figures_never_show(api, clinic, other_clinic, paid):
    s = api.get(f"/reports/summary?from={D1}&to={D1}", token=other_clinic.admin_token).json()[
        "data"
    ]
    assert s["totals"]["collected"] == "0.00" and s["totals"]["invoiced"] == "0.00"
    for figure in ("collected", "invoiced", "new_patients"):
        got = api.get(
            f"/reports/items?figure={figure}&from={D1}&to={D1}", token=other_clinic.admin_token
        )
        assert got.json()["data"]["items"] == []
    p = api.get("/reports/pending", token=other_clinic.admin_token).json()["data"]
    assert p["balances"]["outstanding"] == "0.00"
    mine = api.get("/reports/pending", token=clinic.admin_token).json()["data"]
    assert mine["balances"]["outstanding"] == "42.30"  # the record says nothing paid yet


def test_an_event_naming_another_clinic_writes_only_there(api, clinic, other_clinic, paid):
    # the other clinic's event with our payment's ids: its keys find nothing, nothing is written
    intruder = Records(other_clinic.clinic_id, other_clinic.admin_id)
    assert (
        intruder.deliver("payment.recorded", payment_id=paid["pay"], invoice_id=paid["inv"])
        == "unchanged"
    )
    with scoping.clinic(other_clinic.clinic_id):
        assert store.get_one(other_clinic.clinic_id, m.day_sk(D1)) == {}
    with scoping.clinic(clinic.clinic_id):
        assert store.get_one(clinic.clinic_id, m.day_sk(D1))["collected"] == 4230


@pytest.fixture(scope="module")
def reports_pump() -> QueuePump:
    queue = next(q for q in RESOURCES.queues if q.name == "reports")
    return QueuePump(
        RESOURCES,
        queue,
        sqs_client(ENDPOINT, settings().region),
        settings().region,
        threading.Event(),
        log=lambda _m: None,
    )


def test_the_consumer_through_the_real_queue(api, clinic, reports_pump):
    """A patient created through the API reaches the figures through bus, queue and handler."""
    pid = create_patient(api, clinic.admin_token, first_name="Pilar", last_name="Ruiz")[
        "patient_id"
    ]
    today = api.get("/reports/pending", token=clinic.admin_token).json()["data"]["as_of"]
    deadline = time.time() + 60
    rows: list = []
    while time.time() < deadline and not rows:
        reports_pump.drain_once(wait_s=0)
        rows = api.get(
            f"/reports/items?figure=new_patients&from={today}&to={today}", token=clinic.admin_token
        ).json()["data"]["items"]
        time.sleep(0.1)
    assert [(x["id"], x["patient_name"], x["kind"]) for x in rows] == [
        (pid, "Pilar Ruiz", "patient")
    ]
    s = api.get(f"/reports/summary?from={today}&to={today}", token=clinic.admin_token).json()[
        "data"
    ]
    assert s["totals"]["new_patients"] == 1
