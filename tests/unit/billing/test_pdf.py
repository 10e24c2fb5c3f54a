"""Budget and invoice PDFs rendered from plain objects (no AWS), read back with pypdf."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from pypdf import PdfReader

from chalicelib.billing import pdf

ROOT = Path(__file__).resolve().parents[3]

CLINIC = SimpleNamespace(
    clinic_id="c1",
    name="Clínica Demo",
    country="ES",
    legal_name="Clínica Dental Demo S.L.",
    tax_id="B12345674",
    address={"line1": "Calle Mayor 12", "postal_code": "28013", "city": "Madrid"},
    branding={"color": "#0f766e"},
)


def _line(code, desc, qty, unit, base, cls, rate, vat, total, tooth=None, discount="0.00"):
    return {
        "code": code,
        "description": desc,
        "tooth": tooth,
        "quantity": qty,
        "unit_price": unit,
        "discount": discount,
        "base": base,
        "classification": cls,
        "vat_rate": rate,
        "vat": vat,
        "total": total,
    }


def _invoice(**over):
    inv = {
        "status": "issued",
        "kind": "ordinary",
        "series": "F",
        "number": 7,
        "num_serie": "F-2026-000007",
        "issue_date": "2026-03-09",
        "operation_date": "2026-03-02",
        "tipo_factura": "F1",
        "issuer": {
            "name": "Clínica Demo",
            "legal_name": "Clínica Dental Demo S.L.",
            "tax_id": "B12345674",
            "address": CLINIC.address,
        },
        "customer": {
            "name": "María García López",
            "tax_id": "12345678Z",
            "tax_id_type": "NIF",
            "address": {"line1": "Calle Alcalá 5", "postal_code": "28014", "city": "Madrid"},
        },
        "rectifies": None,
        "rectified_by": None,
        "cancelled": False,
        "description": "Servicios odontológicos",
        "notes": None,
        "lines": [
            _line(
                "END",
                "Endodoncia molar",
                "1",
                "180.00",
                "160.00",
                "E1",
                "0.00",
                "0.00",
                "160.00",
                tooth=46,
                discount="20.00",
            ),
            _line(
                "BLQ", "Blanqueamiento", "1", "300.00", "300.00", "S1", "21.00", "63.00", "363.00"
            ),
            _line("KIT", "Kit de higiene", "1", "12.25", "12.25", "S1", "10.00", "1.23", "13.48"),
        ],
        "breakdown": [
            {"classification": "E1", "rate": "0.00", "base": "160.00", "vat": "0.00"},
            {"classification": "S1", "rate": "10.00", "base": "12.25", "vat": "1.23"},
            {"classification": "S1", "rate": "21.00", "base": "300.00", "vat": "63.00"},
        ],
        "total_base_cents": 47225,
        "total_vat_cents": 6423,
        "total_cents": 53648,
    }
    inv.update(over)
    return SimpleNamespace(**inv)


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_reportlab_imports_in_a_fresh_interpreter():
    """The first PDF of a process must render whatever was imported before (a Pillow-blocking
    import hook once broke reportlab 4, which imports Pillow unconditionally)."""
    code = (
        "from types import SimpleNamespace as N\n"
        "from chalicelib.billing import pdf\n"
        "c = N(name='C', legal_name=None, tax_id='B12345674', address=None, branding=None)\n"
        "print(len(pdf._Doc('t', c).build([pdf.platypus.Paragraph('x')], "
        "lambda *a: None, lambda *a: None)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 500


def test_full_invoice_has_every_legally_required_field():
    text = _text(pdf.invoice_pdf(_invoice(), CLINIC))
    for s in (
        "FACTURA",  # RD 1619/2012 art. 6
        "Número: 7",  # 6.1.a number and series
        "Serie: F",
        "F-2026-000007",
        "Fecha de expedición: 09/03/2026",  # 6.1.b
        "Fecha de la operación: 02/03/2026",  # 6.1.i
        "Clínica Dental Demo S.L.",  # 6.1.c issuer
        "NIF: B12345674",  # 6.1.d
        "Calle Mayor 12",  # 6.1.e
        "María García López",  # 6.1.c customer
        "12345678Z",  # 6.1.d
        "Endodoncia molar",  # 6.1.f
        "46",
        "180,00 €",
        "20,00 €",  # discount
        "Exento (E1)",  # 6.1.g rates
        "21%",
        "10%",
        "63,00 €",  # 6.1.h
        "1,23 €",
        "472,25 €",  # base
        "64,23 €",  # VAT
        "536,48 €",  # total
        "art. 20.Uno.5º de la Ley 37/1992",  # 6.1.j exemption reference
        "QR tributario:",
        "VERI*FACTU",
    ):
        assert s in text, s
    assert "BORRADOR" not in text and "IVA incluido" not in text


def test_rendering_is_deterministic_and_the_qr_goes_in_the_reserved_square():
    inv = _invoice()
    blank = pdf.invoice_pdf(inv, CLINIC)
    assert blank == pdf.invoice_pdf(inv, CLINIC)
    url = (
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674"
        "&numserie=F-2026-000007&fecha=09-03-2026&importe=536.48"
    )
    with_qr = pdf.invoice_pdf(inv, CLINIC, qr_url=url)
    assert with_qr != blank and _text(with_qr) == _text(blank)
    squares = _filled_rects(with_qr) - _filled_rects(blank)
    from chalicelib.verifactu.qr import qr_matrix

    assert len(squares) == sum(sum(1 for dark in row if dark) for row in qr_matrix(url))
    # ... all inside the reserved 40 mm box, top right, below "QR tributario:"
    mm = 72 / 25.4
    page = PdfReader(io.BytesIO(with_qr)).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    box_x, box_y = width - (16 + 40) * mm, height - (14 + 2 + 40) * mm
    for x, y, w, h in squares:
        assert box_x - 0.01 <= x and x + w <= box_x + 40 * mm + 0.01
        assert box_y - 0.01 <= y and y + h <= box_y + 40 * mm + 0.01


_RECT = re.compile(r"^n ([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re f\*$")


def _filled_rects(data: bytes) -> set[tuple[float, ...]]:
    ops = PdfReader(io.BytesIO(data)).pages[0].get_contents().get_data().decode("latin-1")
    return {tuple(float(v) for v in m.groups()) for m in map(_RECT.match, ops.split("\n")) if m}


def test_draft_and_simplified_invoices_say_so():
    draft = _text(
        pdf.invoice_pdf(_invoice(status="draft", num_serie=None, number=None, issuer=None), CLINIC)
    )
    assert "BORRADOR (sin validez)" in draft and "NIF: B12345674" in draft
    f2 = _text(pdf.invoice_pdf(_invoice(tipo_factura="F2", customer=None), CLINIC))
    assert "FACTURA SIMPLIFICADA" in f2 and "IVA incluido." in f2


def test_the_verifactu_area_is_only_on_spanish_invoices():
    assert "QR tributario:" in _text(pdf.invoice_pdf(_invoice(), CLINIC))
    abroad = SimpleNamespace(**{**vars(CLINIC), "country": "PT"})
    text = _text(pdf.invoice_pdf(_invoice(), abroad))
    assert "QR tributario:" not in text and "VERI*FACTU" not in text


def test_budget_pdf_in_the_patients_language():
    b = SimpleNamespace(
        language="en",
        number="PRES-2026-0004",
        revision=2,
        created_at=datetime(2026, 3, 9, 10, tzinfo=UTC),
        valid_until="2026-04-08",
        title="Rehabilitación",
        notes=None,
        lines=[
            {
                "code": "OBT",
                "description": "Composite filling",
                "tooth": 36,
                "surfaces": ["O", "D"],
                "quantity": "1",
                "unit_price": "45.00",
                "line_discount": "4.50",
                "global_discount": "0.00",
                "base": "40.50",
                "classification": "E1",
                "vat_rate": "0.00",
                "total": "40.50",
            }
        ],
        totals={"base": "40.50", "vat": "0.00", "total": "40.50", "global_discount": "0.00"},
        breakdown=[{"classification": "E1", "rate": "0.00", "base": "40.50", "vat": "0.00"}],
    )
    text = _text(pdf.budget_pdf(b, CLINIC, "Ann Smith"))
    for s in (
        "TREATMENT ESTIMATE PRES-2026-0004",
        "version 2",
        "Valid until: 2026-04-08",
        "Ann Smith",
        "Composite filling",
        "OD",
        "€45.00",
        "€4.50",
        "Exempt (E1)",
        "€40.50",
        "Signature of the patient or representative",
        "Clínica Demo",
    ):
        assert s in text, s


QR_URL = (
    "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674"
    "&numserie=F-2026-000007&fecha=09-03-2026&importe=536.48"
)


def test_the_qr_symbol_measures_30_to_40_mm_with_its_quiet_zone_on_top():
    """AEAT "Detalle de las especificaciones técnicas del código QR de la factura" v0.5.0
    (/work/shared/reference/aeat-verifactu/), section 2: the symbol 30x30 to 40x40 mm;
    section 3: a quiet zone of at least 2 mm around it. Measured on the drawn PDF: the dark
    modules' extent is the symbol (its finder patterns reach its edges). It used to be 25.4 mm
    because the 30 mm counted the quiet zone."""
    from chalicelib.verifactu.qr import qr_matrix

    squares = _filled_rects(pdf.invoice_pdf(_invoice(), CLINIC, qr_url=QR_URL)) - _filled_rects(
        pdf.invoice_pdf(_invoice(), CLINIC)
    )
    mm = 72 / 25.4
    left = min(x for x, _, _, _ in squares)
    right = max(x + w for x, _, w, _ in squares)
    bottom = min(y for _, y, _, _ in squares)
    top = max(y + h for _, y, _, h in squares)
    width_mm, height_mm = (right - left) / mm, (top - bottom) / mm
    assert 30 - 0.02 <= width_mm <= 40 and 30 - 0.02 <= height_mm <= 40, (width_mm, height_mm)
    # the quiet zone (4 modules, blank) is on top of that and at least 2 mm
    n = len(qr_matrix(QR_URL))
    module_mm = width_mm / (n - 8)
    assert 4 * module_mm >= 2
    # ... and nothing else is drawn in it: the reserved square is blank around the symbol
    page = PdfReader(io.BytesIO(pdf.invoice_pdf(_invoice(), CLINIC, qr_url=QR_URL))).pages[0]
    width = float(page.mediabox.width)
    box_x = width - (16 + 40) * mm
    assert left - box_x >= 2 * mm and (box_x + 40 * mm) - right >= 2 * mm


def test_an_annulled_invoice_says_anulada_and_has_no_qr():
    annulled = _invoice(cancelled=True)
    data = pdf.invoice_pdf(annulled, CLINIC, qr_url=QR_URL)
    text = _text(data)
    assert "ANULADA" in text and "no tiene validez" in text
    assert "QR tributario:" not in text
    # not a single QR module drawn, although a URL was given
    assert _filled_rects(data) == _filled_rects(pdf.invoice_pdf(annulled, CLINIC))
    valid = pdf.invoice_pdf(_invoice(), CLINIC, qr_url=QR_URL)
    assert len(_filled_rects(valid)) > len(_filled_rects(data)) + 100
    # one cancelled by a rectifying invoice is a valid invoice, rectified: no watermark
    rectified = _text(pdf.invoice_pdf(_invoice(cancelled=True, rectified_by=["x"]), CLINIC))
    assert "ANULADA" not in rectified and "QR tributario:" in rectified


def test_a_rectifying_invoice_of_a_simplified_one_prints_r5():
    r5 = _invoice(
        kind="rectifying",
        series="R",
        tipo_factura="R5",
        customer=None,
        rectification_code="R1",  # what an older draft stored
        rectification_mode="I",
        rectification_reason="Precio equivocado",
        rectifies=[{"invoice_id": "x", "num_serie": "F-2026-000003", "issue_date": "2026-03-01"}],
    )
    text = _text(pdf.invoice_pdf(r5, CLINIC))
    assert "por diferencias (R5)" in text and "(R1)" not in text
