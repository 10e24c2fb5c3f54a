"""Budget and invoice PDFs (reportlab, BSD; ADR 0504). The services import this module
lazily, so reportlab (and the Pillow it requires since 4.0; both ship in the API package's
dependencies) is loaded on the first PDF, not at the API's cold start.

Output is deterministic (``invariant=1``: no timestamp or random document id), so the same
budget always renders to the same bytes and the SHA-256 recorded at acceptance can be
re-checked later.

Invoice, first page, top right: the reserved VERI*FACTU area — "QR tributario:" above a
40 x 40 mm square and "VERI*FACTU" below (AEAT_QR section 3). ``invoice_pdf(qr_url=...)``
draws the code there from ``verifactu.qr.qr_matrix``; without a URL the square stays blank.
The symbol measures 30 mm, its quiet zone on top of that (AEAT "Detalle de las
especificaciones técnicas del código QR de la factura" v0.5.0, sections 2 and 3:
``/work/shared/reference/aeat-verifactu/``; see ``verifactu/qr.py``). An annulled invoice
(registro de anulación) prints "ANULADA" across every page and no QR: it must not look valid.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab import platypus
from reportlab.lib import colors, pagesizes, units
from reportlab.lib.styles import getSampleStyleSheet

from chalicelib.billing import money, rules

QR_BOX_MM = 40.0
EXEMPTION_TEXT = {
    "E1": "Operación exenta de IVA: art. 20.Uno.5º de la Ley 37/1992 (asistencia sanitaria)",
    "E2": "Operación exenta de IVA: art. 21 de la Ley 37/1992",
    "E3": "Operación exenta de IVA: art. 22 de la Ley 37/1992",
    "E4": "Operación exenta de IVA: arts. 23 y 24 de la Ley 37/1992",
    "E5": "Operación exenta de IVA: art. 25 de la Ley 37/1992",
    "E6": "Operación exenta de IVA (otros supuestos)",
}


T = {
    "es": {
        "budget": "PRESUPUESTO",
        "number": "Número",
        "revision": "versión",
        "date": "Fecha",
        "valid_until": "Válido hasta",
        "patient": "Paciente",
        "code": "Código",
        "treatment": "Tratamiento",
        "tooth": "Pieza",
        "surfaces": "Caras",
        "qty": "Cant.",
        "unit": "Precio",
        "discount": "Dto.",
        "base": "Base",
        "vat": "IVA",
        "total": "Total",
        "global_discount": "Descuento global",
        "subtotal": "Subtotal",
        "breakdown": "Desglose de impuestos",
        "exempt": "Exento",
        "notes": "Observaciones",
        "sign": "Firma del paciente o representante",
        "tax_id": "NIF",
        "st_accepted": "ACEPTADO el {when} por {who}",
        "st_partial": "Aceptados {n} de {m} tratamientos",
        "st_cancelled": "CANCELADO",
        "st_expired": "CADUCADO",
        "st_rejected": "RECHAZADO",
        "st_superseded": "SUSTITUIDO por una versión posterior",
        "accepted_line": "Aceptado",
        "not_accepted_line": "No aceptado",
        "accepted_total": "Total aceptado",
        "signed_by": "Firmado por {who} ({rel}) el {when}",
        "self": "el propio paciente",
        "channel_link": "Aceptado por el enlace enviado al paciente",
        "channel_staff": "Aceptado en la clínica",
        "seen_sha": "SHA-256 del presupuesto revisado",
    },
    "en": {
        "budget": "TREATMENT ESTIMATE",
        "number": "Number",
        "revision": "version",
        "date": "Date",
        "valid_until": "Valid until",
        "patient": "Patient",
        "code": "Code",
        "treatment": "Treatment",
        "tooth": "Tooth",
        "surfaces": "Surfaces",
        "qty": "Qty",
        "unit": "Price",
        "discount": "Disc.",
        "base": "Net",
        "vat": "VAT",
        "total": "Total",
        "global_discount": "Overall discount",
        "subtotal": "Subtotal",
        "breakdown": "Tax breakdown",
        "exempt": "Exempt",
        "notes": "Notes",
        "sign": "Signature of the patient or representative",
        "tax_id": "Tax id",
        "st_accepted": "ACCEPTED on {when} by {who}",
        "st_partial": "{n} of {m} treatments accepted",
        "st_cancelled": "CANCELLED",
        "st_expired": "EXPIRED",
        "st_rejected": "REJECTED",
        "st_superseded": "SUPERSEDED by a later version",
        "accepted_line": "Accepted",
        "not_accepted_line": "Not accepted",
        "accepted_total": "Accepted total",
        "signed_by": "Signed by {who} ({rel}) on {when}",
        "self": "the patient",
        "channel_link": "Accepted through the link sent to the patient",
        "channel_staff": "Accepted at the clinic",
        "seen_sha": "SHA-256 of the estimate reviewed",
    },
}


def _esc(text: Any) -> str:
    return (
        str(text if text is not None else "")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _address(addr: dict[str, Any] | None) -> str:
    if not addr:
        return ""
    parts = [addr.get("line1"), addr.get("line2")]
    city = " ".join(p for p in (addr.get("postal_code"), addr.get("city")) if p)
    parts += [city, addr.get("province") if addr.get("province") != addr.get("city") else None]
    return ", ".join(p for p in parts if p)


def _fdate(iso: str | None, lang: str = "es") -> str:
    if not iso:
        return ""
    d = date.fromisoformat(iso[:10])
    return d.strftime("%d/%m/%Y") if lang == "es" else d.isoformat()


def _colour(clinic: Any) -> str:
    c = (clinic.branding or {}).get("color") or "#0f766e"
    return c if len(c) == 7 and c.startswith("#") else "#0f766e"


def _rate_label(cls: str, rate: str, lang: str) -> str:
    if cls in rules.EXEMPT:
        return f"{T[lang]['exempt']} ({cls})"
    if cls in rules.NOT_SUBJECT:
        return f"No sujeto ({cls})"
    return f"{Decimal(rate).normalize():f}%"


class _Doc:
    def __init__(self, title: str, clinic: Any) -> None:
        styles = getSampleStyleSheet()
        self.mm = units.mm
        self.colors = colors
        self.P = platypus
        self.size = pagesizes.A4
        self.buf = io.BytesIO()
        self.brand = self.colors.HexColor(_colour(clinic))
        self.small = styles["Normal"].clone("small", fontName="Helvetica", fontSize=8, leading=10)
        self.normal = styles["Normal"].clone("n", fontName="Helvetica", fontSize=9, leading=12)
        self.h1 = styles["Heading1"].clone(
            "h1", fontName="Helvetica-Bold", fontSize=16, leading=20, textColor=self.brand
        )
        self.h2 = styles["Heading2"].clone(
            "h2", fontName="Helvetica-Bold", fontSize=10, leading=13, spaceBefore=6
        )
        self.doc = self.P.SimpleDocTemplate(
            self.buf,
            pagesize=self.size,
            leftMargin=16 * self.mm,
            rightMargin=16 * self.mm,
            topMargin=62 * self.mm,
            bottomMargin=18 * self.mm,
            title=title,
            author=clinic.legal_name or clinic.name,
            creator="Cuspide",
            invariant=1,
        )
        self.clinic = clinic

    def p(self, text: str, style: Any = None) -> Any:
        return self.P.Paragraph(text, style or self.normal)

    def table(self, rows: list[list[Any]], widths: list[float], head: bool = True) -> Any:
        t = self.P.Table(rows, colWidths=[w * self.mm for w in widths], repeatRows=1 if head else 0)
        style = [
            ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, self.colors.HexColor("#d4d4d4")),
        ]
        if head:
            style += [
                ("BACKGROUND", (0, 0), (-1, 0), self.brand),
                ("TEXTCOLOR", (0, 0), (-1, 0), self.colors.white),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
            ]
        t.setStyle(self.P.TableStyle(style))
        return t

    def header(self, canvas: Any, lines: list[str], right_reserved: float = 0) -> None:
        w, h = self.size
        mm = self.mm
        canvas.saveState()
        canvas.setFillColor(self.brand)
        canvas.rect(0, h - 8 * mm, w, 8 * mm, stroke=0, fill=1)
        canvas.setFillColor(self.colors.black)
        y = h - 18 * mm
        canvas.setFont("Helvetica-Bold", 13)
        canvas.drawString(16 * mm, y, self.clinic.name)
        canvas.setFont("Helvetica", 8.5)
        for text in lines:
            y -= 4.2 * mm
            canvas.drawString(16 * mm, y, text)
        canvas.restoreState()

    def footer(self, canvas: Any, doc: Any, text: str) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(self.colors.HexColor("#525252"))
        canvas.drawString(16 * self.mm, 10 * self.mm, text)
        canvas.drawRightString(self.size[0] - 16 * self.mm, 10 * self.mm, f"{doc.page}")
        canvas.restoreState()

    def build(self, story: list[Any], first: Any, later: Any) -> bytes:
        self.doc.build(story, onFirstPage=first, onLaterPages=later)
        return self.buf.getvalue()


def _issuer_lines(clinic: Any) -> list[str]:
    lines = []
    if clinic.legal_name and clinic.legal_name != clinic.name:
        lines.append(clinic.legal_name)
    if clinic.tax_id:
        lines.append(f"NIF: {clinic.tax_id}")
    addr = _address(clinic.address)
    if addr:
        lines.append(addr)
    return lines


# --- budget --------------------------------------------------------------------------------


def _when(at: Any, time_zone: str, lang: str) -> str:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    local = at.astimezone(ZoneInfo(time_zone))
    return local.strftime("%d/%m/%Y %H:%M") if lang == "es" else local.strftime("%Y-%m-%d %H:%M")


def _status_stamp(d: _Doc, b: Any, acceptance: Any, lang: str) -> list[Any]:
    """The budget's state, big and red/green under the title; nothing for drafts and sent."""
    t = T[lang]
    text, status = None, getattr(b, "status", None)
    if status == "accepted" and acceptance is not None:
        text = t["st_accepted"].format(
            when=_when(acceptance.accepted_at, b.time_zone, lang),
            who=_esc(acceptance.signer_name),
        )
        colour = "#15803d"
    elif status in ("cancelled", "expired", "rejected", "superseded"):
        text, colour = t[f"st_{status}"], "#b91c1c"
    if not text:
        return []
    style = d.h2.clone("stamp", fontSize=13, leading=16, textColor=d.colors.HexColor(colour))
    out = [d.p(text, style)]
    if status == "accepted" and b.partial:
        n = sum(1 for ln in b.lines if ln.get("accepted"))
        out.append(d.p(t["st_partial"].format(n=n, m=len(b.lines)), style))
    return out


