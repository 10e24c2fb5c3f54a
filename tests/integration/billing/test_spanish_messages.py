"""Billing errors answer in the caller's language (docs/adr/0009): Spanish with
``Accept-Language: es``, English without it; the error code never changes."""

from __future__ import annotations

from typing import Any

ES = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def _header(r: Any, name: str) -> str | None:
    return {k.lower(): v for k, v in r.headers.items()}.get(name.lower())


def test_an_invalid_state_change_is_refused_in_spanish_or_english(billing, api):
    pid = billing.patient()
    d = billing.budget(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    path = f"/billing/budgets/{d['budget_id']}/accept"

    es = api.post(path, {"signer_name": "Ana Pérez"}, token=billing.token, headers=ES)
    assert es.status == 409, es.body
    assert es.json()["code"] == "BUDGET_STATE"
    assert es.json()["message"] == (
        "Un presupuesto en borrador no se puede aceptar (solo si está enviado)."
    )
    assert _header(es, "Content-Language") == "es"

    en = api.post(path, {"signer_name": "Ana Pérez"}, token=billing.token)
    assert en.status == 409, en.body
    assert en.json()["code"] == "BUDGET_STATE"
    assert en.json()["message"] == "A budget that is draft cannot be accepted (only sent)."


def test_a_field_error_names_the_field_in_the_callers_language(billing, api):
    pid = billing.patient()
    obt = billing.treatment("OBT", "45.00", scope="surface")
    body = {"patient_id": pid, "lines": [{"treatment_id": obt, "tooth": 19, "surfaces": ["O"]}]}

    es = api.post("/billing/budgets", body, token=billing.token, headers=ES)
    assert es.status == 422, es.body
    assert es.json()["code"] == "VALIDATION_FAILED"
    assert es.json()["message"] == "Algunos campos no son válidos."
    assert es.json()["errors"] == [
        {
            "field": "lines.0.tooth",
            "message": "19 no es una pieza FDI (permanentes 11-48, temporales 51-85)",
        }
    ]

    en = api.post("/billing/budgets", body, token=billing.token)
    assert en.status == 422, en.body
    assert en.json()["message"] == "Some fields are not valid."
    assert en.json()["errors"] == [
        {
            "field": "lines.0.tooth",
            "message": "19 is not an FDI tooth (permanent 11-48, deciduous 51-85)",
        }
    ]


def test_a_money_error_passed_on_as_a_field_error_keeps_its_spanish(billing, api):
    pid = billing.patient()
    line = {
        "description": "Férula de descarga",
        "unit_price": "50.00",
        "discount": {"kind": "amount", "value": "80.00"},
    }
    body = {"patient_id": pid, "lines": [line]}

    es = api.post("/billing/invoices", body, token=billing.token, headers=ES)
    assert es.status == 422, es.body
    assert es.json()["errors"] == [
        {"field": "lines.0.discount", "message": "el descuento es mayor que la línea"}
    ]

    en = api.post("/billing/invoices", body, token=billing.token)
    assert en.status == 422, en.body
    assert en.json()["errors"] == [
        {"field": "lines.0.discount", "message": "the discount is larger than the line"}
    ]
