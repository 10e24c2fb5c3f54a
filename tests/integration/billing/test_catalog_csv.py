"""The catalog's CSV (issue 13): an import changes only the columns the file has and its dry run
shows each row's field-level changes; the export is safe and Spanish-Excel friendly and imports
back unchanged; a VAT type a VERI*FACTU record cannot carry is refused where it is entered."""

from __future__ import annotations

import csv
import io

import pytest

FULL = (
    "code;name_es;name_en;category;price;cost;duration_min;scope;vat_code;active\n"
    "BLAN;Blanqueamiento;Whitening;Estética > Blanqueamiento;350,00;60;60;mouth;IVA21;1\n"
    "REV;Revisión;Check-up;Diagnóstico;30.00;5;20;boca;EXENTO_SANITARIO;1\n"
)


def _imp(b, text: str, dry_run: bool, lang: str = "en", status: int = 200):
    r = b.api.post(
        "/billing/treatments/import",
        {"csv": text, "dry_run": dry_run},
        token=b.token,
        headers={"Accept-Language": lang},
    )
    assert r.status == status, r.body
    return r.json()


def _by_code(b) -> dict[str, dict]:
    return {t["code"]: t for t in b.get("/billing/treatments")["items"]}


def test_price_only_file_changes_prices_and_nothing_else(billing):
    _imp(billing, FULL, dry_run=False)
    before = _by_code(billing)
    price_only = "code;price\nBLAN;375,50\nREV;30\n"
    d = _imp(billing, price_only, dry_run=True)["data"]
    assert (d["created"], d["updated"], d["unchanged"], d["errors"]) == (0, 1, 1, [])
    rows = {r["code"]: r for r in d["report"]}
    assert rows["BLAN"]["action"] == "updated" and rows["BLAN"]["row"] == 2
    assert rows["BLAN"]["changes"] == [{"field": "price", "before": "350.00", "after": "375.50"}]
    assert rows["REV"] == {
        "row": 3,
        "code": "REV",
        "action": "unchanged",
        "changes": [],
        "errors": [],
    }
    assert _by_code(billing) == before  # the dry run wrote nothing
    d = _imp(billing, price_only, dry_run=False)["data"]
    assert (d["created"], d["updated"]) == (0, 1)
    after = _by_code(billing)["BLAN"]
    assert after["price"] == "375.50"
    # The defect: the 21 % treatment became exempt and lost its category and names.
    for field in ("vat_code", "category", "name_es", "name_en", "cost", "duration_min", "scope"):
        assert after[field] == before["BLAN"][field], field


def test_blank_cells_clear_only_optional_fields(billing):
    _imp(billing, FULL, dry_run=False)
    d = _imp(billing, "code;name_es;name_en;cost;vat_code\nBLAN;;;;\n", dry_run=True)["data"]
    (row,) = d["report"]
    assert {c["field"]: (c["before"], c["after"]) for c in row["changes"]} == {
        "name_en": ("Whitening", None),
        "cost": ("60.00", None),
    }


def test_new_code_needs_name_and_price_and_dry_run_lists_its_fields(billing):
    d = _imp(billing, "code;price\nNUEVO;10\n", dry_run=True, lang="es")["data"]
    (row,) = d["report"]
    assert row["action"] == "error" and row["errors"][0]["field"] == "name_es"
    assert "tratamiento nuevo" in row["errors"][0]["message"]
    d = _imp(billing, "code;name_es;price;vat_code\nNUEVO;Férula;10;iva21\n", dry_run=True)["data"]
    (row,) = d["report"]
    assert row["action"] == "created"
    changes = {c["field"]: (c["before"], c["after"]) for c in row["changes"]}
    assert changes["price"] == (None, "10.00") and changes["vat_code"] == (None, "IVA21")
    assert changes["name_es"] == (None, "Férula") and "name_en" not in changes


def test_errors_are_per_row_in_the_callers_language_and_block_the_import(billing):
    bad = "code;price;active\nX1;abc;1\nX2;5;quizás\n"
    d = _imp(billing, bad, dry_run=True, lang="es")["data"]
    rows = {r["row"]: r for r in d["report"]}
    assert rows[2]["action"] == rows[3]["action"] == "error"
    assert any(e["field"] == "active" and e["message"] == "usa 1 o 0" for e in rows[3]["errors"])
    body = _imp(billing, bad, dry_run=False, status=422)
    assert body["code"] == "CSV_ROW_ERRORS"
    assert _by_code(billing) == {}
    d = _imp(billing, "price;name_es\n1;Aa\n", dry_run=True)["data"]
    assert d["report"] == [] and "code" in d["errors"][0]["message"]