def _signature_image(d: _Doc, acceptance: Any) -> Any:
    """The drawn signature as a flowable (PNG as drawn; an SVG path redrawn), or None."""
    import base64  # noqa: PLC0415

    sig, kind = acceptance.signature, acceptance.signature_kind
    if not sig:
        return None
    try:
        if kind == "png":
            raw = base64.b64decode(sig.split(",", 1)[1])
        else:
            import re  # noqa: PLC0415

            from PIL import Image, ImageDraw  # noqa: PLC0415

            nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", sig)]
            pts = list(zip(nums[0::2], nums[1::2], strict=False))
            minx, miny = min(p[0] for p in pts), min(p[1] for p in pts)
            pts = [(x - minx + 4, y - miny + 4) for x, y in pts]
            w = int(max(p[0] for p in pts)) + 8
            h = int(max(p[1] for p in pts)) + 8
            img = Image.new("RGBA", (max(w, 8), max(h, 8)), (255, 255, 255, 0))
            ImageDraw.Draw(img).line(pts, fill=(0, 0, 0, 255), width=2)
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            raw = buf.getvalue()
        from reportlab.lib.utils import ImageReader  # noqa: PLC0415

        reader = ImageReader(io.BytesIO(raw))
        iw, ih = reader.getSize()
        width = 70 * d.mm
        height = min(30 * d.mm, width * ih / max(iw, 1))
        width = height * iw / max(ih, 1)
        return d.P.Image(io.BytesIO(raw), width=width, height=height)
    except Exception:  # noqa: BLE001 - a signature we cannot draw still leaves the record
        return None


