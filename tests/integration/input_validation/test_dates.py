"""Dates never answer 500.

- The audit log: a ``from``/``to`` before 1970 made ``ULID.from_timestamp`` overflow (a negative
  timestamp); it now reads as the start of the log.
- The agenda: a day, week or appointment in year 9999 overflowed when adding the day, week or
  duration (and year 1 when converting the wall-clock time to UTC); dates sent to the API are
  now between 1900-01-01 and 2100-12-31 (422 otherwise), and so are the other date fields.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.agenda.conftest import at, booked, make_agenda
from tests.integration.billing.conftest import Billing
from tests.integration.patients.helpers import create_patient

RANGE = "must be between 1900-01-01 and 2100-12-31"
RANGE_ES = "debe estar entre 1900-01-01 y 2100-12-31"


def _refused(r: Any, field: str, es: bool = False) -> None:
    assert r.status == 422, r.body
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert errors[0]["message"] == (RANGE_ES if es else RANGE), errors


# --- audit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "early",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "1900-01-01T00:00:00+01:00",
        "1969-12-31T23:59:59Z",
    ],
)
def test_audit_dates_before_1970_read_as_the_start_of_the_log(api, clinic, other_clinic, early):
    t = clinic.admin_token
    api.patch("/clinics/current", {"legal_name": "Uno S.L."}, token=t)
    api.patch("/clinics/current", {"legal_name": "Otra S.L."}, token=other_clinic.admin_token)
    everything = api.get("/audit", token=t).json()["data"]["items"]
    r = api.get(f"/audit?from={quote(early)}", token=t)
    assert r.status == 200, r.body
    assert r.json()["data"]["items"] == everything  # from the start: all of this clinic's
    assert {e["entity_id"] for e in everything} >= {clinic.clinic_id}
    assert other_clinic.clinic_id not in {e["entity_id"] for e in everything}
    r = api.get(f"/audit?to={quote(early)}", token=t)
    assert r.status == 200 and r.json()["data"]["items"] == []  # nothing is older
    r = api.get(f"/audit?from={quote(early)}&to={quote(early)}", token=t)
    assert r.status == 200 and r.json()["data"]["items"] == []
    r = api.get(
        f"/audit?user_id={clinic.admin_id}&from={quote(early)}&to=9999-12-31T23:59:59Z",
        token=t,
    )
    assert r.status == 200 and len(r.json()["data"]["items"]) >= 1
    r = api.get(
        f"/audit?entity_type=clinic&entity_id={clinic.clinic_id}&from={quote(early)}", token=t
    )
    assert r.status == 200 and len(r.json()["data"]["items"]) >= 2
    csv = api.get(f"/audit/export?from={quote(early)}", token=t)
    assert csv.status == 200 and "clinic.updated" in csv.body.decode()


def test_audit_still_refuses_an_inverted_range_and_a_date_without_offset(api, clinic):
    t = clinic.admin_token
    r = api.get("/audit?from=1960-01-01T00:00:00Z&to=1950-01-01T00:00:00Z", token=t)
    assert r.status == 422
    assert api.get("/audit?from=0001-01-01T00:00:00", token=t).status == 422


# --- agenda --------------------------------------------------------------------------------


def test_agenda_views_far_from_today_are_422_and_the_edges_work(api, clinic):
    t = clinic.admin_token
    for day in ("9999-12-31", "9999-12-27", "0001-01-01", "1899-12-31", "2101-01-01"):
        _refused(api.get(f"/agenda/day?date={day}", token=t), "query.date")
        _refused(api.get(f"/agenda/week?start={day}", token=t), "query.start")
    _refused(
        api.get("/agenda/day?date=9999-12-31", token=t, headers={"Accept-Language": "es"}),
        "query.date",
        es=True,
    )
    week = api.get("/agenda/week?start=2100-12-31", token=t)
    assert week.status == 200 and week.json()["data"]["end"] == "2101-01-06"
    assert api.get("/agenda/day?date=1900-01-01", token=t).status == 200


def test_appointments_and_holidays_out_of_range_are_422_and_nothing_is_booked(
    api, clinic, other_clinic
):
    ag = make_agenda(api, clinic)
    other = make_agenda(api, other_clinic)
    t = ag.token
    base = {
        "patient_id": ag.patient_id,
        "professional_id": ag.pro_id,
        "cabinet_id": ag.cab1,
        "duration_min": 240,
        "reason": "Revisión",
        "override": True,
    }
    for start in (
        "9999-12-31T23:55:00",
        "9999-12-31T10:00:00",
        "9999-12-31T23:55:00-14:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T10:00:00",
        "2101-01-01T10:00:00",
    ):
        _refused(api.post("/appointments", {**base, "start": start}, token=t), "start")
    a = booked(api, ag, at(ag.monday, "10:00"))
    r = api.patch(f"/appointments/{a['appointment_id']}", {"start": "9999-12-31T23:55:00"}, token=t)
    _refused(r, "start")
    assert api.get(f"/appointments/{a['appointment_id']}", token=t).json()["data"] == a
    upcoming = api.get(f"/patients/{ag.patient_id}/appointments", token=t).json()["data"]
    assert [x["appointment_id"] for x in upcoming["items"]] == [a["appointment_id"]]
    # the last instant of the range books (with an override: it is outside opening hours)
    r = api.post("/appointments", {**base, "start": "2100-12-31T23:55:00"}, token=t)
    assert r.status == 201, r.body
    assert r.json()["data"]["end"].startswith("2101-01-01T03:55")
    for day in ("9999-12-31", "0001-01-01"):
        _refused(api.post("/agenda/holidays", {"date": day, "name": "X"}, token=t), "date")
    assert api.get("/agenda/holidays", token=t).json()["data"] == []
    # the other clinic saw none of it
    theirs = api.get(f"/patients/{other.patient_id}/appointments", token=other.token)
    assert theirs.json()["data"]["items"] == []
    assert api.get("/agenda/holidays", token=other.token).json()["data"] == []


# --- billing -------------------------------------------------------------------------------


def test_billing_dates_out_of_range_are_422_and_nothing_is_written(api, clinic):
    t = clinic.admin_token
    r = api.patch(
        "/clinics/current",
        {
            "legal_name": "Clínica Uno Dental, S.L.",
            "tax_id": "B12345674",
            "address": {"line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013"},
        },
        token=t,
    )
    assert r.status == 200, r.body
    b = Billing(api, t)
    pid, tid = b.patient(), b.treatment("D1", "10.00")
    line = [{"treatment_id": tid}]
    for day in ("9999-12-31", "0001-01-01"):
        body = {"patient_id": pid, "lines": line, "valid_until": day}
        _refused(api.post("/billing/budgets", body, token=t), "valid_until")
        body = {"patient_id": pid, "lines": line, "operation_date": day}
        _refused(api.post("/billing/invoices", body, token=t), "operation_date")
    budget = b.budget(pid, line)
    r = api.patch(f"/billing/budgets/{budget['budget_id']}", {"valid_until": "9999-12-31"}, token=t)
    _refused(r, "valid_until")
    draft = b.invoice(pid, line)
    r = api.patch(
        f"/billing/invoices/{draft['invoice_id']}", {"operation_date": "0001-01-01"}, token=t
    )
    _refused(r, "operation_date")
    issued = b.invoice(pid, line)
    b.issue(issued["invoice_id"])
    for paid_at in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31"):
        r = api.post(
            f"/billing/invoices/{issued['invoice_id']}/payments",
            {"amount": "1", "method": "cash", "paid_at": paid_at},
            token=t,
        )
        _refused(r, "paid_at")
    assert b.get(f"/billing/invoices/{issued['invoice_id']}/payments") == []
    invoices = {x["invoice_id"] for x in b.get("/billing/invoices")["items"]}
    assert invoices == {draft["invoice_id"], issued["invoice_id"]}
    assert b.get(f"/billing/invoices/{draft['invoice_id']}")["operation_date"] is None
    assert len(b.get("/billing/budgets")["items"]) == 1
    assert (
        b.get(f"/billing/budgets/{budget['budget_id']}")["valid_until"] == (budget["valid_until"])
    )


# --- imaging and patients ------------------------------------------------------------------


def test_image_dates_and_dates_of_birth_out_of_range_are_422(api, clinic):
    t = clinic.admin_token
    p = create_patient(api, t)
    pid = p["patient_id"]
    photo = {"kind": "photo", "filename": "f.jpg", "content_type": "image/jpeg", "size": 10}
    for day in ("9999-12-31", "0001-01-01"):
        _refused(
            api.post(f"/patients/{pid}/images", {**photo, "acquired_at": day}, token=t),
            "acquired_at",
        )
        _refused(api.get(f"/patients/{pid}/images?from={day}", token=t), "query.from")
        _refused(api.get(f"/patients/{pid}/images?to={day}", token=t), "query.to")
    assert api.get(f"/patients/{pid}/images", token=t).json()["data"]["items"] == []
    r = api.post(f"/patients/{pid}/images", photo, token=t)
    image_id = r.json()["data"]["image"]["image_id"]
    r = api.patch(f"/patients/{pid}/images/{image_id}", {"acquired_at": "0001-01-01"}, token=t)
    _refused(r, "acquired_at")
    r = api.patch(f"/patients/{pid}/images/{image_id}", {"acquired_at": None}, token=t)
    assert r.status == 200  # an optional date still clears
    r = api.patch(f"/patients/{pid}/images/{image_id}", {"acquired_at": "2100-12-31"}, token=t)
    assert r.status == 200 and r.json()["data"]["acquired_at"] == "2100-12-31"
    r = api.patch(f"/patients/{pid}", {"date_of_birth": "0001-01-01"}, token=t)
    assert r.status == 422 and [e["field"] for e in r.json()["errors"]] == ["date_of_birth"]
    assert (
        api.get(f"/patients/{pid}", token=t).json()["data"]["date_of_birth"] == (p["date_of_birth"])
    )
