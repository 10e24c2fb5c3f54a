"""Demo billing of Clínica Demo: the treatment catalog (imported as CSV, on top of the Spanish
VAT defaults), budgets in every state, issued invoices (paid, partially paid, simplified, to a
third party, one rectified) with payments by cash, card, transfer and financing.

Everything goes through the billing services, so numbering, the VERI*FACTU records written in
each issue transaction, audit entries and events are real. About forty service calls: the
seed runs at the first `make run`, on moto."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import chalicelib.verifactu.service  # noqa: F401 - its issue hooks write the VERI*FACTU records
from chalicelib.billing import budgets, catalog, common, invoices, payments, schemas
from chalicelib.core.api import Principal
from infra.local.seed.context import DemoContext

# The catalog as the clinic would import it. Dental care is exempt (LIVA art. 20.Uno.5º);
# purely aesthetic treatments and retail products carry 21 %.
CATALOG = (
    "code;name_es;name_en;category;price;cost;duration_min;scope;vat_code;active\n"
    "REV;Revisión y diagnóstico;Check-up and diagnosis;Diagnóstico;"
    "40.00;5.00;20;mouth;EXENTO_SANITARIO;1\n"
    "RXP;Radiografía periapical;Periapical X-ray;Diagnóstico > Radiología;"
    "15.00;2.00;10;tooth;EXENTO_SANITARIO;1\n"
    "OPG;Ortopantomografía;Panoramic X-ray;Diagnóstico > Radiología;"
    "45.00;6.00;15;mouth;EXENTO_SANITARIO;1\n"
    "LIMP;Limpieza dental (tartrectomía);Scale and polish;Prevención;"
    "60.00;8.00;45;mouth;EXENTO_SANITARIO;1\n"
    "SELL;Sellador de fisuras;Fissure sealant;Prevención;"
    "25.00;4.00;15;tooth;EXENTO_SANITARIO;1\n"
    "FLUOR;Fluorización;Fluoride treatment;Prevención;"
    "20.00;3.00;15;mouth;EXENTO_SANITARIO;1\n"
    "OBT1;Empaste de composite (1 cara);Composite filling (1 surface);Conservadora > Obturaciones;"
    "55.00;12.00;30;surface;EXENTO_SANITARIO;1\n"
    "OBT2;Empaste de composite (2-3 caras);Composite filling (2-3 surfaces);"
    "Conservadora > Obturaciones;75.00;16.00;45;surface;EXENTO_SANITARIO;1\n"
    "ENDO1;Endodoncia unirradicular;Root canal (single root);Endodoncia;"
    "180.00;30.00;60;tooth;EXENTO_SANITARIO;1\n"
    "ENDO3;Endodoncia multirradicular;Root canal (molar);Endodoncia;"
    "290.00;45.00;90;tooth;EXENTO_SANITARIO;1\n"
    "PERIO;Raspado y alisado radicular (por cuadrante);Root planing (per quadrant);Periodoncia;"
    "90.00;10.00;45;mouth;EXENTO_SANITARIO;1\n"
    "EXO;Extracción simple;Simple extraction;Cirugía;"
    "50.00;8.00;30;tooth;EXENTO_SANITARIO;1\n"
    "EXOQ;Extracción de cordal incluido;Impacted wisdom tooth removal;Cirugía;"
    "180.00;25.00;60;tooth;EXENTO_SANITARIO;1\n"
    "IMP;Implante dental de titanio;Titanium dental implant;Implantología;"
    "950.00;320.00;90;tooth;EXENTO_SANITARIO;1\n"
    "CORIMP;Corona sobre implante (metal-cerámica);Implant crown (porcelain fused to metal);"
    "Prótesis > Coronas;650.00;210.00;45;tooth;EXENTO_SANITARIO;1\n"
    "CORZR;Corona de zirconio;Zirconia crown;Prótesis > Coronas;"
    "480.00;150.00;60;tooth;EXENTO_SANITARIO;1\n"
    "PROTC;Prótesis removible completa (por arcada);Full removable denture (per arch);"
    "Prótesis > Removible;900.00;300.00;60;mouth;EXENTO_SANITARIO;1\n"
    "FERULA;Férula de descarga;Night guard;Prótesis;"
    "250.00;60.00;30;mouth;EXENTO_SANITARIO;1\n"
    "ORTOB;Ortodoncia fija con brackets metálicos;Fixed metal braces;Ortodoncia;"
    "2400.00;500.00;60;mouth;EXENTO_SANITARIO;1\n"
    "ORTOI;Ortodoncia invisible (alineadores);Clear aligners;Ortodoncia;"
    "3900.00;1300.00;60;mouth;EXENTO_SANITARIO;1\n"
    "ORTOC;Control mensual de ortodoncia;Monthly orthodontic check;Ortodoncia;"
    "60.00;0.00;20;mouth;EXENTO_SANITARIO;1\n"
    "BLANQ;Blanqueamiento dental en clínica;In-office teeth whitening;Estética > Blanqueamiento;"
    "350.00;70.00;60;mouth;IVA21;1\n"
    "BLANQD;Blanqueamiento ambulatorio (férulas y gel);Take-home whitening kit;"
    "Estética > Blanqueamiento;250.00;60.00;30;mouth;IVA21;1\n"
    "CARILLA;Carilla estética de composite;Cosmetic composite veneer;Estética;"
    "220.00;40.00;60;tooth;IVA21;1\n"
    "CEPI;Cepillos interproximales (pack de 6);Interdental brushes (pack of 6);Productos;"
    "6.50;2.50;;mouth;IVA21;1\n"
)


SIGNATURE = "M10 40 C 20 10, 40 10, 50 40 S 80 70, 90 40 M 95 38 L 130 42 L 160 30"
COMPANY = ("Morales Arquitectos S.L.P.", "B28765436")  # pays Álvaro Morales' treatment
GUARDIAN_DNI = "50123456Q"  # María García López, Paula's mother, pays her daughter's visit


def _line(t: dict[str, str], code: str, **kw: Any) -> schemas.BudgetLineIn:
    return schemas.BudgetLineIn(treatment_id=t[code], **kw)


def _manual(t: dict[str, str], code: str, **kw: Any) -> schemas.InvoiceLineIn:
    return schemas.InvoiceLineIn(treatment_id=t[code], **kw)


def seed_catalog(ctx: DemoContext) -> int:
    """The catalog, on its own step: the history seed invoices from it before ``seed`` issues
    today's invoices (VERI*FACTU records are chained in the order they are generated)."""
    catalog.import_csv(ctx.demo["admin"], schemas.CsvImportIn(csv=CATALOG, dry_run=False))
    return len(catalog.all_treatments(ctx.demo_clinic_id))


