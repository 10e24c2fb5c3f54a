from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

from pypdf import PdfReader

from tests.integration.conftest import admin_principal

PDF = {"Accept": "application/pdf"}


def _accepted_budget(b, pid):
    lines = [
        {
            "treatment_id": b.treatment("IMP", "1000.00", scope="tooth"),
            "tooth": 36,
            "quantity": "2",
        },
        {"treatment_id": b.treatment("BLQ", "300.00", vat="IVA21")},
        {"treatment_id": b.treatment("LIM", "60.00")},
    ]
    d = b.budget(pid, lines)
    b.post(f"/billing/budgets/{d['budget_id']}/send", {"valid_days": 10})
    ids = [d["lines"][0]["line_id"], d["lines"][1]["line_id"]]
    return b.post(
        f"/billing/budgets/{d['budget_id']}/accept", {"line_ids": ids, "signer_name": "Paciente"}
    )


def test_invoice_only_uninvoiced_accepted_quantities(billing, api):
    pid = billing.patient_with_nif()
    d = _accepted_budget(billing, pid)
    bid, (imp, _blq, lim) = d["budget_id"], [ln["line_id"] for ln in d["lines"]]
    r = api.post(
        "/billing/invoices",
        {"budget_id": bid, "budget_lines": [{"line_id": lim}]},
        token=billing.token,
    )
    assert r.status == 422  # not accepted
    inv1 = billing.post(
        "/billing/invoices",
        {"budget_id": bid, "budget_lines": [{"line_id": imp, "quantity": "1"}]},
        201,
    )
    assert inv1["total"] == "1000.00" and inv1["status"] == "draft" and inv1["number"] is None
    r = api.post(
        "/billing/invoices",
        {"budget_id": bid, "budget_lines": [{"line_id": imp, "quantity": "2"}]},
        token=billing.token,
    )
    assert r.status == 422 and "only 1 left" in r.body.decode()
    inv2 = billing.post("/billing/invoices", {"budget_id": bid}, 201)  # the rest
    assert [ln["quantity"] for ln in inv2["lines"]] == ["1", "1"]
    assert inv2["total"] == "1363.00"
    r = api.post("/billing/invoices", {"budget_id": bid}, token=billing.token)
    assert r.status == 409 and r.json()["code"] == "NOTHING_TO_INVOICE"
    # deleting a draft gives its quantities back
    assert api.delete(f"/billing/invoices/{inv1['invoice_id']}", token=billing.token).status == 204
    lines = billing.get(f"/billing/budgets/{bid}")["lines"]
    assert lines[0]["invoiced_quantity"] == "1"
    inv3 = billing.post("/billing/invoices", {"budget_id": bid}, 201)
    assert inv3["total"] == "1000.00"


def test_f1_f2_choice_and_mixed_breakdown_and_immutability(billing, api):
    limp = billing.treatment("LIM", "60.00")
    blq = billing.treatment("BLQ", "300.00", vat="IVA21")
    anon = billing.patient()
    small = billing.invoice(
        anon,
        [
            {"treatment_id": limp},
            {"treatment_id": blq, "discount": {"kind": "percent", "value": "50"}},
        ],
    )
    # 60 exempt + 150 + 31.50 VAT = 241.50 <= 400, no tax id -> F2
    issued = billing.issue(small["invoice_id"])
    assert issued["tipo_factura"] == "F2" and issued["total"] == "241.50"
    assert issued["num_serie"].startswith("F-") and issued["status"] == "issued"
    bd = {(x["classification"], x["rate"]): x for x in issued["breakdown"]}
    assert bd[("E1", "0.00")] == {
        "classification": "E1",
        "rate": "0.00",
        "base": "60.00",
        "vat": "0.00",
    }
    assert bd[("S1", "21.00")]["base"] == "150.00" and bd[("S1", "21.00")]["vat"] == "31.50"
    # above 400 without tax id -> refused (a full invoice needs it)
    big = billing.invoice(anon, [{"treatment_id": blq, "quantity": "2"}])
    r = api.post(f"/billing/invoices/{big['invoice_id']}/issue", token=billing.token)
    assert r.status == 422 and r.json()["code"] == "CUSTOMER_TAX_ID_REQUIRED"
    # an art. 4.2 operation (e.g. a retail sale): the limit is 3,000 -> F2
    billing.ok(
        api.patch(f"/billing/invoices/{big['invoice_id']}", {"art4_2": True}, token=billing.token)
    )
    assert billing.issue(big["invoice_id"])["tipo_factura"] == "F2"
    # a customer with a tax id always gets F1, even for small amounts
    nif = billing.patient_with_nif()
    f1 = billing.issue(billing.invoice(nif, [{"treatment_id": limp}])["invoice_id"])
    assert f1["tipo_factura"] == "F1" and f1["customer"]["tax_id_type"] == "NIF"
    tp = billing.invoice(
        anon, [{"treatment_id": limp}], third_party={"name": "Empresa S.L.", "tax_id": "A58818501"}
    )
    t = billing.issue(tp["invoice_id"])
    assert t["tipo_factura"] == "F1" and t["customer"]["name"] == "Empresa S.L."
    # issued: immutable
    for r in (
        api.patch(f"/billing/invoices/{f1['invoice_id']}", {"notes": "x"}, token=billing.token),
        api.delete(f"/billing/invoices/{f1['invoice_id']}", token=billing.token),
        api.post(f"/billing/invoices/{f1['invoice_id']}/issue", token=billing.token),
    ):
        assert r.status == 409 and r.json()["code"] == "INVOICE_IMMUTABLE"
    # numbers are consecutive in the series
    nums = sorted(int(x["number"]) for x in (issued, f1, t))
    assert nums == sorted(set(nums))