def _acceptance_block(d: _Doc, b: Any, acceptance: Any, lang: str) -> list[Any]:
    t = T[lang]
    rel = acceptance.relationship
    rel = t["self"] if rel in ("self", "El propio paciente", "The patient") else rel
    out: list[Any] = [
        d.P.Spacer(1, 8 * d.mm),
        d.p(t["channel_link"] if acceptance.channel == "link" else t["channel_staff"], d.h2),
        d.p(
            t["signed_by"].format(
                who=_esc(acceptance.signer_name),
                rel=_esc(rel),
                when=_when(acceptance.accepted_at, b.time_zone, lang),
            )
        ),
    ]
    img = _signature_image(d, acceptance)
    if img is not None:
        img.hAlign = "LEFT"
        out.append(img)
    out.append(d.p(f"{t['seen_sha']}: {_esc(acceptance.pdf_sha256)}", d.small))
    return out


def budget_pdf(b: Any, clinic: Any, patient_name: str, acceptance: Any = None) -> bytes:
    """The budget; once decided, with its state stamped, and once accepted (``acceptance``
    given) the lines accepted, the signer, the drawn signature and the time."""
    lang = b.language if b.language in T else "es"
    t = T[lang]
    d = _Doc(f"{t['budget']} {b.number}", clinic)
    story: list[Any] = [
        d.p(f"{t['budget']} {_esc(b.number)}", d.h1),
        *_status_stamp(d, b, acceptance, lang),
        d.p(
            f"<b>{t['number']}:</b> {_esc(b.number)} ({t['revision']} {int(b.revision)})"
            f" &nbsp; <b>{t['date']}:</b> {_fdate(b.created_at.date().isoformat(), lang)}"
            f" &nbsp; <b>{t['valid_until']}:</b> {_fdate(b.valid_until, lang)}"
        ),
        d.p(f"<b>{t['patient']}:</b> {_esc(patient_name)}"),
    ]
    if b.title:
        story.append(d.p(f"<b>{_esc(b.title)}</b>"))
    story.append(d.P.Spacer(1, 4 * d.mm))
    rows: list[list[Any]] = [
        [
            t["code"],
            t["treatment"],
            t["tooth"],
            t["surfaces"],
            t["qty"],
            t["unit"],
            t["discount"],
            t["base"],
            t["vat"],
            t["total"],
        ],
    ]
    accepted = getattr(b, "status", None) == "accepted" and acceptance is not None
    for ln in b.lines:
        desc = _esc(ln["description"])
        if accepted:
            mark = t["accepted_line"] if ln.get("accepted") else t["not_accepted_line"]
            desc += f"<br/><b>{mark}</b>"
        rows.append(
            [
                ln["code"],
                d.p(desc, d.small),
                str(ln["tooth"] or ""),
                "".join(ln["surfaces"] or []),
                ln["quantity"],
                money.fmt_eur(Decimal(ln["unit_price"]), lang),
                money.fmt_eur(Decimal(ln["line_discount"]) + Decimal(ln["global_discount"]), lang)
                if Decimal(ln["line_discount"]) + Decimal(ln["global_discount"])
                else "",
                money.fmt_eur(Decimal(ln["base"]), lang),
                _rate_label(ln["classification"], ln["vat_rate"], lang),
                money.fmt_eur(Decimal(ln["total"]), lang),
            ]
        )
    story.append(d.table(rows, [14, 50, 10, 11, 10, 18, 15, 18, 16, 18]))
    story += _totals(
        d, b.totals, b.breakdown, lang, global_discount=b.totals.get("global_discount")
    )
    if accepted and b.partial:
        acc_total = sum(
            (Decimal(ln["total"]) for ln in b.lines if ln.get("accepted")), Decimal("0.00")
        )
        story.append(d.p(f"<b>{t['accepted_total']}: {money.fmt_eur(acc_total, lang)}</b>"))
    if b.notes:
        story += [d.p(t["notes"], d.h2), d.p(_esc(b.notes))]
    if accepted:
        story += _acceptance_block(d, b, acceptance, lang)
    else:
        story += [d.P.Spacer(1, 14 * d.mm), d.p(f"{t['sign']}: ______________________________")]
    head = _issuer_lines(clinic)

    def first(canvas: Any, doc: Any) -> None:
        d.header(canvas, head)
        d.footer(canvas, doc, f"{clinic.name} · {b.number}")

    return d.build(story, first, first)