def test_export_neutralises_formulas_has_bom_and_decimal_commas(billing, api):
    nasty = {
        '=HYPERLINK("http://x")': "EQ",
        "+34 600": "PLUS",
        "-2 caries": "MINUS",
        "@SUM(A1)": "AT",
    }
    for name, code in nasty.items():
        billing.post(
            "/billing/treatments",
            {"code": code, "name_es": name, "price": "1234.5", "category": ["-Cat", "Sub"]},
            201,
        )
    billing.post("/billing/treatments", {"code": "-LEAD", "name_es": "Guión", "price": "1"}, 201)
    r = api.get("/billing/treatments/export", token=billing.token)
    assert r.status == 200
    assert r.body.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs to read accents
    text = r.body.decode("utf-8").lstrip("\ufeff")
    by_code = {row[0]: row for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]}
    assert by_code["EQ"][1] == '\'=HYPERLINK("http://x")'
    assert by_code["PLUS"][1] == "'+34 600" and by_code["MINUS"][1] == "'-2 caries"
    assert by_code["AT"][1] == "'@SUM(A1)" and by_code["AT"][3] == "'-Cat > Sub"
    assert by_code["AT"][4] == "1234,50"  # decimal comma
    assert "'-LEAD" in by_code
    for cells in by_code.values():
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_imports_back_unchanged(billing, api):
    billing.post(
        "/billing/treatments",
        {
            "code": "-LEAD",
            "name_es": '=1+1 no es fórmula; con "comillas"',
            "name_en": "@home",
            "category": ["+Cat", "Sub"],
            "price": "1234.56",
            "cost": "0.5",
            "duration_min": 45,
            "scope": "tooth",
            "vat_code": "IVA10",
        },
        201,
    )
    _imp(billing, FULL, dry_run=False)
    before = _by_code(billing)
    exported = api.get("/billing/treatments/export", token=billing.token).body.decode("utf-8")
    d = _imp(billing, exported, dry_run=True)["data"]
    assert d["errors"] == []
    assert {r["action"] for r in d["report"]} == {"unchanged"}, d["report"]
    assert (d["rows"], d["unchanged"]) == (3, 3)
    _imp(billing, exported, dry_run=False)
    assert _by_code(billing) == before


@pytest.mark.parametrize(
    ("rate", "classification"),
    [("5", "S1"), ("12.5", "S1"), ("0", "S1"), ("21", "E1"), ("10", "N1")],
)
def test_vat_type_the_record_cannot_carry_is_refused_with_what_is_allowed(
    billing, api, rate, classification
):
    r = api.post(
        "/billing/vat-types",
        {
            "code": "RARO",
            "name_es": "Raro",
            "name_en": "Odd",
            "rate": rate,
            "classification": classification,
        },
        token=billing.token,
        headers={"Accept-Language": "es"},
    )
    assert r.status == 422, r.body
    (err,) = r.json()["errors"]
    assert err["field"] == "rate"
    assert "4 %, 10 % o 21 %" in err["message"] and "E1" in err["message"]
    assert "validation error" not in r.body.decode().lower()
    assert "RARO" not in {v["code"] for v in billing.get("/billing/vat-types")}


def _legacy_vat(clinic_id: str, code: str = "IVA5", active: bool = True) -> None:
    """A VAT type stored before the check existed (what the defect left in clinics' data)."""
    from chalicelib.billing.models import VatType
    from chalicelib.core.ids import now

    VatType(
        *VatType.key(clinic_id, code),
        code=code,
        name_es="IVA 5 %",
        name_en="VAT 5 %",
        rate="5.00",
        classification="S1",
        active=active,
        updated_at=now(),
    ).save()


def test_stored_vat_type_the_record_cannot_carry_is_refused_for_treatments(billing, api, clinic):
    billing.get("/billing/vat-types")  # the defaults first
    _legacy_vat(clinic.clinic_id)
    r = api.post(
        "/billing/treatments",
        {"code": "T5", "name_es": "Con IVA 5", "price": "10", "vat_code": "IVA5"},
        token=billing.token,
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "vat_code"
    assert "VERI*FACTU" in r.json()["errors"][0]["message"]
    tid = billing.treatment("OK", "10.00")
    r = api.patch(f"/billing/treatments/{tid}", {"vat_code": "IVA5"}, token=billing.token)
    assert r.status == 422 and "21 %" in r.json()["errors"][0]["message"]
    d = _imp(billing, "code;vat_code\nOK;IVA5\n", dry_run=True)["data"]
    assert d["report"][0]["action"] == "error"
    assert d["report"][0]["errors"][0]["field"] == "vat_code"
    # ... and it cannot be reactivated once deactivated.
    assert (
        billing.ok(api.patch("/billing/vat-types/IVA5", {"active": False}, token=billing.token))[
            "active"
        ]
        is False
    )
    r = api.patch("/billing/vat-types/IVA5", {"active": True}, token=billing.token)
    assert r.status == 422 and r.json()["errors"][0]["field"] == "active"


def test_deactivated_vat_type_is_refused_for_a_treatment(billing, api):
    billing.post(
        "/billing/vat-types",
        {
            "code": "IVA10B",
            "name_es": "Diez",
            "name_en": "Ten",
            "rate": "10",
            "classification": "S1",
        },
        201,
    )
    api.patch("/billing/vat-types/IVA10B", {"active": False}, token=billing.token)
    r = api.post(
        "/billing/treatments",
        {"code": "T10", "name_es": "Diez", "price": "10", "vat_code": "IVA10B"},
        token=billing.token,
    )
    assert r.status == 422 and "desactivado" not in r.json()["errors"][0]["message"]
    assert "deactivated" in r.json()["errors"][0]["message"]


def test_aeat_rates_agree_with_the_verifactu_rules():
    from datetime import date
    from decimal import Decimal

    from chalicelib.billing import rules
    from chalicelib.verifactu.rules import _tipos_iva_admitidos

    assert set(rules.AEAT_S1_RATES) | {Decimal(0)} == _tipos_iva_admitidos(date.today())