def test_customer_data_is_copied_at_issue(billing, api):
    pid = billing.patient_with_nif()
    inv = billing.invoice(pid, [{"treatment_id": billing.treatment("LIM", "60.00")}])
    assert inv["customer"] is None
    issued = billing.issue(inv["invoice_id"])
    name = issued["customer"]["name"]
    r = api.patch(f"/patients/{pid}", {"first_name": "Cambiado"}, token=billing.token)
    assert r.status == 200, r.body
    assert billing.get(f"/billing/invoices/{inv['invoice_id']}")["customer"]["name"] == name


def test_rectifying_cancel_and_substitution(billing, api):
    pid = billing.patient_with_nif()
    limp = billing.treatment("LIM", "60.00")
    blq = billing.treatment("BLQ", "300.00", vat="IVA21")
    orig = billing.issue(
        billing.invoice(pid, [{"treatment_id": limp}, {"treatment_id": blq}])["invoice_id"]
    )
    assert orig["total"] == "423.00"
    draft = api.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify", {"reason": "x"}, token=billing.token
    )
    assert draft.status == 422  # reason too short
    rect = billing.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {"reason": "Anulación por error", "code": "R1", "mode": "I"},
        201,
    )
    assert rect["series"] == "R" and rect["status"] == "draft" and rect["total"] == "-423.00"
    done = billing.issue(rect["invoice_id"])
    assert done["tipo_factura"] == "R1" and done["num_serie"].startswith("R-")
    assert done["rectifies"][0]["num_serie"] == orig["num_serie"]
    o = billing.get(f"/billing/invoices/{orig['invoice_id']}")
    assert o["cancelled"] is True and o["rectified_by"] == [rect["invoice_id"]]
    assert o["total"] == "423.00" and o["lines"] == orig["lines"]  # content untouched
    bal = billing.get(f"/billing/patients/{pid}/balance")
    assert bal["outstanding"] == "0.00"
    r = api.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {"reason": "otra vez"},
        token=billing.token,
    )
    assert r.status == 409
    # substitution of a simplified invoice -> R5
    anon = billing.patient()
    f2 = billing.issue(billing.invoice(anon, [{"treatment_id": limp}])["invoice_id"])
    s = billing.post(
        f"/billing/invoices/{f2['invoice_id']}/rectify",
        {
            "reason": "Precio corregido",
            "mode": "S",
            "lines": [{"treatment_id": limp, "unit_price": "50.00"}],
        },
        201,
    )
    s = billing.issue(s["invoice_id"])
    assert s["tipo_factura"] == "R5" and s["total"] == "50.00"


def test_gapless_numbering_under_concurrent_issue(billing, api, clinic):
    """Many issues at once (threads calling the service: Chalice's app object keeps the current
    request in one global, so the HTTP dispatcher is not used from threads) give consecutive
    numbers, no gap, no duplicate; a failed issue consumes no number."""
    from chalicelib.billing import invoices

    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    drafts = [billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"] for _ in range(20)]
    who = admin_principal(clinic)

    def issue(iid: str) -> int:
        return invoices.issue(who, iid).number

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(issue, drafts))
    assert sorted(numbers) == list(range(1, 21)), numbers
    listed = [i for i in billing.get("/billing/invoices?limit=200")["items"] if i["number"]]
    assert sorted(i["number"] for i in listed) == list(range(1, 21))
    assert len({i["num_serie"] for i in listed}) == 20
    nonum = billing.invoice(billing.patient(), [{"treatment_id": limp, "quantity": "10"}])
    assert (
        api.post(f"/billing/invoices/{nonum['invoice_id']}/issue", token=billing.token).status
        == 422
    )
    nxt = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    assert nxt["number"] == 21


