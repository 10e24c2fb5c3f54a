"""The inventory section of the end-of-day email (chalicelib/comms/eod.py imports this module).

Consumed today (one Query of the per-day consumption index), items below their reorder
threshold (one Query of the sparse low-stock index), lots expiring within 30 days (one Query of
the sparse expiry index), the item names for them (one BatchGetItem) and a link to reorder:
a constant number of calls whatever the size of the inventory. Each list is capped.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from chalicelib.comms.templates import Section
from chalicelib.inventory import alerts
from chalicelib.inventory.common import load_items
from chalicelib.inventory.items import expiring_lots
from chalicelib.inventory.models import InventoryItem
from chalicelib.inventory.stock import consumed_on

CAP = 10
EXPIRY_DAYS = 30

T = {
    "es": {
        "title": "Inventario",
        "consumed": "Consumido hoy",
        "below": "Por debajo del umbral",
        "expiring": "Caduca en 30 días",
        "none": "nada",
        "reorder": "Pedir: {url}",
    },
    "en": {
        "title": "Inventory",
        "consumed": "Consumed today",
        "below": "Below threshold",
        "expiring": "Expiring within 30 days",
        "none": "nothing",
        "reorder": "Reorder: {url}",
    },
}


def section(clinic_id: str, day: date, lang: str) -> Section | None:
    t = T.get(lang, T["es"])
    used: Counter[str] = Counter()
    for m in consumed_on(clinic_id, day):
        used[m.item_id] += -int(m.quantity)
    low = [
        i
        for i in InventoryItem.gsi2.query(InventoryItem.low_pk(clinic_id), limit=CAP)
        if isinstance(i, InventoryItem)
    ]
    lots, _ = expiring_lots(clinic_id, EXPIRY_DAYS, CAP, None)
    if not used and not low and not lots:
        return None
    top = [iid for iid, _ in used.most_common(CAP)]
    names = load_items(clinic_id, top + [x.item_id for x in lots])
    lines = []
    for iid in top:
        it = names.get(iid)
        if it is not None and used[iid]:
            lines.append(f"{t['consumed']}: {it.name} · {used[iid]} {it.unit}")
    for i in low:
        lines.append(f"{t['below']}: {i.name} · {int(i.stock)}/{int(i.reorder_threshold)} {i.unit}")
    for lot in lots:
        it = names.get(lot.item_id)
        if it is not None:
            label = f" ({lot.lot})" if lot.lot else ""
            lines.append(
                f"{t['expiring']}: {it.name}{label} · {lot.expiry} · {int(lot.remaining)} {it.unit}"
            )
    if low:
        lines.append(t["reorder"].format(url=alerts.reorder_url()))
    return Section(t["title"], lines=lines)
