"""The invoice book (libro registro de facturas expedidas) as CSV and the period's records as
XML (ADR 0206): exact amounts, Spanish headers, formula injection defused, valid XML, period
validation in both languages, permission and tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from lxml import etree

from tests.integration.verifactu.conftest import issue_one, later, run_job

NIF = "B12345674"
HEADER = [
    "Fecha expedición",
    "Fecha operación",
    "Serie-número",
    "Tipo factura",
    "Tipo ID destinatario",
    "País destinatario",
    "NIF/ID destinatario",
    "Nombre destinatario",
    "Impuesto",
    "Calificación/exención",
    "Base imponible",
    "Tipo (%)",
    "Cuota",
    "Total factura",
    "Estado VERI*FACTU",
    "Anulación",
    "Huella",
    "Registro",
]


def header(r, name: str) -> str | None:
    return {k.lower(): v for k, v in r.headers.items()}.get(name.lower())


def period(day: str, to: str | None = None, **extra: str) -> str:
    query = {"from": day, "to": to or day, **extra}
    return "&".join(f"{k}={v}" for k, v in query.items())


def book(b, query: str, status: int = 200, **kw):
    r = b.api.get(f"/verifactu/book/issued?{query}", token=b.token, **kw)
    assert r.status == status, r.body[:2000]
    return r


def rows_of(r) -> list[list[str]]:
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeff")  # BOM: spreadsheets read the accents right
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def fecha(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def c14n(element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def records(b) -> dict[str, dict]:
    """record_id -> record (huella, status, ...)."""
    return {i["record_id"]: i for i in b.get("/verifactu/records?limit=200")["items"]}


def test_the_book_lists_each_tax_line_with_exact_amounts_and_states(certified, stub, api):
    mixed = issue_one(certified)  # exempt 60.00 + 300.00 at 21 %
    exempt = issue_one(certified, iva=False)  # exempt 60.00
    run_job(later(0))  # both accepted by the AEAT
    certified.post(
        f"/verifactu/invoices/{exempt['invoice_id']}/annul", {"reason": "Emitida por error"}
    )
    rect = certified.post(
        f"/billing/invoices/{mixed['invoice_id']}/rectify",
        {"reason": "Devolución completa", "code": "R1", "mode": "I"},
        201,
    )
    rect = certified.issue(rect["invoice_id"])
    day = mixed["issue_date"]
    recs = records(certified)
    huella = {r["num_serie"]: r["huella"] for r in recs.values() if r["kind"] == "alta"}

    r = book(certified, period(day))
    assert header(r, "Content-Type") == "text/csv; charset=utf-8"
    disposition = header(r, "Content-Disposition")
    assert disposition.startswith("attachment;")
    assert f"libro-facturas-expedidas-{NIF}-{day}-{day}.csv" in disposition
    assert header(r, "Cache-Control") == "no-store" and header(r, "X-Next-Cursor") is None
    rows = rows_of(r)
    assert rows[0] == HEADER
    customer = mixed["customer"]
    who = ["NIF", "", customer["tax_id"], customer["name"]]
    f = fecha(day)
    by_number = {}
    for row in rows[1:]:
        by_number.setdefault(row[2], []).append(row)
    assert by_number[mixed["num_serie"]] == [
        [f, "", mixed["num_serie"], "F1", *who, "IVA", "E1", "60,00", "", "", "423,00",
         "Aceptado", "", huella[mixed["num_serie"]], f"{NIF}-0000000001"],
        [f, "", mixed["num_serie"], "F1", *who, "IVA", "S1", "300,00", "21,00", "63,00",
         "423,00", "Aceptado", "", huella[mixed["num_serie"]], f"{NIF}-0000000001"],
    ]  # fmt: skip
    ex_who = ["NIF", "", exempt["customer"]["tax_id"], exempt["customer"]["name"]]
    assert by_number[exempt["num_serie"]] == [
        [f, "", exempt["num_serie"], "F1", *ex_who, "IVA", "E1", "60,00", "", "", "60,00",
         "Aceptado", "Pendiente", huella[exempt["num_serie"]], f"{NIF}-0000000002"],
    ]  # fmt: skip
    # a rectifying invoice by differences: negative amounts stay numbers (no "'" prefix)
    assert [row[3:4] + row[8:14] for row in by_number[rect["num_serie"]]] == [
        ["R1", "IVA", "E1", "-60,00", "", "", "-423,00"],
        ["R1", "IVA", "S1", "-300,00", "21,00", "-63,00", "-423,00"],
    ]
    assert all(row[14] == "Pendiente" for row in by_number[rect["num_serie"]])
    assert len(rows) == 1 + 2 + 1 + 2

    # the export is audited
    audit = certified.get("/audit?entity_type=verifactu_book&limit=5")["items"]
    assert audit[0]["action"] == "verifactu.book.exported"
    assert audit[0]["changes"]["format"]["after"] == "csv"

    # another period: an empty book (just the header)
    other = (date.fromisoformat(day) - timedelta(days=40)).isoformat()
    assert rows_of(book(certified, period(other))) == [HEADER]


def test_text_cells_that_a_spreadsheet_would_run_are_defused(billing):
    names = {'=HYPERLINK("http://evil")': "'=", "@SUM(A1)": "'@", "+34 600": "'+", "-2+3": "'-"}
    issued = {}
    for first in names:
        pid = billing.patient(
            first_name=first, last_name="Pérez", national_id={"type": "dni", "number": _dni()}
        )
        line = [{"treatment_id": billing.treatment("LIM", "60.00")}]
        inv = billing.issue(billing.invoice(pid, line)["invoice_id"])
        issued[inv["num_serie"]] = (first, inv)
    day = next(iter(issued.values()))[1]["issue_date"]
    rows = rows_of(book(billing, period(day)))
    for row in rows[1:]:
        first, inv = issued[row[2]]
        assert row[7] == names[first][0] + inv["customer"]["name"], row[7]
        assert row[7].startswith(names[first])
    # the CSV quoting keeps separators and quotes inside a cell
    assert any('"' in row[7] for row in rows[1:])


def _dni() -> str:
    from tests.integration.patients.helpers import dni

    return dni()


def test_the_xml_export_is_the_records_as_sent_and_valid_against_the_xsd(certified, stub, clinic):
    from chalicelib.core import aws
    from chalicelib.core.config import settings
    from chalicelib.verifactu.models import RecordItem
    from chalicelib.verifactu.schemas import validate
    from chalicelib.verifactu.xml import NS_SF, NS_SFLR

    first = issue_one(certified)
    second = issue_one(certified, iva=False)
    run_job(later(0))
    certified.post(f"/verifactu/invoices/{second['invoice_id']}/annul", {"reason": "Por error"})
    day = first["issue_date"]

    r = certified.api.get(f"/verifactu/book/records?{period(day)}", token=certified.token)
    assert r.status == 200, r.body[:1000]
    assert header(r, "Content-Type") == "application/xml; charset=utf-8"
    assert f"registros-verifactu-{NIF}-{day}-{day}.xml" in header(r, "Content-Disposition")
    root = etree.fromstring(r.body)
    validate(root, "SuministroLR.xsd")
    assert root.tag == f"{{{NS_SFLR}}}RegFactuSistemaFacturacion"
    assert root.findtext(f".//{{{NS_SF}}}ObligadoEmision/{{{NS_SF}}}NIF") == NIF
    wrappers = root.findall(f"{{{NS_SFLR}}}RegistroFactura")
    kinds = [etree.QName(w[0]).localname for w in wrappers]
    assert kinds == ["RegistroAlta", "RegistroAlta", "RegistroAnulacion"]
    # the sent records are their archived copies, byte for byte
    s3 = aws.client("s3")
    for seq, wrapper in ((1, wrappers[0]), (2, wrappers[1])):
        item = RecordItem.get(*RecordItem.key(clinic.clinic_id, NIF, seq))
        copy = s3.get_object(Bucket=settings().archive_bucket, Key=item.archive_key)
        archived = etree.fromstring(copy["Body"].read())
        assert c14n(wrapper[0]) == c14n(archived)

    audit = certified.get("/audit?entity_type=verifactu_book&limit=5")["items"]
    assert audit[0]["changes"]["format"]["after"] == "xml"
    # nothing in the period: 404 in the envelope
    other = (date.fromisoformat(day) + timedelta(days=3)).isoformat()
    r = certified.api.get(f"/verifactu/book/records?{period(other)}", token=certified.token)
    assert r.status == 404 and r.json()["code"] == "VERIFACTU_NO_RECORDS"


def test_parts_never_split_an_invoice_and_the_cursor_names_the_next(billing, monkeypatch):
    from chalicelib.verifactu import books

    issued = [issue_one(billing) for _ in range(3)]  # two rows each
    day = issued[0]["issue_date"]
    monkeypatch.setattr(books, "PAGE_INVOICES", 2)
    r = book(billing, period(day))
    first = rows_of(r)
    assert [row[2] for row in first[1:]] == [issued[0]["num_serie"]] * 2 + [
        issued[1]["num_serie"]
    ] * 2
    cursor = header(r, "X-Next-Cursor")
    assert cursor and "-parte" in header(r, "Content-Disposition")
    r = book(billing, period(day, cursor=cursor))
    assert [row[2] for row in rows_of(r)[1:]] == [issued[2]["num_serie"]] * 2
    assert header(r, "X-Next-Cursor") is None

    monkeypatch.setattr(books, "MAX_REGISTROS_POR_ENVIO", 2)
    r = billing.api.get(f"/verifactu/book/records?{period(day)}", token=billing.token)
    assert len(etree.fromstring(r.body)) == 1 + 2  # Cabecera + two records
    nxt = header(r, "X-Next-Cursor")
    r = billing.api.get(f"/verifactu/book/records?{period(day, cursor=nxt)}", token=billing.token)
    assert len(etree.fromstring(r.body)) == 1 + 1 and header(r, "X-Next-Cursor") is None

    # a cursor of another period is refused, not followed
    other = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    r = book(billing, period(other, cursor=cursor), status=400)
    assert "cursor" in r.json()["message"]


@pytest.mark.parametrize(
    ("query", "en", "es"),
    [
        (
            "from=2026-03-01&to=2026-02-01",
            "'from' must not be after 'to'.",
            "'from' no puede ser posterior a 'to'.",
        ),
        ("from=2025-01-01&to=2026-01-02", "at most 366 days", "como mucho 366 días"),
        ("from=2026-02-30&to=2026-03-01", "Input should be a valid date", "Debe ser una fecha"),
        ("from=2026-01-01", "Field required", "Este campo es obligatorio"),
        ("from=01/02/2026&to=2026-03-01", "valid date", "Debe ser una fecha"),
    ],
)
def test_a_bad_period_is_a_clear_422_in_english_and_spanish(billing, query, en, es):
    for path in ("/verifactu/book/issued", "/verifactu/book/records"):
        r = billing.api.get(f"{path}?{query}", token=billing.token)
        assert r.status == 422, r.body
        assert en in r.json()["errors"][0]["message"]
        r = billing.api.get(
            f"{path}?{query}", token=billing.token, headers={"Accept-Language": "es"}
        )
        assert r.status == 422 and es in r.json()["errors"][0]["message"], r.body


def test_a_whole_leap_year_is_one_request(billing):
    assert rows_of(book(billing, "from=2028-01-01&to=2028-12-31")) == [HEADER]


def test_the_book_needs_its_permission(billing, api, hygienist, receptionist):
    inv = issue_one(billing)
    # the clinic's day, which after 23:00 UTC is already tomorrow in Madrid
    q = period(inv["issue_date"])
    for path in ("/verifactu/book/issued", "/verifactu/book/records"):
        r = api.get(f"{path}?{q}", token=hygienist["token"])
        assert r.status == 403
        assert r.json()["data"]["permission"] == "verifactu.books.export"
    # the receptionist (who keeps the invoices) downloads it by default
    r = api.get(f"/verifactu/book/issued?{q}", token=receptionist["token"])
    assert r.status == 200 and len(rows_of(r)) >= 2


def test_another_clinic_never_gets_this_clinics_book(billing, other_billing, api, other_clinic):
    inv = issue_one(billing)
    day = inv["issue_date"]
    # the other clinic (Spanish, with no records) asking by this clinic's NIF gets nothing
    rows = rows_of(book(other_billing, period(day, nif=NIF)))
    assert rows == [HEADER]
    assert rows_of(book(other_billing, period(day))) == [HEADER]
    r = api.get(f"/verifactu/book/records?{period(day, nif=NIF)}", token=other_clinic.admin_token)
    assert r.status == 404
    # nor follows a cursor of this clinic's book
    from chalicelib.verifactu import books

    issue_one(billing)
    books_page = books.PAGE_INVOICES
    try:
        books.PAGE_INVOICES = 1
        cursor = header(book(billing, period(day)), "X-Next-Cursor")
    finally:
        books.PAGE_INVOICES = books_page
    assert cursor
    r = book(other_billing, period(day, nif=NIF, cursor=cursor), status=400)
    assert r.json()["code"] == "BAD_REQUEST"


def test_two_issuer_nifs_need_one_chosen(billing, api, clinic):
    a = issue_one(billing)
    r = api.patch(
        "/clinics/current",
        {"tax_id": "A58818501", "legal_name": "Otra, S.L."},
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    b = issue_one(billing)
    day = a["issue_date"]
    r = book(billing, period(day), status=422)
    assert r.json()["code"] == "VERIFACTU_NIF_REQUIRED"
    assert r.json()["data"]["nifs"] == ["A58818501", NIF]
    only_b = rows_of(book(billing, period(day, nif="A58818501")))
    assert {row[2] for row in only_b[1:]} == {b["num_serie"]}
    only_a = rows_of(book(billing, period(day, nif=NIF)))
    assert {row[2] for row in only_a[1:]} == {a["num_serie"]}


def test_records_written_before_the_index_are_reindexed(billing, clinic):
    from chalicelib.verifactu import books
    from chalicelib.verifactu.models import BookEntry

    inv = issue_one(billing)
    day = inv["issue_date"]
    pk = f"C#{clinic.clinic_id}"
    for entry in BookEntry.query(pk, BookEntry.SK.startswith("VFBOOK#")):
        entry.delete()
    assert rows_of(book(billing, period(day))) == [HEADER]
    assert books.reindex(clinic.clinic_id, NIF) == 1
    assert books.reindex(clinic.clinic_id, NIF) == 0
    assert {row[2] for row in rows_of(book(billing, period(day)))[1:]} == {inv["num_serie"]}


def test_cell_helpers():
    from chalicelib.core.csvcells import text_cell
    from chalicelib.verifactu import books

    assert books._number("-1234.50") == "-1234,50" and books._number(None) == ""
    assert text_cell("-1") == "'-1" and text_cell("\tx") == "'\tx"
    assert text_cell("\nx") == "'\nx" and text_cell("=1+1") == "'=1+1"
    assert text_cell("Ana") == "Ana" and text_cell(None) == ""
    assert books._fecha("05-01-2026") == "05/01/2026"