def test_invoice_pdf_has_legal_fields_and_qr_area(billing, api):
    pid = billing.patient_with_nif()
    inv = billing.invoice(
        pid,
        [
            {"treatment_id": billing.treatment("LIM", "60.00"), "tooth": 11},
            {"treatment_id": billing.treatment("BLQ", "300.00", vat="IVA21")},
        ],
        operation_date="2026-01-02",
    )
    r = api.get(f"/billing/invoices/{inv['invoice_id']}/pdf", token=billing.token, headers=PDF)
    assert r.status == 200
    assert "BORRADOR" in PdfReader(io.BytesIO(r.body)).pages[0].extract_text()
    issued = billing.issue(inv["invoice_id"])
    r = api.get(f"/billing/invoices/{inv['invoice_id']}/pdf", token=billing.token, headers=PDF)
    text = PdfReader(io.BytesIO(r.body)).pages[0].extract_text()
    y, m, d = issued["issue_date"].split("-")
    for s in (
        "FACTURA",
        "Clínica Uno Dental, S.L.",
        "B12345674",
        issued["num_serie"],
        "Serie: F",
        f"{d}/{m}/{y}",
        "02/01/2026",
        issued["customer"]["name"],
        issued["customer"]["tax_id"],
        "Calle Mayor 1",
        "Tratamiento LIM",
        "Exento (E1)",
        "21%",
        "63,00 €",
        "423,00 €",
        "art. 20.Uno.5º",
        "QR tributario:",
        "VERI*FACTU",
    ):
        assert s in text, s
    from chalicelib.billing import common, invoices, pdf
    from chalicelib.verifactu.qr import qr_matrix

    url = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674&numserie=F-1&fecha=01-01-2026&importe=1.00"
    cid = clinic_id_of(billing)

    def rects(pdf: bytes) -> int:
        return PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().count(b" re")

    # every dark module of the code is drawn as one filled square, and nothing else changes
    dark = sum(sum(1 for cell in row if cell) for row in qr_matrix(url))
    item, clinic = invoices.load(cid, inv["invoice_id"]), common.clinic(cid)
    blank = pdf.invoice_pdf(item, clinic, qr_url=None)
    assert rects(pdf.invoice_pdf(item, clinic, qr_url=url)) == rects(blank) + dark
    # the issued invoice's own PDF carries its VERI*FACTU code
    assert rects(r.body) > rects(blank) + 100


def clinic_id_of(billing):
    return billing.get("/auth/me")["clinic"]["clinic_id"]


def test_invoice_validation_and_cross_tenant(billing, other_billing, api):
    pid = billing.patient()
    r = api.post(
        "/billing/invoices",
        {"patient_id": pid, "lines": [{"description": "x"}]},
        token=billing.token,
    )
    assert r.status == 422
    r = api.post(
        "/billing/invoices",
        {"patient_id": pid, "lines": [{"description": "Consulta", "unit_price": 10.5}]},
        token=billing.token,
    )
    assert r.status == 422
    inv = billing.invoice(
        pid, [{"description": "Consulta", "unit_price": "40", "vat_code": "EXENTO_SANITARIO"}]
    )
    for path in (f"/billing/invoices/{inv['invoice_id']}", f"/billing/patients/{pid}/balance"):
        assert api.get(path, token=other_billing.token).status == 404
    assert (
        api.post(f"/billing/invoices/{inv['invoice_id']}/issue", token=other_billing.token).status
        == 404
    )
    r = api.post(
        "/billing/invoices",
        {"patient_id": pid, "lines": [{"description": "Consulta", "unit_price": "40"}]},
        token=other_billing.token,
    )
    assert r.status == 404


