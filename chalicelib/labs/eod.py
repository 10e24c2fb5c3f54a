"""The labs section of the end-of-day email (chalicelib/comms/eod.py imports this module): the
cases overdue or not back 48 h before their fitting appointment, read from the alert index."""

from __future__ import annotations

from datetime import date

from chalicelib.comms.templates import Section
from chalicelib.core.config import settings

MAX_LINES = 20
TEXT = {
    "es": {
        "title": "Laboratorio: casos que requieren atención",
        "overdue": "fuera de plazo (para el {due})",
        "not_back": "no ha vuelto y se coloca el {start}",
        "more": "y {n} más",
        "open": "Ver los casos de laboratorio: {url}",
    },
    "en": {
        "title": "Lab: cases that need attention",
        "overdue": "overdue (due {due})",
        "not_back": "not back and fitted on {start}",
        "more": "and {n} more",
        "open": "See the lab cases: {url}",
    },
}


def section(clinic_id: str, day: date, lang: str) -> Section | None:
    """None when nothing needs attention (the email then has no labs section)."""
    from chalicelib.labs import link, service  # noqa: PLC0415 - light import for the eod job

    page = service.alert_page(clinic_id, MAX_LINES + 1)
    if not page.items:
        return None
    t = TEXT.get(lang, TEXT["es"])
    work = link.WORK_ES if lang == "es" else link.WORK_EN
    lines = []
    for c in page.items[:MAX_LINES]:
        why = []
        if "overdue" in c.alerts:
            why.append(t["overdue"].format(due=c.due_date.isoformat()))
        if "not_back" in c.alerts and c.appointment_start:
            why.append(t["not_back"].format(start=c.appointment_start[:16].replace("T", " ")))
        teeth = ", ".join(str(x) for x in c.teeth)
        lines.append(
            f"{c.patient_name or ''} · {work.get(c.work_type, c.work_type)} {teeth} · "
            f"{c.lab_name or ''}: {'; '.join(why)}"
        )
    if len(page.items) > MAX_LINES or page.next_cursor:
        lines.append(t["more"].format(n=max(1, len(page.items) - MAX_LINES)))
    lines.append(t["open"].format(url=f"{settings().app_url}/labs"))
    return Section(t["title"], lines=lines)
