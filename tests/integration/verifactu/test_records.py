"""Records written in the issue transaction, one chain per issuer NIF, verification."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.integration.conftest import admin_principal
from tests.integration.verifactu.conftest import issue_one, raw_table, tamper


def test_issue_writes_the_alta_and_moves_the_chain_head(billing, api, clinic):
    first = issue_one(billing)
    second = issue_one(billing, iva=False)
    items = billing.get("/verifactu/records")["items"]
    assert [i["num_serie"] for i in items] == [second["num_serie"], first["num_serie"]]
    assert all(i["status"] == "pending" and i["kind"] == "alta" for i in items)
    detail = billing.get(f"/verifactu/records/{items[1]['record_id']}")
    rec = detail["record"]
    assert rec["Encadenamiento"] == {"PrimerRegistro": "S", "RegistroAnterior": None}
    assert rec["IDFactura"]["IDEmisorFactura"] == "B12345674"
    assert rec["TipoFactura"] == "F1" and rec["ImporteTotal"] == "423.00"
    assert rec["CuotaTotal"] == "63.00"
    assert {d.get("OperacionExenta") or d["CalificacionOperacion"] for d in rec["Desglose"]} == {
        "E1",
        "S1",
    }
    # FechaHoraHusoGenRegistro: Madrid offset, whole seconds.
    gen = rec["FechaHoraHusoGenRegistro"]
    assert gen[-6:] in ("+01:00", "+02:00") and len(gen) == 25
    assert "<sum1:Huella>" in detail["xml"] or "Huella>" in detail["xml"]
    nxt = billing.get(f"/verifactu/records/{items[0]['record_id']}")["record"]
    assert nxt["Encadenamiento"]["RegistroAnterior"]["Huella"] == rec["Huella"]
    assert nxt["Encadenamiento"]["RegistroAnterior"]["NumSerieFactura"] == first["num_serie"]
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] is True and v["chains"][0]["records"] == 2
    inv = billing.get(f"/verifactu/invoices/{first['invoice_id']}")
    assert inv["status"] == "pending"
    assert inv["qr_url"].startswith(
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674"
    )


def test_concurrent_issues_never_fork_or_skip_the_chain(billing, clinic):
    from chalicelib.billing import invoices

    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    drafts = [billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"] for _ in range(16)]
    who = admin_principal(clinic)
    with ThreadPoolExecutor(max_workers=8) as pool:
        nums = list(pool.map(lambda iid: invoices.issue(who, iid).num_serie, drafts))
    assert len(set(nums)) == 16
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] is True, v
    assert v["chains"][0]["records"] == 16
    items = billing.get("/verifactu/records?limit=200")["items"]
    assert sorted(i["seq"] for i in items) == list(range(1, 17))
    previous = {}
    for i in items:
        rec = billing.get(f"/verifactu/records/{i['record_id']}")["record"]
        prev = (rec["Encadenamiento"]["RegistroAnterior"] or {}).get("Huella", "")
        assert prev not in previous, "two records chained after the same one (fork)"
        previous[prev] = i["seq"]
    assert {i["num_serie"] for i in items} == set(nums)


def test_verify_reports_the_first_break(billing, clinic):
    from chalicelib.verifactu.models import RecordItem

    issue_one(billing)
    second = issue_one(billing)
    third = issue_one(billing)
    item = RecordItem.get(*RecordItem.key(clinic.clinic_id, "B12345674", 2))
    tampered = dict(item.record)
    tampered["ImporteTotal"] = "1.00"
    item.update(actions=[RecordItem.record.set(tampered)])
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] is False
    brk = v["chains"][0]["first_break"]
    assert brk["record"] == "B12345674-0000000002" and brk["problem"] == "huella"
    assert brk["num_serie"] == second["num_serie"]  # named as staff know it
    assert brk["expected"] != brk["found"] == item.huella
    assert third["num_serie"]


def test_verify_finds_a_record_edited_in_the_raw_table(billing, clinic):
    for _ in range(3):
        issue_one(billing)
    assert billing.get("/verifactu/chain/verify")["intact"] is True

    def cheaper(record, item):
        record["ImporteTotal"] = "42.00"

    tamper(clinic.clinic_id, 2, cheaper)
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] is False and v["chains"][0]["intact"] is False
    brk = v["chains"][0]["first_break"]
    assert brk["record"] == "B12345674-0000000002" and brk["position"] == 2
    assert brk["problem"] == "huella" and brk["field"] == "Huella"
    stored = billing.get("/verifactu/records?limit=10")["items"]
    assert brk["found"] == next(i["huella"] for i in stored if i["seq"] == 2)
    assert brk["expected"] != brk["found"] and len(brk["expected"]) == 64
    # the damaged record still shows, saying what is wrong instead of failing
    detail = billing.get("/verifactu/records/B12345674-0000000002")
    assert detail["xml"] is None and "not valid any more" in detail["problem"]
    assert detail["record"]["ImporteTotal"] == "42.00"


def test_verify_finds_a_recomputed_huella_by_the_broken_link_after_it(billing, clinic):
    from chalicelib.verifactu import huella_alta

    for _ in range(3):
        issue_one(billing)

    def rehash(record, item):
        # a forger who recomputes the record's own huella still breaks the next record's link
        record["ImporteTotal"] = "42.00"
        fields = {
            **record["IDFactura"],
            "TipoFactura": record["TipoFactura"],
            "CuotaTotal": record["CuotaTotal"],
            "ImporteTotal": record["ImporteTotal"],
            "Huella": record["Encadenamiento"]["RegistroAnterior"]["Huella"],
            "FechaHoraHusoGenRegistro": record["FechaHoraHusoGenRegistro"],
        }
        record["Huella"] = huella_alta(fields)
        item["huella"] = {"S": record["Huella"]}

    tamper(clinic.clinic_id, 2, rehash)
    brk = billing.get("/verifactu/chain/verify")["chains"][0]["first_break"]
    assert brk["record"] == "B12345674-0000000003" and brk["problem"] == "link"
    assert brk["field"] == "Encadenamiento/RegistroAnterior/Huella"


def test_verify_finds_a_deleted_record(billing, clinic):
    from chalicelib.verifactu.models import RecordItem

    for _ in range(3):
        issue_one(billing)
    client, table = raw_table()
    pk, sk = RecordItem.key(clinic.clinic_id, "B12345674", 3)
    client.delete_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}})
    brk = billing.get("/verifactu/chain/verify")["chains"][0]["first_break"]
    assert brk["problem"] == "head" and brk["position"] == 2


def test_records_cannot_be_edited_through_the_api(billing, api):
    issue_one(billing)
    rid = billing.get("/verifactu/records")["items"][0]["record_id"]
    for method in ("PUT", "PATCH", "DELETE"):
        r = api.request(method, f"/verifactu/records/{rid}", {}, token=billing.token)
        assert r.status in (404, 405), (method, r.status)
    assert billing.get("/verifactu/chain/verify")["intact"] is True


def test_stored_altas_and_anulaciones_validate_against_the_official_xsd(billing, clinic):
    from chalicelib.verifactu import service
    from chalicelib.verifactu.models import RecordItem
    from chalicelib.verifactu.records import PersonaFisicaJuridicaES
    from chalicelib.verifactu.xml import Cabecera, build_reg_factu, validate_reg_factu

    mixed = issue_one(billing)  # E1 (exempt) + S1 at 21%
    exempt = issue_one(billing, iva=False)
    billing.post(f"/verifactu/invoices/{exempt['invoice_id']}/annul", {"reason": "Duplicada"})
    items = list(
        RecordItem.query(f"C#{clinic.clinic_id}", RecordItem.SK.startswith("VFREC#B12345674#"))
    )
    models = [service.as_model(i) for i in items]
    assert [i.kind for i in items] == ["alta", "alta", "anulacion"]
    desglose = {
        (d.OperacionExenta or d.CalificacionOperacion, d.TipoImpositivo) for d in models[0].Desglose
    }
    assert desglose == {("E1", None), ("S1", "21.00")}
    assert models[0].CuotaTotal == "63.00" and models[1].CuotaTotal == "0.00"
    assert models[2].IDFactura.NumSerieFacturaAnulada == exempt["num_serie"]
    cabecera = Cabecera(
        ObligadoEmision=PersonaFisicaJuridicaES(NombreRazon="Clínica Uno Dental", NIF="B12345674")
    )
    for model in models:  # each alone, then all three chained in one submission
        validate_reg_factu(build_reg_factu(cabecera, [model]))
    validate_reg_factu(build_reg_factu(cabecera, models))
    assert mixed["num_serie"] == models[0].IDFactura.NumSerieFactura


def test_concurrent_issues_and_annulments_keep_one_chain(billing, clinic):
    from chalicelib.billing import invoices
    from chalicelib.verifactu import service
    from chalicelib.verifactu.contracts import AnnulIn

    limp = billing.treatment("LIM", "60.00")
    pid = billing.patient()
    issued = [issue_one(billing, iva=False, nif=False) for _ in range(4)]
    drafts = [billing.invoice(pid, [{"treatment_id": limp}])["invoice_id"] for _ in range(8)]
    who = admin_principal(clinic)

    def work(job):
        kind, iid = job
        if kind == "issue":
            return invoices.issue(who, iid).num_serie
        return service.annul(who, iid, AnnulIn(reason="Emitida por error")).num_serie

    jobs = [("issue", d) for d in drafts] + [("annul", i["invoice_id"]) for i in issued]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(work, jobs))
    v = billing.get("/verifactu/chain/verify")
    assert v["intact"] is True, v
    assert v["chains"][0]["records"] == 4 + 8 + 4
    items = billing.get("/verifactu/records?limit=200")["items"]
    assert sorted(i["seq"] for i in items) == list(range(1, 17))
    assert sum(i["kind"] == "anulacion" for i in items) == 4
    status = billing.get("/verifactu/settings")["chains"][0]
    assert status["records"] == 16 and status["pending"] == 16


def test_invoice_pdf_carries_the_records_qr_at_the_top_of_the_first_page(billing, api):
    import io
    import re

    from pypdf import PdfReader

    from chalicelib.verifactu.qr import qr_matrix

    inv = issue_one(billing)
    url = billing.get(f"/verifactu/invoices/{inv['invoice_id']}")["qr_url"]
    assert url == (
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674"
        f"&numserie={inv['num_serie']}&fecha={_ddmmyyyy(inv['issue_date'])}&importe=423.00"
    )
    r = api.get(
        f"/billing/invoices/{inv['invoice_id']}/pdf",
        token=billing.token,
        headers={"Accept": "application/pdf"},
    )
    assert r.status == 200
    page = PdfReader(io.BytesIO(r.body)).pages[0]
    stream = page.get_contents().get_data().decode("latin-1")
    number = r"(-?[\d.]+)"
    rects = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(rf"{number} {number} {number} {number} re", stream)
    ]
    matrix = qr_matrix(url)
    n = len(matrix)
    dark = {(row, col) for row in range(n) for col in range(n) if matrix[row][col]}
    cell = min(w for _, _, w, h in rects if w == h and w > 0)
    modules = [(x, y) for x, y, w, h in rects if abs(w - cell) < 1e-6 and abs(h - cell) < 1e-6]
    assert len(modules) == len(dark)
    # rebuild the module matrix from the drawn squares: it is exactly the URL's QR code
    left, top = min(x for x, _ in modules), max(y for _, y in modules)
    drawn = {(round((top - y) / cell), round((x - left) / cell)) for x, y in modules}
    offset = min(dark)
    first = min(drawn)
    assert {(r - first[0] + offset[0], c - first[1] + offset[1]) for r, c in drawn} == dark
    # the symbol (without its 4-module quiet zone) measures 30-40 mm (AEAT_QR section 2), the
    # quiet zone on top of it, near the top of the first page
    mm = 72 / 25.4
    size_mm = (n - 8) * cell / mm
    assert 30 - 0.01 <= size_mm <= 40  # reportlab writes coordinates rounded
    page_h = float(page.mediabox.height)
    assert page_h - (top + cell) < 40 * mm  # the code's top edge within 40 mm of the top
    # "QR tributario:" above it and "VERI*FACTU" below it
    where: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        if text.strip() in ("QR tributario:", "VERI*FACTU"):
            where[text.strip()] = tm[5]

    page.extract_text(visitor_text=visit)
    bottom = min(y for _, y in modules)
    assert where["QR tributario:"] > top + cell
    assert where["VERI*FACTU"] < bottom


def _ddmmyyyy(iso_date: str) -> str:
    y, m, d = iso_date.split("-")
    return f"{d}-{m}-{y}"


def test_annulling_a_rectifying_invoice_puts_its_original_back_in_force(billing, api):
    """A rectifying invoice issued by mistake is annulled like any other: the invoice it had
    cancelled or reduced asks again what it asked before, and can be rectified again."""
    # by substitution: the original was replaced
    orig = issue_one(billing, iva=False)
    limp = billing.treatment("LIM2", "60.00")
    sub = billing.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {"reason": "Precio corregido", "mode": "S", "lines": [{"treatment_id": limp}]},
        201,
    )
    sub = billing.issue(sub["invoice_id"])
    replaced = billing.get(f"/billing/invoices/{orig['invoice_id']}")
    assert replaced["cancelled"] is True and replaced["outstanding"] == "0.00"
    billing.post(f"/verifactu/invoices/{sub['invoice_id']}/annul", {"reason": "Emitida por error"})
    back = billing.get(f"/billing/invoices/{orig['invoice_id']}")
    assert back["cancelled"] is False and back["rectified_by"] is None
    assert back["outstanding"] == orig["total"]
    assert billing.get(f"/billing/invoices/{sub['invoice_id']}")["cancelled"] is True

    # by differences: the reduction no longer applies
    reduce = billing.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {
            "reason": "Descuento olvidado",
            "mode": "I",
            "lines": [{"treatment_id": limp, "unit_price": "-10.00"}],
        },
        201,
    )
    reduce = billing.issue(reduce["invoice_id"])
    assert billing.get(f"/billing/invoices/{orig['invoice_id']}")["outstanding"] == "50.00"
    billing.post(f"/verifactu/invoices/{reduce['invoice_id']}/annul", {"reason": "Duplicada"})
    back = billing.get(f"/billing/invoices/{orig['invoice_id']}")
    assert back["outstanding"] == orig["total"] and back["rectified_by"] is None
    # ...and it can be corrected again, which the dangling reference used to refuse
    again = api.post(
        f"/billing/invoices/{orig['invoice_id']}/rectify",
        {"reason": "Anulación por error", "code": "R1", "mode": "I"},
        token=billing.token,
    )
    assert again.status == 201, again.body
    trail = billing.get(f"/audit?entity_type=invoice&entity_id={sub['invoice_id']}")["items"]
    [annulled] = [e for e in trail if e["action"] == "verifactu.invoice.annulled"]
    assert annulled["changes"]["restored"]["after"] == [orig["num_serie"]]
    assert billing.get("/verifactu/chain/verify")["intact"] is True