def test_issuing_one_draft_from_many_threads_consumes_one_number(billing, clinic):
    from chalicelib.billing import invoices
    from chalicelib.core.errors import Conflict

    who = admin_principal(clinic)
    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    iid = billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"]

    def issue(_: int) -> str:
        try:
            return invoices.issue(who, iid).num_serie
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(issue, range(6)))
    winners = [o for o in outcomes if o.startswith("F-")]
    assert len(winners) == 1 and winners[0].endswith("-000001"), outcomes
    assert sorted(set(outcomes) - set(winners)) == ["INVOICE_IMMUTABLE"]
    nxt = billing.issue(billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"])
    assert nxt["number"] == 2


LEGAL = (
    "status",
    "series",
    "number",
    "num_serie",
    "issue_date",
    "issued_at",
    "tipo_factura",
    "issuer",
    "customer",
    "third_party",
    "description",
    "notes",
    "operation_date",
    "lines",
    "breakdown",
    "total_base",
    "total_vat",
    "total",
)


def test_an_issued_invoice_refuses_every_change(billing, api):
    pid = billing.patient_with_nif()
    limp = billing.treatment("LIM", "60.00")
    blq = billing.treatment("BLQ", "300.00", vat="IVA21")
    inv = billing.issue(
        billing.invoice(pid, [{"treatment_id": limp}, {"treatment_id": blq}], notes="Original")[
            "invoice_id"
        ]
    )
    iid = inv["invoice_id"]
    before = {k: inv[k] for k in LEGAL}
    for body in (
        {"notes": "cambiada"},
        {"description": "Otra descripción"},
        {"lines": [{"treatment_id": limp}]},
        {"third_party": {"name": "Empresa S.L.", "tax_id": "B12345674"}},
        {"clear_third_party": True},
        {"operation_date": "2026-01-01"},
        {"art4_2": True},
    ):
        r = api.patch(f"/billing/invoices/{iid}", body, token=billing.token)
        assert r.status == 409, (body, r.body)
        assert r.json()["code"] == "INVOICE_IMMUTABLE" and inv["num_serie"] in r.json()["message"]
    for r in (
        api.delete(f"/billing/invoices/{iid}", token=billing.token),
        api.post(f"/billing/invoices/{iid}/issue", token=billing.token),
    ):
        assert r.status == 409 and r.json()["code"] == "INVOICE_IMMUTABLE"
    # what may happen to an issued invoice changes none of its legal content
    billing.post(f"/billing/invoices/{iid}/payments", {"amount": "100", "method": "card"}, 201)
    billing.post(f"/billing/invoices/{iid}/refunds", {"amount": "10", "method": "card"}, 201)
    rect = billing.post(
        f"/billing/invoices/{iid}/rectify",
        {
            "reason": "Descuento posterior",
            "lines": [
                {"description": "Descuento", "unit_price": "-10", "vat_code": "EXENTO_SANITARIO"}
            ],
        },
        201,
    )
    billing.issue(rect["invoice_id"])
    after = billing.get(f"/billing/invoices/{iid}")
    assert {k: after[k] for k in LEGAL if k != "status"} == {
        k: v for k, v in before.items() if k != "status"
    }
    assert after["status"] == "partially_paid" and after["paid"] == "90.00"
    assert after["rectified_by"] == [rect["invoice_id"]] and after["cancelled"] is False
    # a draft rectifying invoice is not a way around it either: it is a new invoice
    assert rect["invoice_id"] != iid and rect["series"] == "R"


def test_simplified_and_rectifying_pdfs(billing, api):
    anon = billing.patient(first_name="Pablo", last_name="Sanz")
    limp = billing.treatment("LIM", "60.00")
    blq = billing.treatment("BLQ", "100.00", vat="IVA21")
    f2 = billing.issue(
        billing.invoice(anon, [{"treatment_id": limp}, {"treatment_id": blq}])["invoice_id"]
    )
    assert f2["tipo_factura"] == "F2" and f2["total"] == "181.00"
    r = api.get(f"/billing/invoices/{f2['invoice_id']}/pdf", token=billing.token, headers=PDF)
    text = PdfReader(io.BytesIO(r.body)).pages[0].extract_text()
    for s in ("FACTURA SIMPLIFICADA", f2["num_serie"], "B12345674", "IVA incluido.", "181,00 €"):
        assert s in text, s
    rect = billing.post(
        f"/billing/invoices/{f2['invoice_id']}/rectify",
        {"reason": "Tratamiento no realizado", "code": "R4"},
        201,
    )
    r = api.get(f"/billing/invoices/{rect['invoice_id']}/pdf", token=billing.token, headers=PDF)
    draft_text = PdfReader(io.BytesIO(r.body)).pages[0].extract_text()
    assert "FACTURA RECTIFICATIVA" in draft_text and "BORRADOR" in draft_text
    done = billing.issue(rect["invoice_id"])
    assert done["tipo_factura"] == "R5"
    r = api.get(f"/billing/invoices/{rect['invoice_id']}/pdf", token=billing.token, headers=PDF)
    text = PdfReader(io.BytesIO(r.body)).pages[0].extract_text()
    y, m, d = f2["issue_date"].split("-")
    for s in (
        "FACTURA RECTIFICATIVA (SIMPLIFICADA)",
        done["num_serie"],
        "Serie: R",
        f"Rectifica la factura: {f2['num_serie']} ({d}/{m}/{y})",
        "por diferencias",
        "Tratamiento no realizado",
        "-181,00 €",
    ):
        assert s in text, s
    assert "BORRADOR" not in text
