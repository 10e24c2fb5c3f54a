"""The low-stock alert: sent by the one movement that took an item's stock from at or above
its reorder threshold to below it (decided inside that movement's transaction, ADR 1202).

An ``inventory.stock_low`` event (the live socket shows a toast to staff who read inventory)
and one email to the clinic's admins, with a link to the inventory filtered below threshold.
The email goes after the commit: if the mail service fails, the alert is logged and not
retried (the item stays on the below-threshold list and in the end-of-day email).
"""

from __future__ import annotations

from typing import Any

from chalicelib.comms import templates
from chalicelib.core import events, mail
from chalicelib.core.config import settings
from chalicelib.core.observability import logger
from chalicelib.identity.models import Clinic
from chalicelib.identity.service import admin_emails
from chalicelib.inventory.models import InventoryItem

T = {
    "es": {
        "subject": "{clinic}: stock bajo de {name}",
        "intro": "{name} ({sku}) ha bajado del umbral de pedido.",
        "stock": "Existencias",
        "threshold": "Umbral de pedido",
        "reorder": "Cantidad a pedir",
        "link": "Ver lo que hay que pedir: {url}",
        "footer": "Aviso de inventario de Cúspide para {clinic}.",
    },
    "en": {
        "subject": "{clinic}: low stock of {name}",
        "intro": "{name} ({sku}) has dropped below its reorder threshold.",
        "stock": "In stock",
        "threshold": "Reorder threshold",
        "reorder": "Reorder quantity",
        "link": "See what to reorder: {url}",
        "footer": "Cúspide inventory alert for {clinic}.",
    },
}


def reorder_url() -> str:
    return f"{settings().app_url}/inventory?below=1"


def stock_low(clinic_id: str, actor: dict[str, Any], item: InventoryItem) -> None:
    events.publish(
        "inventory.stock_low",
        clinic_id,
        actor,
        item_id=item.item_id,
        count=int(item.stock),
    )
    try:
        c = Clinic.get(*Clinic.key(clinic_id))
        lang = templates.lang_of(c.language)
        t = T[lang]
        unit = item.unit
        r = templates.sections_email(
            brand=templates.Brand.of(c),
            lang=lang,
            subject=t["subject"].format(clinic=c.name, name=item.name),
            intro=t["intro"].format(name=item.name, sku=item.sku),
            sections=[
                templates.Section(
                    item.name,
                    rows=[
                        (t["stock"], f"{int(item.stock)} {unit}"),
                        (t["threshold"], f"{int(item.reorder_threshold)} {unit}"),
                        (t["reorder"], f"{int(item.reorder_quantity)} {unit}"),
                    ],
                    lines=[t["link"].format(url=reorder_url())],
                )
            ],
            footer=t["footer"].format(clinic=c.name),
        )
        for address in admin_emails(clinic_id):
            if not mail.is_undeliverable(address):
                mail.send(to=address, subject=r.subject, text=r.text, html=r.html)
    except Exception:  # the alert's record is the item's flag and list; never fail the movement
        logger.exception("low-stock email not sent", extra={"clinic_id": clinic_id})
