"""The lab's signed link to one case (ADR 1221): sending (and re-sending) mails it to the lab,
a new link revokes the previous one, staff can revoke it; the lab's changes through it.

Token: :class:`~chalicelib.core.links.LinkSigner` with the purpose ``lab-case`` (a budget or
appointment token never verifies here), subject = the case id. The ``LabLink`` item
(``LLINK#<link id>``, global) says which clinic and case the link is for and whether it is
revoked; the case names its one live link (``link_id``), so a link that is not the case's
current one is refused even before its item is marked revoked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core import audit, mail, scoping
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.errors import ApiError, Conflict, NotFound
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.links import InvalidLink, LinkSigner
from chalicelib.core.observability import logger
from chalicelib.labs import files, schemas, service, status
from chalicelib.labs.models import Lab, LabCase, LabLink

LINKS = LinkSigner("lab-case", ("lab",))
WORK_ES = {
    "crown": "Corona",
    "bridge": "Puente",
    "veneer": "Carilla",
    "inlay_onlay": "Incrustación (inlay/onlay)",
    "implant_crown": "Corona sobre implante",
    "denture": "Prótesis removible",
    "night_guard": "Férula de descarga",
    "aligners": "Alineadores",
    "retainer": "Retenedor",
    "other": "Otro",
}
WORK_EN = {
    "crown": "Crown",
    "bridge": "Bridge",
    "veneer": "Veneer",
    "inlay_onlay": "Inlay/onlay",
    "implant_crown": "Implant crown",
    "denture": "Denture",
    "night_guard": "Night guard",
    "aligners": "Aligners",
    "retainer": "Retainer",
    "other": "Other",
}


def url_of(token: str) -> str:
    return f"{settings().app_url}/api/v1/public/lab-cases/{token}"


def lab_actor(link_id: str, lab: Lab | None) -> dict[str, Any]:
    """The lab, as the author of what it does through its link (audit and events)."""
    return {"type": "link", "id": link_id, "name": f"lab: {lab.name}" if lab else "lab"}


def send(principal: Principal, case_id: str, data: schemas.SendIn) -> schemas.SendOut:
    """Mail the lab a new link (draft -> sent; a remake goes back to sent); the previous link,
    if any, is revoked in the same transaction."""
    cid = principal.clinic_id
    c = service.load_case(cid, case_id, consistent=True)
    if c.status not in status.SENDABLE:
        raise Conflict(
            tr(
                f"A case that is {status.EN[c.status]} is not sent to the lab again.",
                f"Un caso {status.ES[c.status]} no se vuelve a enviar al laboratorio.",
            ),
            code="LAB_CASE_BAD_TRANSITION",
        )
    lab = service.load_lab(cid, c.lab_id)
    at = now()
    link_id = new_id()
    expires = at + timedelta(days=data.valid_days)
    link = LabLink(
        *LabLink.key(link_id),
        clinic_id=cid,
        case_id=case_id,
        lab_id=c.lab_id,
        revoked=False,
        valid_until=expires,
        expires_at=expires + timedelta(days=30),
    )
    extra = [lambda tx: tx.save(link, condition=LabLink.PK.does_not_exist())]
    old_link = c.link_id
    if old_link:
        extra.append(_revoke_op(old_link))
    frm = c.status
    to = "sent" if c.status in ("draft", "returned_for_remake") else c.status
    old = int(c.version)
    c.link_id, c.link_expires_at, c.sent_to = link_id, expires, lab.email
    if to != frm:
        c.status = to
        c.history = [
            *(c.history or []),
            service.history_entry(frm, to, "staff", principal.name or None, None),
        ]
    entry = audit.entry(
        cid,
        principal.actor,
        "lab.case_sent",
        service.ENTITY,
        case_id,
        before={"status": frm},
        after={"status": to, "link_expires_at": expires.isoformat()},
    )
    service.save(cid, c, old, entry, extra)
    token = LINKS.sign(link_id, "lab", case_id, int(expires.timestamp()))
    url = url_of(token)
    emailed = _email(cid, c, lab, url, expires) if data.email else None
    service.publish("lab.case_sent", cid, principal.actor, c, previous_status=frm)
    return schemas.SendOut(
        case=service.get_case(principal, case_id),
        link=url,
        link_expires_at=expires,
        emailed_to=emailed,
    )


def _revoke_op(link_id: str) -> Any:
    stub = LabLink(*LabLink.key(link_id))
    return lambda tx: tx.update(
        stub, actions=[LabLink.revoked.set(True)], condition=LabLink.PK.exists()
    )


def revoke(principal: Principal, case_id: str) -> schemas.CaseOut:
    cid = principal.clinic_id
    c = service.load_case(cid, case_id, consistent=True)
    if not c.link_id:
        raise Conflict(
            tr("This case has no link to revoke.", "Este caso no tiene ningún enlace que revocar."),
            code="LAB_LINK_NONE",
        )
    old = int(c.version)
    link_id = c.link_id
    c.link_id, c.link_expires_at = None, None
    entry = audit.entry(
        cid,
        principal.actor,
        "lab.link_revoked",
        service.ENTITY,
        case_id,
        after={"link_id": link_id},
    )
    service.save(cid, c, old, entry, [_revoke_op(link_id)])
    service.publish("lab.link_revoked", cid, principal.actor, c)
    return service.get_case(principal, case_id)


EMAIL = {
    "es": {
        "subject": "{clinic}: caso de laboratorio para el {due}",
        "lead": "{clinic} le envía un caso: {work}, piezas {teeth}, para el {due}.",
        "cta": "Ver el caso",
        "note": "Desde el enlace puede ver el caso y sus archivos, indicar la fecha de entrega, "
        "subir archivos y marcarlo en fabricación o enviado. Caduca el {until}.",
    },
    "en": {
        "subject": "{clinic}: lab case due {due}",
        "lead": "{clinic} sends you a case: {work}, teeth {teeth}, due {due}.",
        "cta": "Open the case",
        "note": "From the link you can see the case and its files, set the delivery date, upload "
        "files and mark it in progress or shipped. It expires on {until}.",
    },
}


def _email(cid: str, c: LabCase, lab: Lab, url: str, expires: datetime) -> str | None:
    from chalicelib.identity.service import get_clinic  # noqa: PLC0415

    clinic = get_clinic(cid)
    lang = clinic.language if clinic.language in EMAIL else "es"
    t = EMAIL[lang]
    work = (WORK_ES if lang == "es" else WORK_EN).get(c.work_type, c.work_type)
    teeth = ", ".join(str(int(x)) for x in c.teeth or []) or "-"
    fmt = {"clinic": clinic.name, "work": work, "teeth": teeth, "due": c.due_date}
    subject = t["subject"].format(**fmt)
    lead = t["lead"].format(**fmt)
    note = t["note"].format(until=expires.date().isoformat())
    text = "\n".join([lead, "", f"{t['cta']}: {url}", "", note])
    html = (
        f'<p>{escape(lead)}</p><p><a href="{escape(url)}">{escape(t["cta"])}</a></p>'
        f"<p>{escape(note)}</p>"
    )
    try:
        mail.send(to=lab.email, subject=subject, text=text, html=html)
    except Exception:  # noqa: BLE001 - the link is made; staff can copy it or send again
        logger.warning("lab case email failed", extra={"case_id": c.case_id})
        return None
    return lab.email


# --- the lab, through its link -------------------------------------------------------------


class LinkProblem(Exception):  # noqa: N818 - a reason, not an error of ours
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # malformed | tampered | expired | revoked | unavailable


def resolve(token: str) -> tuple[LabLink, LabCase, Lab | None]:
    try:
        claims = LINKS.verify(token)
    except InvalidLink as exc:
        raise LinkProblem(exc.reason) from exc
    try:
        link = LabLink.get(*LabLink.key(claims.link_id), consistent_read=True)
    except DoesNotExist as exc:
        raise LinkProblem("tampered") from exc
    if link.case_id != claims.subject_id or not scoping.is_plain_id(link.clinic_id):
        raise LinkProblem("tampered")
    if link.revoked:
        raise LinkProblem("revoked")
    if link.valid_until <= now():
        raise LinkProblem("expired")
    scoping.adopt(link.clinic_id)
    try:
        c = service.load_case(link.clinic_id, link.case_id, consistent=True)
    except NotFound as exc:
        raise LinkProblem("unavailable") from exc
    if c.link_id != claims.link_id:
        raise LinkProblem("revoked")
    try:
        lab = Lab.get(*Lab.key(link.clinic_id, c.lab_id))
    except DoesNotExist:
        lab = None
    return link, c, lab


def _link_id(link: LabLink) -> str:
    return link.PK.removeprefix("LLINK#")


def lab_move(token: str, target: str, note: str | None) -> LabCase:
    link, c, lab = resolve(token)
    if not status.lab_can_move(c.status, target):
        raise Conflict(status.refusal(c.status, target), code="LAB_CASE_BAD_TRANSITION")
    actor = lab_actor(_link_id(link), lab)
    service.transition(
        link.clinic_id, c, target, actor, "lab", lab.name if lab else None, note or None
    )
    return c


def lab_delivery(token: str, expected: str) -> LabCase:
    link, c, lab = resolve(token)
    if c.status not in status.NOT_BACK:
        raise Conflict(
            tr(
                "The case is already back at the clinic.",
                "El caso ya está de vuelta en la clínica.",
            ),
            code="LAB_CASE_CLOSED",
        )
    actor = lab_actor(_link_id(link), lab)
    old = int(c.version)
    before = c.expected_delivery
    c.expected_delivery = expected
    entry = audit.entry(
        link.clinic_id,
        actor,
        "lab.delivery_date_set",
        service.ENTITY,
        c.case_id,
        before={"expected_delivery": before},
        after={"expected_delivery": expected},
    )
    service.save(link.clinic_id, c, old, entry)
    service.publish("lab.delivery_date_set", link.clinic_id, actor, c)
    return c


def lab_upload(token: str, data: schemas.FileIn) -> schemas.FileUploadOut:
    link, c, lab = resolve(token)
    return files.request_upload(link.clinic_id, c, data, lab_actor(_link_id(link), lab), "lab")


def lab_complete(token: str, file_id: str) -> schemas.FileOut:
    link, c, lab = resolve(token)
    return files.complete(link.clinic_id, c, file_id, lab_actor(_link_id(link), lab), "lab")


def problem_error(exc: LinkProblem) -> ApiError:
    """The JSON answer to a bad link: 404 for one that never was, 410 for a spent one."""
    gone = exc.reason in ("expired", "revoked", "unavailable")
    err = NotFound(
        tr("This lab link is not valid.", "Este enlace de laboratorio no es válido.")
        if not gone
        else tr(
            "This lab link has expired or was revoked; ask the clinic for a new one.",
            "Este enlace de laboratorio ha caducado o se ha revocado; pida uno nuevo a la clínica.",
        ),
        code="LAB_LINK_" + exc.reason.upper(),
    )
    if gone:
        err.status = 410
    return err