def seed(ctx: DemoContext, patient_ids: list[str]) -> dict[str, int]:
    """Budgets, invoices and payments of today, on the catalog of ``seed_catalog``.
    ``patient_ids``: the active Clínica Demo patients of the patients seed (its order: the
    people of ``patients.PEOPLE``, then Paula, the minor without a national id)."""
    admin, dentist = ctx.demo["admin"], ctx.demo["dentist"]
    desk = ctx.demo["receptionist"]
    cid = ctx.demo_clinic_id
    p = dict(
        zip(
            ("maria", "jose", "lucia", "antonio", "carmen", "javier", "isabel", "manuel", "ana"),
            patient_ids,
            strict=False,
        )
    )
    p["laura"], p["alvaro"], p["paula"] = patient_ids[10], patient_ids[15], patient_ids[-1]

    t = {x.code: x.treatment_id for x in catalog.all_treatments(cid)}
    today = common.local_today(common.clinic(cid).time_zone)
    counts = {"budgets": 0, "invoices": 0, "payments": 0}

    def budget(pid: str, title: str, lines: list[schemas.BudgetLineIn], **kw: Any) -> Any:
        counts["budgets"] += 1
        return budgets.create(
            dentist, schemas.BudgetIn(patient_id=pid, title=title, lines=lines, **kw)
        )

    def send(b: Any) -> str:
        return budgets.send(desk, b.budget_id, schemas.SendBudgetIn(valid_days=15)).link

    def issue(who: Principal, data: schemas.InvoiceIn) -> Any:
        counts["invoices"] += 1
        return invoices.issue(who, invoices.create(who, data).invoice_id)

    def pay(invoice_id: str, amount: str, method: str, reference: str | None = None) -> None:
        counts["payments"] += 1
        payments.record(
            desk,
            invoice_id,
            schemas.PaymentIn(amount=Decimal(amount), method=method, reference=reference),
        )

    # Draft: an implant and its crown, still being discussed.
    budget(
        p["javier"],
        "Implante y corona en 36",
        [_line(t, "IMP", tooth=36), _line(t, "CORIMP", tooth=36), _line(t, "RXP", tooth=36)],
    )
    # Sent: waiting for the patient's answer through the link.
    send(
        budget(
            p["carmen"],
            "Endodoncia y corona en 46",
            [_line(t, "ENDO3", tooth=46), _line(t, "CORZR", tooth=46)],
        )
    )
    # Accepted in full at the desk, invoiced and paid by card.
    full = budget(
        p["maria"],
        "Limpieza y empastes",
        [
            _line(t, "LIMP"),
            _line(t, "OBT2", tooth=16, surfaces=["O", "D"]),
            _line(t, "OBT1", tooth=26, surfaces=["O"]),
        ],
    )
    send(full)
    budgets.accept(desk, full.budget_id, schemas.AcceptBudgetIn(signer_name="María García López"))
    inv = issue(
        desk,
        schemas.InvoiceIn(budget_id=full.budget_id, operation_date=today - timedelta(days=2)),
    )
    pay(inv.invoice_id, inv.total, "card", "TPV 004512")
    # Accepted in part by the patient through the signed link (implant and crown, not the
    # whitening): the implant invoiced and partly financed, the crown still a draft invoice.
    part = budget(
        p["jose"],
        "Rehabilitación con implante en 46",
        [
            _line(t, "IMP", tooth=46),
            _line(t, "CORIMP", tooth=46),
            _line(t, "BLANQ", discount=schemas.Discount(kind="percent", value=Decimal(20))),
        ],
        global_discount=schemas.Discount(kind="amount", value=Decimal(50)),
    )
    token = send(part).rsplit("/", 1)[1]
    budgets.accept_by_link(
        token,
        signer_name="José Luis Fernández Martín",
        relationship="self",
        signature=SIGNATURE,
        line_ids=[part.lines[0].line_id, part.lines[1].line_id],
        pdf_sha256=None,
        ip="83.45.120.7",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1",
    )
    implant = issue(
        desk,
        schemas.InvoiceIn(
            budget_id=part.budget_id,
            budget_lines=[schemas.BudgetLinePick(line_id=part.lines[0].line_id)],
        ),
    )
    pay(implant.invoice_id, "500.00", "financing", "Financiera Dental 2026-0183")
    invoices.create(
        desk,
        schemas.InvoiceIn(
            budget_id=part.budget_id,
            budget_lines=[schemas.BudgetLinePick(line_id=part.lines[1].line_id)],
        ),
    )
    # Rejected.
    no = budget(p["antonio"], "Prótesis completa superior", [_line(t, "PROTC"), _line(t, "OPG")])
    send(no)
    budgets.reject(desk, no.budget_id, schemas.RejectBudgetIn(reason="Prefiere pensarlo"))
    # Renegotiated: the first version rejected and superseded, the second (with a 10 %
    # discount) sent.
    ortho = budget(p["lucia"], "Ortodoncia invisible", [_line(t, "ORTOI"), _line(t, "OPG")])
    send(ortho)
    budgets.reject(desk, ortho.budget_id, schemas.RejectBudgetIn(reason="Precio"))
    v2 = budgets.revise(dentist, ortho.budget_id)
    budgets.update(
        dentist,
        v2.budget_id,
        schemas.BudgetUpdate(global_discount=schemas.Discount(kind="percent", value=Decimal(10))),
    )
    send(v2)
    # Cancelled.
    budgets.cancel(desk, budget(p["isabel"], "Férula de descarga", [_line(t, "FERULA")]).budget_id)
    # Expired: valid until today; the daily job, as it runs tonight at 00:05 UTC, expires it.
    late = budget(
        p["ana"],
        "Blanqueamiento y carilla",
        [_line(t, "BLANQ"), _line(t, "CARILLA", tooth=11)],
        valid_until=today,
    )
    send(late)
    budgets.expire_due(datetime.combine(today + timedelta(days=1), time(0, 5), UTC))

    # Invoices without a budget.
    # Simplified (F2): a minor without a national id, up to 400 €, paid in cash.
    kid = issue(
        desk,
        schemas.InvoiceIn(
            patient_id=p["paula"],
            lines=[_manual(t, "REV"), _manual(t, "SELL", tooth=36), _manual(t, "SELL", tooth=46)],
        ),
    )
    pay(kid.invoice_id, kid.total, "cash")
    # Billed to her mother, who asked for a full invoice with her DNI.
    mother = issue(
        desk,
        schemas.InvoiceIn(
            patient_id=p["paula"],
            lines=[_manual(t, "FLUOR")],
            third_party=schemas.Party(name="María García López", tax_id=GUARDIAN_DNI),
        ),
    )
    pay(mother.invoice_id, mother.total, "cash")
    # Exempt and 21 % on one invoice, paid by transfer.
    mixed = issue(
        desk,
        schemas.InvoiceIn(patient_id=p["laura"], lines=[_manual(t, "LIMP"), _manual(t, "BLANQD")]),
    )
    pay(mixed.invoice_id, mixed.total, "transfer", "Transferencia 2026/03/118")
    # Paid by the patient's company (third party with a CIF), half paid so far.
    firm = issue(
        desk,
        schemas.InvoiceIn(
            patient_id=p["alvaro"],
            lines=[_manual(t, "PERIO", quantity=Decimal(4)), _manual(t, "OPG")],
            third_party=schemas.Party(name=COMPANY[0], tax_id=COMPANY[1]),
        ),
    )
    pay(firm.invoice_id, "200.00", "transfer")
    # Rectified: the X-ray was part of the check-up; a rectifying invoice by differences
    # takes it off and the 15 € are refunded.
    wrong = issue(
        desk,
        schemas.InvoiceIn(
            patient_id=p["manuel"], lines=[_manual(t, "EXO", tooth=38), _manual(t, "RXP", tooth=38)]
        ),
    )
    pay(wrong.invoice_id, wrong.total, "cash")
    rect = invoices.rectify(
        admin,
        wrong.invoice_id,
        schemas.RectifyIn(
            reason="La radiografía estaba incluida en la revisión",
            lines=[schemas.InvoiceLineIn(treatment_id=t["RXP"], tooth=38, quantity=Decimal(-1))],
        ),
    )
    invoices.issue(admin, rect.invoice_id)
    counts["invoices"] += 1
    payments.refund(desk, wrong.invoice_id, schemas.RefundIn(amount=Decimal(15), method="cash"))
    return counts