def _totals(
    d: _Doc,
    totals: dict[str, str],
    breakdown: list[dict[str, str]],
    lang: str,
    global_discount: str | None = None,
) -> list[Any]:
    t = T[lang]
    out: list[Any] = [d.p(t["breakdown"], d.h2)]
    rows = [[t["vat"], t["base"], t["vat"]]]
    for b in breakdown:
        rows.append(
            [
                _rate_label(b["classification"], b["rate"], lang),
                money.fmt_eur(Decimal(b["base"]), lang),
                money.fmt_eur(Decimal(b["vat"]), lang),
            ]
        )
    out.append(d.table(rows, [50, 30, 30]))
    summary = []
    if global_discount and Decimal(global_discount):
        summary.append([t["global_discount"], "-" + money.fmt_eur(Decimal(global_discount), lang)])
    summary += [
        [t["base"], money.fmt_eur(Decimal(totals["base"]), lang)],
        [t["vat"], money.fmt_eur(Decimal(totals["vat"]), lang)],
        [t["total"], money.fmt_eur(Decimal(totals["total"]), lang)],
    ]
    st = d.table(summary, [40, 30], head=False)
    st.setStyle(
        d.P.TableStyle(
            [("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 10), ("ALIGN", (1, 0), (1, -1), "RIGHT")]
        )
    )
    st.hAlign = "RIGHT"
    out += [d.P.Spacer(1, 3 * d.mm), st]
    return out


# --- invoice -------------------------------------------------------------------------------

TIPO_TEXT = {
    "F1": "FACTURA",
    "F2": "FACTURA SIMPLIFICADA",
    "R1": "FACTURA RECTIFICATIVA",
    "R2": "FACTURA RECTIFICATIVA",
    "R3": "FACTURA RECTIFICATIVA",
    "R4": "FACTURA RECTIFICATIVA",
    "R5": "FACTURA RECTIFICATIVA (SIMPLIFICADA)",
}


def _draw_qr_area(d: _Doc, canvas: Any, qr_url: str | None) -> None:
    """The reserved VERI*FACTU area, top right of the first page."""
    mm = d.mm
    w, h = d.size
    box = QR_BOX_MM * mm
    x = w - 16 * mm - box
    top = h - 14 * mm
    canvas.saveState()
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawCentredString(x + box / 2, top, "QR tributario:")
    y0 = top - 2 * mm - box
    if qr_url:
        from chalicelib.verifactu.qr import QR_BORDER_MODULES, qr_matrix, qr_symbol_mm

        matrix = qr_matrix(qr_url)
        n = len(matrix)
        # The symbol (the matrix without its 4-module quiet zone) is 30 mm or more (AEAT_QR
        # section 2); the quiet zone is added around it, centred in the reserved square.
        cell = qr_symbol_mm(n) * mm / (n - 2 * QR_BORDER_MODULES)
        size = cell * n
        ox = x + (box - size) / 2
        oy = y0 + (box - size) / 2
        canvas.setFillColor(d.colors.black)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    canvas.rect(
                        ox + c * cell, oy + (n - 1 - r) * cell, cell, cell, stroke=0, fill=1
                    )
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawCentredString(x + box / 2, y0 - 4 * mm, "VERI*FACTU")
    canvas.restoreState()


ANNULLED_TEXT = "ANULADA"


def rectification_code(inv: Any) -> str | None:
    """The rectifying code as the record has it: an issued rectifying invoice's TipoFactura
    (R5 for a simplified original, whatever code was asked), else the code asked."""
    if (inv.tipo_factura or "").startswith("R"):
        return str(inv.tipo_factura)
    return inv.rectification_code


def is_annulled(inv: Any) -> bool:
    """Annulled with a registro de anulación (issued by mistake): cancelled, and not because a
    rectifying invoice replaced or cancelled it (that one stays a valid invoice, rectified)."""
    return inv.status != "draft" and bool(inv.cancelled) and not inv.rectified_by


def _draw_annulled(d: _Doc, canvas: Any) -> None:
    """A large diagonal "ANULADA" across the page, under the content's text."""
    w, h = d.size
    canvas.saveState()
    canvas.setFillColor(d.colors.HexColor("#dc2626"))
    canvas.setFillAlpha(0.18)
    canvas.translate(w / 2, h / 2)
    canvas.rotate(35)
    canvas.setFont("Helvetica-Bold", 110)
    canvas.drawCentredString(0, -38, ANNULLED_TEXT)
    canvas.restoreState()


def invoice_pdf(inv: Any, clinic: Any, qr_url: str | None = None) -> bytes:
    lang = "es"
    draft = inv.status == "draft"
    annulled = is_annulled(inv)
    if annulled:
        qr_url = None  # never a scannable code on an invoice that no longer exists
    title = TIPO_TEXT.get(inv.tipo_factura or "", "FACTURA")
    if inv.kind == "rectifying" and draft:
        title = "FACTURA RECTIFICATIVA"
    d = _Doc(f"{title} {inv.num_serie or 'BORRADOR'}", clinic)
    issuer = inv.issuer or {
        "name": clinic.name,
        "legal_name": clinic.legal_name or clinic.name,
        "tax_id": clinic.tax_id,
        "address": clinic.address,
    }
    story: list[Any] = [d.p(title + (" — BORRADOR (sin validez)" if draft else ""), d.h1)]
    if annulled:
        banner = d.table(
            [
                [
                    d.p(
                        f"<b>{ANNULLED_TEXT}</b> — esta factura fue anulada (registro de "
                        "anulación VERI*FACTU) y no tiene validez.",
                        d.normal,
                    )
                ]
            ],
            [178],
            head=False,
        )
        banner.setStyle(
            d.P.TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.2, d.colors.HexColor("#dc2626")),
                    ("BACKGROUND", (0, 0), (-1, -1), d.colors.HexColor("#fee2e2")),
                ]
            )
        )
        story.append(banner)
    if inv.num_serie:
        story.append(
            d.p(
                f"<b>Número:</b> {_esc(inv.number)} &nbsp; <b>Serie:</b> {_esc(inv.series)}"
                f" &nbsp; <b>Factura nº:</b> {_esc(inv.num_serie)}"
            )
        )
        story.append(d.p(f"<b>Fecha de expedición:</b> {_fdate(inv.issue_date)}"))
    if inv.operation_date and inv.operation_date != inv.issue_date:
        story.append(d.p(f"<b>Fecha de la operación:</b> {_fdate(inv.operation_date)}"))
    story.append(d.P.Spacer(1, 3 * d.mm))
    story.append(
        d.p(
            f"<b>Emisor:</b> {_esc(issuer.get('legal_name') or issuer.get('name'))} · "
            f"<b>NIF:</b> {_esc(issuer.get('tax_id') or '')}"
            + (f" · {_esc(_address(issuer.get('address')))}" if issuer.get("address") else "")
        )
    )
    c = inv.customer
    if c:
        cust = f"<b>Cliente:</b> {_esc(c['name'])}"
        if c.get("tax_id"):
            label = "NIF" if c.get("tax_id_type") == "NIF" else "Documento"
            cust += f" · <b>{label}:</b> {_esc(c['tax_id'])}"
        if c.get("address"):
            cust += f" · {_esc(_address(c['address']))}"
        story.append(d.p(cust))
    if inv.rectifies:
        refs = ", ".join(
            f"{_esc(r['num_serie'])} ({_fdate(r['issue_date'])})" for r in inv.rectifies
        )
        mode = "por sustitución" if inv.rectification_mode == "S" else "por diferencias"
        story.append(
            d.p(
                f"<b>Rectifica la factura:</b> {refs} · <b>Tipo:</b> {mode}"
                f" ({_esc(rectification_code(inv))}) · <b>Motivo:</b> "
                f"{_esc(inv.rectification_reason)}"
            )
        )
    story.append(d.p(f"<b>Descripción:</b> {_esc(inv.description)}"))
    story.append(d.P.Spacer(1, 4 * d.mm))
    rows: list[list[Any]] = [
        ["Código", "Concepto", "Pieza", "Cant.", "Precio", "Dto.", "Base", "IVA", "Cuota", "Total"],
    ]
    for ln in inv.lines:
        rows.append(
            [
                ln.get("code") or "",
                d.p(_esc(ln["description"]), d.small),
                str(ln.get("tooth") or ""),
                ln["quantity"],
                money.fmt_eur(Decimal(ln["unit_price"])),
                money.fmt_eur(Decimal(ln["discount"])) if Decimal(ln["discount"]) else "",
                money.fmt_eur(Decimal(ln["base"])),
                _rate_label(ln["classification"], ln["vat_rate"], lang),
                money.fmt_eur(Decimal(ln["vat"])),
                money.fmt_eur(Decimal(ln["total"])),
            ]
        )
    story.append(d.table(rows, [14, 48, 10, 10, 17, 15, 18, 16, 16, 18]))
    totals = {
        "base": money.fmt(int(inv.total_base_cents)),
        "vat": money.fmt(int(inv.total_vat_cents)),
        "total": money.fmt(int(inv.total_cents)),
    }
    story += _totals(d, totals, inv.breakdown, lang)
    exempt = sorted({b["classification"] for b in inv.breakdown} & rules.EXEMPT)
    for cls in exempt:
        story.append(d.p(EXEMPTION_TEXT.get(cls, "Operación exenta de IVA"), d.small))
    if inv.tipo_factura in ("F2", "R5") and any(b["classification"] == "S1" for b in inv.breakdown):
        story.append(d.p("IVA incluido.", d.small))
    if inv.notes:
        story += [d.p("Observaciones", d.h2), d.p(_esc(inv.notes))]
    head = [
        *([issuer["legal_name"]] if issuer.get("legal_name") != clinic.name else []),
        f"NIF: {issuer.get('tax_id') or ''}",
        _address(issuer.get("address")),
    ]
    foot = f"{issuer.get('legal_name') or clinic.name} · NIF {issuer.get('tax_id') or ''}"
    foot += f" · {inv.num_serie}" if inv.num_serie else " · BORRADOR"
    foot += f" · {ANNULLED_TEXT}" if annulled else ""

    def first(canvas: Any, doc: Any) -> None:
        d.header(canvas, [x for x in head if x])
        # VERI*FACTU applies to Spanish issuers; an annulled invoice has no QR area at all
        if (clinic.country or "").upper() == "ES" and not annulled:
            _draw_qr_area(d, canvas, qr_url)
        if annulled:
            _draw_annulled(d, canvas)
        d.footer(canvas, doc, foot)

    def later(canvas: Any, doc: Any) -> None:
        d.header(canvas, [x for x in head if x])
        if annulled:
            _draw_annulled(d, canvas)
        d.footer(canvas, doc, foot)

    return d.build(story, first, later)


