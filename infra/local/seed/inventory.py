"""Demo inventory of Clínica Demo: everyday consumables (composite, anaesthetic cartridges,
gloves, impression materials, implants, aligner attachments, sutures, masks) received in lots
a week ago, a week of consumptions (some for patients) and an adjustment, so a few items are
below their reorder threshold and a few lots expire within 30 days; and the materials of four
catalog treatments (fillings, extraction, implant). Everything goes through the inventory
services (ledger, lots, indexes and audit are real), at the week's own times; the low-stock
emails are not sent at seed time (the items stay flagged and listed)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from chalicelib.billing import catalog
from chalicelib.billing import schemas as billing_schemas
from chalicelib.core.ids import now
from chalicelib.inventory import items, schemas, stock
from infra.local.seed.context import DemoContext

# sku: (name, unit, category, supplier, threshold, reorder, cost, lab)
ITEMS: dict[str, tuple[str, str, str, str, int, int, str, str | None]] = {
    "CMP-A2": (
        "Composite A2 (jeringa 4 g)",
        "jeringa",
        "Restauradora",
        "Henry Schein",
        4,
        10,
        "18.90",
        None,
    ),
    "ANE-ART": (
        "Articaína 4 % con epinefrina 1:100.000",
        "carpule",
        "Anestesia",
        "Inibsa",
        40,
        100,
        "0.62",
        None,
    ),
    "GLV-NIT-M": (
        "Guantes de nitrilo talla M",
        "caja",
        "Protección",
        "Dentaltix",
        5,
        20,
        "6.40",
        None,
    ),
    "IMP-ALG": (
        "Alginato de impresión (bolsa 500 g)",
        "bolsa",
        "Impresión",
        "Dentaltix",
        3,
        6,
        "9.80",
        None,
    ),
    "IMP-SIL": (
        "Silicona de adición (cartucho 50 ml)",
        "cartucho",
        "Impresión",
        "Henry Schein",
        4,
        8,
        "21.50",
        "Laboratorio Dental Sur",
    ),
    "IMPL-4110": (
        "Implante de titanio 4,1 × 10 mm",
        "ud",
        "Implantología",
        "Straumann",
        2,
        5,
        "145.00",
        None,
    ),
    "ALN-ATT": (
        "Composite para attachments de alineadores",
        "kit",
        "Ortodoncia",
        "Ortoplus",
        2,
        4,
        "38.00",
        "Laboratorio Ortoplus",
    ),
    "SUT-40": ("Sutura reabsorbible 4/0", "sobre", "Cirugía", "Dentaltix", 10, 24, "2.10", None),
    "MSK-IIR": (
        "Mascarillas quirúrgicas IIR (caja 50)",
        "caja",
        "Protección",
        "Dentaltix",
        4,
        10,
        "5.20",
        None,
    ),
}

# day offset (negative: days ago), sku, movement
MOVES: list[tuple[int, str, dict[str, Any]]] = [
    (-7, "CMP-A2", {"receive": 12, "lot": "CA2-2411", "expiry": 300}),
    (-7, "ANE-ART", {"receive": 60, "lot": "ART-0925", "expiry": 20}),
    (-7, "ANE-ART", {"receive": 50, "lot": "ART-1126", "expiry": 420}),
    (-7, "GLV-NIT-M", {"receive": 10, "lot": "NIT-M-77"}),
    (-7, "IMP-ALG", {"receive": 6, "lot": "ALG-3310", "expiry": 25}),
    (-7, "IMP-SIL", {"receive": 8, "lot": "SIL-8821", "expiry": 180}),
    (-7, "IMPL-4110", {"receive": 4, "lot": "STM-41-10-552", "expiry": 900}),
    (-7, "ALN-ATT", {"receive": 5, "lot": "ATT-014", "expiry": 120}),
    (-7, "SUT-40", {"receive": 24, "lot": "SUT-4-0-19", "expiry": 12}),
    (-7, "MSK-IIR", {"receive": 10}),
    (-6, "CMP-A2", {"consume": 2, "patient": 0}),
    (-6, "ANE-ART", {"consume": 12}),
    (-6, "GLV-NIT-M", {"consume": 2}),
    (-5, "IMPL-4110", {"consume": 1, "patient": 1}),
    (-5, "SUT-40", {"consume": 4}),
    (-5, "ANE-ART", {"consume": 14}),
    (-4, "CMP-A2", {"consume": 3}),
    (-4, "IMP-ALG", {"consume": 2, "patient": 2}),
    (-4, "GLV-NIT-M", {"consume": 2}),
    (-3, "MSK-IIR", {"adjust": -1, "reason": "Caja dañada en el almacén"}),
    (-3, "IMPL-4110", {"consume": 2, "patient": 3}),
    (-3, "ANE-ART", {"consume": 16}),
    (-2, "IMP-SIL", {"consume": 3}),
    (-2, "CMP-A2", {"consume": 4}),
    (-2, "GLV-NIT-M", {"consume": 3}),
    (-1, "ALN-ATT", {"consume": 1, "patient": 4}),
    (-1, "SUT-40", {"consume": 2}),
    (-1, "ANE-ART", {"consume": 8}),
    (0, "MSK-IIR", {"consume": 2}),
    (0, "CMP-A2", {"consume": 1}),
]

MATERIALS = {
    "OBT1": [("CMP-A2", 1), ("ANE-ART", 1)],
    "OBT2": [("CMP-A2", 1), ("ANE-ART", 2)],
    "EXO": [("ANE-ART", 2), ("SUT-40", 1)],
    "IMP": [("IMPL-4110", 1), ("ANE-ART", 2), ("SUT-40", 1)],
}


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    admin = ctx.demo["admin"]
    cid = admin.clinic_id
    ids: dict[str, str] = {}
    for sku, (name, unit, cat, supplier, threshold, reorder, cost, lab) in ITEMS.items():
        ids[sku] = items.create_item(
            admin,
            schemas.ItemIn(
                name=name,
                sku=sku,
                unit=unit,
                category=cat,
                supplier=supplier,
                lab=lab,
                reorder_threshold=threshold,
                reorder_quantity=reorder,
                cost=cost,
            ),
        ).item_id
    start = now().replace(hour=9, minute=30, second=0, microsecond=0)
    for n, (days, sku, mv) in enumerate(MOVES):
        at: datetime = start + timedelta(days=days, minutes=17 * n)
        at = min(at, now())
        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(stock, "now", lambda at=at: at))
            stack.enter_context(mock.patch("chalicelib.inventory.alerts.stock_low"))
            if "receive" in mv:
                expiry = (start + timedelta(days=mv["expiry"])).date() if "expiry" in mv else None
                stock.receive(
                    admin,
                    ids[sku],
                    schemas.ReceiveIn(
                        quantity=mv["receive"],
                        lot=mv.get("lot"),
                        expiry=expiry,
                        supplier=ITEMS[sku][3],
                        cost=ITEMS[sku][6],
                    ),
                )
            elif "consume" in mv:
                p = mv.get("patient")
                pid = patient_ids[p] if p is not None and p < len(patient_ids) else None
                stock.consume(
                    admin, ids[sku], schemas.ConsumeIn(quantity=mv["consume"], patient_id=pid)
                )
            else:
                stock.adjust(
                    admin, ids[sku], schemas.AdjustIn(delta=mv["adjust"], reason=mv["reason"])
                )
    by_code = {t.code: t.treatment_id for t in catalog.all_treatments(cid)}
    for code, mats in MATERIALS.items():
        if code in by_code:
            catalog.update_treatment(
                admin,
                by_code[code],
                billing_schemas.TreatmentUpdate(
                    materials=[
                        billing_schemas.Material(item_id=ids[s], quantity=q) for s, q in mats
                    ]
                ),
            )
