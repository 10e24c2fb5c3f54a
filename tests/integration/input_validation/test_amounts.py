"""Amounts, prices, quantities and discounts never answer 500: "1E+400" or a price of 10^40
(``decimal.InvalidOperation`` when rounded to cents) and other scripts' digits ("٣" is 3 for
``Decimal``) are a 422 on the field, and nothing is written; the whole documented range
(money up to 99,999,999.99, quantities up to 1000) is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.billing.conftest import Billing
from tests.integration.conftest import Clinic

BAD = ["1E+400", "1" + "0" * 40, 10**40, "٣", "１０", "-1E+40", "1_000"]
ES = {"Accept-Language": "es"}


def _setup(api: Any, clinic: Clinic) -> tuple[Billing, str, str]:
    r = api.patch(
        "/clinics/current",
        {
            "legal_name": "Clínica Uno Dental, S.L.",
            "tax_id": "B12345674",
            "address": {"line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013"},
        },
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    b = Billing(api, clinic.admin_token)
    return b, b.patient_with_nif(), b.treatment("AMT1", "40.00")


def _refused(r: Any, field: str) -> None:
    assert r.status == 422, r.body
    assert field in [e["field"] for e in r.json()["errors"]], r.body


def _items(api: Any, token: str, path: str) -> list[str]:
    r = api.get(path, token=token)
    assert r.status == 200, r.body
    data = r.json()["data"]
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    return sorted(str(i) for i in items)


@pytest.mark.parametrize("bad", BAD)
def test_bad_amounts_are_422_on_every_billing_input_and_nothing_is_written(
    api, clinic, other_clinic, bad
):
    b, pid, tid = _setup(api, clinic)
    t = clinic.admin_token
    other = Billing(api, other_clinic.admin_token)
    other.treatment("OTHER", "10.00")
    other_before = _items(api, other.token, "/billing/treatments")
    inv = b.invoice(pid, [{"treatment_id": tid}])
    b.issue(inv["invoice_id"])
    draft = b.invoice(pid, [{"treatment_id": tid}])
    budget = b.budget(pid, [{"treatment_id": tid}])
    before = {
        p: _items(api, t, p)
        for p in (
            "/billing/treatments",
            "/billing/budgets",
            "/billing/invoices",
            f"/billing/invoices/{inv['invoice_id']}/payments",
        )
    }
    line = {"treatment_id": tid}
    cases = [
        ("POST", "/billing/treatments", {"code": "N1", "name_es": "Xx", "price": bad}, "price"),
        (
            "POST",
            "/billing/treatments",
            {"code": "N2", "name_es": "Xx", "price": "1", "cost": bad},
            "cost",
        ),
        ("PATCH", f"/billing/treatments/{tid}", {"price": bad}, "price"),
        (
            "POST",
            "/billing/vat-types",
            {"code": "XX", "name_es": "Xx", "name_en": "Xx", "rate": bad, "classification": "S1"},
            "rate",
        ),
        (
            "POST",
            "/billing/budgets",
            {"patient_id": pid, "lines": [{**line, "unit_price": bad}]},
            "lines.0.unit_price",
        ),
        (
            "POST",
            "/billing/budgets",
            {"patient_id": pid, "lines": [{**line, "quantity": bad}]},
            "lines.0.quantity",
        ),
        (
            "POST",
            "/billing/budgets",
            {"patient_id": pid, "lines": [{**line, "discount": {"kind": "amount", "value": bad}}]},
            "lines.0.discount.value",
        ),
        (
            "POST",
            "/billing/budgets",
            {
                "patient_id": pid,
                "lines": [line],
                "global_discount": {"kind": "percent", "value": bad},
            },
            "global_discount.value",
        ),
        (
            "PATCH",
            f"/billing/budgets/{budget['budget_id']}",
            {"lines": [{**line, "unit_price": bad}]},
            "lines.0.unit_price",
        ),
        (
            "POST",
            "/billing/invoices",
            {"patient_id": pid, "lines": [{**line, "unit_price": bad}]},
            "lines.0.unit_price",
        ),
        (
            "POST",
            "/billing/invoices",
            {"patient_id": pid, "lines": [{**line, "quantity": bad}]},
            "lines.0.quantity",
        ),
        (
            "PATCH",
            f"/billing/invoices/{draft['invoice_id']}",
            {"lines": [{**line, "unit_price": bad}]},
            "lines.0.unit_price",
        ),
        (
            "POST",
            f"/billing/invoices/{inv['invoice_id']}/rectify",
            {"reason": "Error", "mode": "I", "lines": [{**line, "unit_price": bad}]},
            "lines.0.unit_price",
        ),
        (
            "POST",
            f"/billing/invoices/{inv['invoice_id']}/payments",
            {"amount": bad, "method": "cash"},
            "amount",
        ),
        (
            "POST",
            f"/billing/invoices/{inv['invoice_id']}/refunds",
            {"amount": bad, "method": "cash"},
            "amount",
        ),
    ]
    for method, path, body, field in cases:
        r = api.request(method, path, body, token=t)
        _refused(r, field)
        es = api.request(method, path, body, token=t, headers=ES)
        _refused(es, field)
    for path, items in before.items():
        assert _items(api, t, path) == items, path
    assert b.get(f"/billing/treatments/{tid}")["price"] == "40.00"
    assert _items(api, other.token, "/billing/treatments") == other_before


def test_the_messages_say_what_is_wrong_in_both_languages(api, clinic):
    t = clinic.admin_token
    body = {"code": "M1", "name_es": "Xx", "price": "٣"}
    r = api.post("/billing/treatments", body, token=t)
    assert r.json()["errors"][0]["message"].startswith("price: not a number (use the digits 0-9")
    r = api.post("/billing/treatments", body, token=t, headers=ES)
    assert r.json()["errors"][0]["message"].startswith("price: no es un número (usa las cifras")
    r = api.post("/billing/treatments", {**body, "price": "100000000"}, token=t, headers=ES)
    assert r.json()["errors"][0]["message"] == "price: como mucho 99999999.99"


def test_a_csv_import_with_huge_or_foreign_digit_prices_reports_rows_not_a_500(api, clinic):
    t = clinic.admin_token
    csv = (
        "code;name_es;price\nC1;Uno;1E+400\nC2;Dos;١٠\nC3;Tres;" + "9" * 40 + "\nC4;Cuatro;12,50\n"
    )
    r = api.post("/billing/treatments/import", {"csv": csv, "dry_run": True}, token=t)
    assert r.status == 200, r.body
    errors = r.json()["data"]["errors"]
    assert sorted((e["row"], e["field"]) for e in errors) == [
        (2, "price"),
        (3, "price"),
        (4, "price"),
    ]
    r = api.post("/billing/treatments/import", {"csv": csv, "dry_run": False}, token=t)
    assert r.status == 422 and r.json()["code"] == "CSV_ROW_ERRORS"
    assert api.get("/billing/treatments", token=t).json()["data"]["items"] == []


def test_the_top_of_the_range_is_accepted_and_computes(api, clinic):
    b, pid, tid = _setup(api, clinic)
    t = b.post(
        "/billing/treatments",
        {"code": "MAX", "name_es": "Máximo", "price": "99999999.99", "cost": "99.999.999,99"},
        201,
    )
    assert (t["price"], t["cost"]) == ("99999999.99", "99999999.99")
    line = {"treatment_id": tid, "unit_price": "99999999.99", "quantity": "1000"}
    budget = b.budget(pid, [line] * 3, global_discount={"kind": "amount", "value": "99999999.99"})
    assert budget["totals"]["gross"] == "299999999970.00"
    assert budget["totals"]["total"] == "299899999970.01"
    inv = b.invoice(pid, [{**line, "quantity": "1"}])
    assert inv["total"] == "99999999.99"