# --- payment receipt -----------------------------------------------------------------------

RECEIPT_T = {
    "es": {
        "payment": "RECIBO DE PAGO",
        "refund": "JUSTIFICANTE DE DEVOLUCIÓN",
        "number": "Recibo nº",
        "date": "Fecha",
        "patient": "Paciente",
        "invoice": "Factura",
        "issued": "de",
        "amount_payment": "Importe recibido",
        "amount_refund": "Importe devuelto",
        "method": "Forma de pago",
        "reference": "Referencia",
        "reason": "Motivo",
        "note": "Nota",
        "total": "Importe de la factura",
        "paid": "Pagado hasta este recibo",
        "pending": "Pendiente tras este recibo",
        "legal": "Este recibo justifica el pago; no sustituye a la factura.",
        "methods": {
            "cash": "Efectivo",
            "card": "Tarjeta",
            "transfer": "Transferencia",
            "financing": "Financiación",
        },
    },
    "en": {
        "payment": "PAYMENT RECEIPT",
        "refund": "REFUND RECEIPT",
        "number": "Receipt no.",
        "date": "Date",
        "patient": "Patient",
        "invoice": "Invoice",
        "issued": "of",
        "amount_payment": "Amount received",
        "amount_refund": "Amount refunded",
        "method": "Method",
        "reference": "Reference",
        "reason": "Reason",
        "note": "Note",
        "total": "Invoice amount",
        "paid": "Paid up to this receipt",
        "pending": "Outstanding after this receipt",
        "legal": "This receipt proves the payment; it does not replace the invoice.",
        "methods": {
            "cash": "Cash",
            "card": "Card",
            "transfer": "Bank transfer",
            "financing": "Financing",
        },
    },
}


