from __future__ import annotations


def test_vat_defaults_have_aeat_classification(billing):
    vats = {v["code"]: v for v in billing.get("/billing/vat-types")}
    assert vats["EXENTO_SANITARIO"]["classification"] == "E1"
    assert vats["EXENTO_SANITARIO"]["exempt"] is True and vats["EXENTO_SANITARIO"]["rate"] == "0.00"
    assert (vats["IVA21"]["rate"], vats["IVA21"]["classification"]) == ("21.00", "S1")
    assert vats["IVA10"]["rate"] == "10.00" and vats["IVA4"]["rate"] == "4.00"


def test_custom_vat_type_rules(billing, api):
    r = api.post(
        "/billing/vat-types",
        {"code": "BAD", "name_es": "Malo", "name_en": "Bad", "rate": "21", "classification": "E1"},
        token=billing.token,
    )
    assert r.status == 422
    d = billing.post(
        "/billing/vat-types",
        {
            "code": "NOSUJETO",
            "name_es": "No sujeto",
            "name_en": "Not subject",
            "rate": "0",
            "classification": "N1",
        },
        201,
    )
    assert d["classification"] == "N1"


def test_treatment_crud_and_unique_code(billing, api):
    tid = billing.treatment("OBT1", "55.50", scope="surface")
    d = billing.get(f"/billing/treatments/{tid}")
    assert d["price"] == "55.50" and d["scope"] == "surface"
    r = api.post(
        "/billing/treatments",
        {"code": "obt1", "name_es": "Otra", "price": "1"},
        token=billing.token,
    )
    assert r.status == 409
    r = api.post(
        "/billing/treatments",
        {"code": "F1", "name_es": "Float", "price": 12.5},
        token=billing.token,
    )
    assert r.status == 422
    r = api.patch(
        f"/billing/treatments/{tid}", {"price": "60", "vat_code": "IVA21"}, token=billing.token
    )
    assert r.status == 200 and r.json()["data"]["price"] == "60.00"
    r = api.patch(f"/billing/treatments/{tid}", {"vat_code": "NOPE"}, token=billing.token)
    assert r.status == 422


CSV = """code;name_es;name_en;category;price;cost;duration_min;scope;vat_code;active
REV;Revisión;Check-up;Diagnóstico;30,00;5;20;boca;EXENTO_SANITARIO;1
BLAN;Blanqueamiento;Whitening;Estética > Blanqueamiento;350.00;60;60;mouth;IVA21;1
BAD1;X;;;-3;;;mouth;;1
BAD2;Corona;;;abc;;;diente;NOPE;1
REV;Duplicado;;;10;;;mouth;;1
"""


def test_csv_import_dry_run_reports_row_errors_and_writes_nothing(billing, api):
    d = billing.post("/billing/treatments/import", {"csv": CSV, "dry_run": True})
    assert d["dry_run"] is True
    rows_with_errors = {e["row"] for e in d["errors"]}
    assert rows_with_errors == {4, 5, 6}
    assert any(e["row"] == 5 and e["field"] == "price" for e in d["errors"])
    assert any(e["row"] == 6 and "repeats row 2" in e["message"] for e in d["errors"])
    assert d["created"] == 2
    assert billing.get("/billing/treatments")["items"] == []
    r = api.post("/billing/treatments/import", {"csv": CSV, "dry_run": False}, token=billing.token)
    assert r.status == 422 and r.json()["code"] == "CSV_ROW_ERRORS"
    assert billing.get("/billing/treatments")["items"] == []


def test_csv_import_then_export_round_trip(billing, api):
    good = "\n".join(CSV.splitlines()[:3]) + "\n"
    d = billing.post("/billing/treatments/import", {"csv": good, "dry_run": False})
    assert (d["created"], d["updated"], d["errors"]) == (2, 0, [])
    again = good.replace("350.00", "375.00")
    d = billing.post("/billing/treatments/import", {"csv": again, "dry_run": False})
    assert (d["created"], d["updated"], d["unchanged"]) == (0, 1, 1)  # REV did not change
    r = api.get("/billing/treatments/export", token=billing.token)
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeffcode;name_es;name_en;category;price")
    assert (
        "BLAN;Blanqueamiento;Whitening;Estética > Blanqueamiento;375,00;60,00;60;mouth;IVA21;1"
        in text
    )
    assert "REV;Revisión;Check-up;Diagnóstico;30,00;5,00;20;mouth;EXENTO_SANITARIO;1" in text
