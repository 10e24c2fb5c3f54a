from __future__ import annotations


def _issued(billing, total_price="100.00"):
    pid = billing.patient_with_nif()
    t = billing.treatment("PAY", total_price)
    inv = billing.issue(billing.invoice(pid, [{"treatment_id": t}])["invoice_id"])
    return pid, inv


def test_payments_overpayment_refund_and_balance(billing, api):
    pid, inv = _issued(billing)
    iid = inv["invoice_id"]
    p = billing.post(
        f"/billing/invoices/{iid}/payments", {"amount": "40.00", "method": "card"}, 201
    )
    assert p["invoice"]["status"] == "partially_paid" and p["invoice"]["outstanding"] == "60.00"
    r = api.post(
        f"/billing/invoices/{iid}/payments",
        {"amount": "60.01", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 400
    body = r.json()
    assert body["code"] == "AMOUNT_ABOVE_OUTSTANDING" and body["data"]["outstanding"] == "60.00"
    assert "60,00 €" in body["message"]
    bal = billing.get(f"/billing/patients/{pid}/balance")
    assert bal["outstanding"] == "60.00" and bal["open_invoices"][0]["outstanding"] == "60.00"
    p = billing.post(
        f"/billing/invoices/{iid}/payments", {"amount": "60", "method": "financing"}, 201
    )
    assert p["invoice"]["status"] == "paid" and p["invoice"]["outstanding"] == "0.00"
    r = api.post(
        f"/billing/invoices/{iid}/payments",
        {"amount": "0.01", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 400 and r.json()["data"]["outstanding"] == "0.00"
    r = api.post(
        f"/billing/invoices/{iid}/refunds",
        {"amount": "100.01", "method": "card"},
        token=billing.token,
    )
    assert r.status == 400 and r.json()["code"] == "REFUND_ABOVE_PAID"
    rf = billing.post(
        f"/billing/invoices/{iid}/refunds", {"amount": "30", "method": "transfer"}, 201
    )
    assert rf["payment"]["kind"] == "refund" and rf["invoice"]["status"] == "partially_paid"
    assert rf["invoice"]["paid"] == "70.00"
    assert billing.get(f"/billing/patients/{pid}/balance")["outstanding"] == "30.00"
    kinds = [x["kind"] for x in billing.get(f"/billing/invoices/{iid}/payments")]
    assert sorted(kinds) == ["payment", "payment", "refund"]
    # the issued content did not change
    after = billing.get(f"/billing/invoices/{iid}")
    assert after["lines"] == inv["lines"] and after["num_serie"] == inv["num_serie"]


def test_payment_validation(billing, api):
    pid = billing.patient()
    draft = billing.invoice(pid, [{"treatment_id": billing.treatment("PAY", "100.00")}])
    r = api.post(
        f"/billing/invoices/{draft['invoice_id']}/payments",
        {"amount": "10", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 409
    for body in (
        {"amount": "-1", "method": "cash"},
        {"amount": "1", "method": "bitcoin"},
        {"amount": 1.5, "method": "cash"},
        {"amount": "1.001", "method": "cash"},
    ):
        r = api.post(f"/billing/invoices/{draft['invoice_id']}/payments", body, token=billing.token)
        assert r.status == 422, body


def test_cancelled_invoice_takes_no_payments_and_its_money_is_a_credit(billing, api):
    pid, inv = _issued(billing, "100.00")
    iid = inv["invoice_id"]
    billing.post(f"/billing/invoices/{iid}/payments", {"amount": "30", "method": "cash"}, 201)
    rect = billing.post(f"/billing/invoices/{iid}/rectify", {"reason": "Emitida por error"}, 201)
    # a second full cancellation drafted meanwhile cannot be issued after the first
    twin = billing.post(f"/billing/invoices/{iid}/rectify", {"reason": "Duplicada"}, 201)
    done = billing.issue(rect["invoice_id"])
    assert done["total"] == "-100.00" and done["outstanding"] == "0.00"
    r = api.post(f"/billing/invoices/{twin['invoice_id']}/issue", token=billing.token)
    assert r.status == 409 and r.json()["code"] == "INVOICE_CANCELLED"
    original = billing.get(f"/billing/invoices/{iid}")
    assert original["cancelled"] is True and original["outstanding"] == "-30.00"
    r = api.post(
        f"/billing/invoices/{iid}/payments", {"amount": "1", "method": "cash"}, token=billing.token
    )
    assert r.status == 409 and r.json()["code"] == "INVOICE_CANCELLED"
    r = api.post(
        f"/billing/invoices/{done['invoice_id']}/payments",
        {"amount": "1", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 409 and r.json()["code"] == "NOTHING_TO_COLLECT"
    bal = billing.get(f"/billing/patients/{pid}/balance")
    assert (bal["invoiced"], bal["paid"], bal["outstanding"]) == ("0.00", "30.00", "-30.00")
    billing.post(f"/billing/invoices/{iid}/refunds", {"amount": "30", "method": "cash"}, 201)
    bal = billing.get(f"/billing/patients/{pid}/balance")
    assert bal["outstanding"] == "0.00" and bal["open_invoices"] == []


def test_balance_after_substitution_and_after_a_reduction(billing, api):
    pid, inv = _issued(billing, "100.00")
    iid = inv["invoice_id"]
    t = billing.treatment("PAY", "100.00")
    # by substitution: the corrected invoice (80.00) replaces the original (100.00)
    s = billing.post(
        f"/billing/invoices/{iid}/rectify",
        {
            "reason": "Precio corregido",
            "mode": "S",
            "lines": [{"treatment_id": t, "unit_price": "80"}],
        },
        201,
    )
    s = billing.issue(s["invoice_id"])
    bal = billing.get(f"/billing/patients/{pid}/balance")
    assert (bal["invoiced"], bal["outstanding"]) == ("80.00", "80.00")
    assert [o["num_serie"] for o in bal["open_invoices"]] == [s["num_serie"]]
    r = api.post(
        f"/billing/invoices/{s['invoice_id']}/payments",
        {"amount": "80.01", "method": "card"},
        token=billing.token,
    )
    assert r.status == 400 and r.json()["data"]["outstanding"] == "80.00"
    billing.post(
        f"/billing/invoices/{s['invoice_id']}/payments", {"amount": "80", "method": "card"}, 201
    )
    assert billing.get(f"/billing/patients/{pid}/balance")["outstanding"] == "0.00"
    # once substituted, it cannot be substituted or cancelled whole again
    r = api.post(f"/billing/invoices/{iid}/rectify", {"reason": "Otra vez"}, token=billing.token)
    assert r.status == 409 and r.json()["code"] == "INVOICE_CANCELLED"

    # by differences: a 25.00 reduction on a 100.00 invoice leaves 75.00 to pay
    pid2, inv2 = _issued(billing, "100.00")
    red = billing.post(
        f"/billing/invoices/{inv2['invoice_id']}/rectify",
        {
            "reason": "Descuento concedido",
            "lines": [
                {"description": "Descuento", "unit_price": "-25", "vat_code": "EXENTO_SANITARIO"}
            ],
        },
        201,
    )
    red = billing.issue(red["invoice_id"])
    assert (red["total"], red["due"], red["outstanding"]) == ("-25.00", "0.00", "0.00")
    # the difference moves what the original asks: money flows against the original
    o2 = billing.get(f"/billing/invoices/{inv2['invoice_id']}")
    assert (o2["total"], o2["due"], o2["outstanding"]) == ("100.00", "75.00", "75.00")
    bal = billing.get(f"/billing/patients/{pid2}/balance")
    assert (bal["invoiced"], bal["outstanding"]) == ("75.00", "75.00")
    assert [o["num_serie"] for o in bal["open_invoices"]] == [inv2["num_serie"]]
    r = api.post(
        f"/billing/invoices/{red['invoice_id']}/payments",
        {"amount": "1", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 409 and r.json()["code"] == "NOTHING_TO_COLLECT"
    r = api.post(
        f"/billing/invoices/{inv2['invoice_id']}/payments",
        {"amount": "75.01", "method": "cash"},
        token=billing.token,
    )
    assert r.status == 400 and r.json()["data"]["outstanding"] == "75.00"
    p = billing.post(
        f"/billing/invoices/{inv2['invoice_id']}/payments", {"amount": "75", "method": "cash"}, 201
    )
    assert p["invoice"]["status"] == "paid"
    # a rectifying invoice by differences is corrected through its original
    r = api.post(
        f"/billing/invoices/{red['invoice_id']}/rectify", {"reason": "Otra"}, token=billing.token
    )
    assert r.status == 409 and inv2["num_serie"] in r.json()["message"]
    # a further reduction that brings it to zero cancels it; what was paid becomes a credit
    last = billing.post(
        f"/billing/invoices/{inv2['invoice_id']}/rectify",
        {
            "reason": "Tratamiento no realizado",
            "lines": [
                {"description": "Resto", "unit_price": "-75", "vat_code": "EXENTO_SANITARIO"}
            ],
        },
        201,
    )
    billing.issue(last["invoice_id"])
    o2 = billing.get(f"/billing/invoices/{inv2['invoice_id']}")
    assert o2["cancelled"] is True and (o2["due"], o2["outstanding"]) == ("0.00", "-75.00")
    assert billing.get(f"/billing/patients/{pid2}/balance")["outstanding"] == "-75.00"
    # a whole cancellation or a substitution after a partial one is refused: only differences
    _, inv3 = _issued(billing, "100.00")
    billing.issue(
        billing.post(
            f"/billing/invoices/{inv3['invoice_id']}/rectify",
            {"reason": "Descuento", "lines": [{"description": "Dto.", "unit_price": "-5"}]},
            201,
        )["invoice_id"]
    )
    for body in (
        {"reason": "Anular"},
        {"reason": "Sustituir", "mode": "S", "lines": [{"treatment_id": t}]},
    ):
        r = api.post(f"/billing/invoices/{inv3['invoice_id']}/rectify", body, token=billing.token)
        assert r.status == 409 and r.json()["code"] == "INVOICE_RECTIFIED", body