def receipt_pdf(
    p: Any,
    inv: Any,
    clinic: Any,
    patient_name: str,
    *,
    paid_to_date: int,
    due: int,
    lang: str = "es",
) -> bytes:
    """A payment's receipt (or a refund's proof): who paid what, when, how, against which
    invoice, and what the invoice still asks after it. Deterministic like the other PDFs."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    t = RECEIPT_T[lang if lang in RECEIPT_T else "es"]
    title = t[p.kind] if p.kind in ("payment", "refund") else t["payment"]
    number = p.payment_id[-10:].upper()
    d = _Doc(f"{title} {number}", clinic)
    when = p.paid_at.astimezone(ZoneInfo(clinic.time_zone))
    day = when.strftime("%d/%m/%Y %H:%M") if lang == "es" else when.strftime("%Y-%m-%d %H:%M")
    amount = money.fmt_eur(int(p.amount_cents), lang)
    rows: list[list[Any]] = [
        [t["number"], number],
        [t["date"], day],
        [t["patient"], d.p(_esc(patient_name))],
        [
            t["invoice"],
            f"{inv.num_serie or ''} {t['issued']} {_fdate(inv.issue_date, lang)}".strip(),
        ],
        [t["amount_payment" if p.kind == "payment" else "amount_refund"], amount],
        [t["method"], t["methods"].get(p.method, p.method)],
    ]
    if p.reference:
        rows.append([t["reference"], d.p(_esc(p.reference))])
    if p.note:
        rows.append([t["note" if p.kind == "payment" else "reason"], d.p(_esc(p.note))])
    rows += [
        [t["total"], money.fmt_eur(due, lang)],
        [t["paid"], money.fmt_eur(paid_to_date, lang)],
        [t["pending"], money.fmt_eur(due - paid_to_date, lang)],
    ]
    table = d.table(rows, [60, 110], head=False)
    table.setStyle(
        d.P.TableStyle(
            [
                ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9),
                ("FONT", (1, 0), (1, -1), "Helvetica", 9),
                ("FONT", (1, 4), (1, 4), "Helvetica-Bold", 11),
            ]
        )
    )
    story: list[Any] = [
        d.p(title, d.h1),
        d.P.Spacer(1, 4 * d.mm),
        table,
        d.P.Spacer(1, 6 * d.mm),
        d.p(t["legal"], d.small),
    ]
    head = _issuer_lines(clinic)
    foot = f"{clinic.legal_name or clinic.name} · {title} {number}"

    def first(canvas: Any, doc: Any) -> None:
        d.header(canvas, head)
        d.footer(canvas, doc, foot)

    return d.build(story, first, first)
