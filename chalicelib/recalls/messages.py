"""The messages recalls and follow-ups send: composed here, sent through communications
(the patient's consented channel, the clinic's branding, the developer outbox locally) and kept
as the patient's messages (so they are on the record and, through ``message.sent``, on the
timeline). Email only: WhatsApp reaches a patient outside a conversation only with an approved
template about an appointment (ADR 0662), which a recall is not (ADR 1404).

A patient without a channel (no email, no consent, an address that bounced) gets nothing; a
``skipped`` message (no event) records it, as communications does for its notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from chalicelib.booking.invites import invite_url
from chalicelib.comms import service as comms
from chalicelib.comms import templates
from chalicelib.core import mail
from chalicelib.patients.models import Patient

KINDS = ("recall", "followup_budget", "followup_plan", "followup_noshow")


@dataclass
class Outcome:
    status: str  # sent | skipped
    channel: str | None
    reason: str | None  # no_channel | no_consent | undeliverable (when skipped)
    message_id: str | None


_WORDS = {
    "recall": (
        ("Time for your {what}", "Ya toca tu {what}"),
        (
            "It is time for your {what}. Book the day and time that suit you with the button "
            "below, or call us.",
            "Ya toca tu {what}. Reserva el día y la hora que te vengan bien con el botón, o "
            "llámanos.",
        ),
    ),
    "followup_plan": (
        ("Your treatment is waiting", "Tu tratamiento te espera"),
        (
            "You have treatment planned with us and no appointment yet. Book it with the "
            "button below, or call us.",
            "Tienes un tratamiento planificado con nosotros y aún no tienes cita. Resérvala "
            "con el botón, o llámanos.",
        ),
    ),
    "followup_noshow": (
        ("We missed you", "Te echamos de menos"),
        (
            "We missed you at your last appointment. Book a new one with the button below, "
            "or call us.",
            "No pudiste venir a tu última cita. Reserva una nueva con el botón, o llámanos.",
        ),
    ),
    "followup_budget": (
        ("Your estimate {what}", "Tu presupuesto {what}"),
        (
            "We sent you the estimate {what} a few days ago. If you have any question about "
            "it, call us or reply to this email: we will be glad to help.",
            "Te enviamos el presupuesto {what} hace unos días. Si tienes cualquier duda, "
            "llámanos o responde a este email: te ayudamos encantados.",
        ),
    ),
}


def render(
    clinic_id: str, p: Patient, kind: str, what: str, link: str | None
) -> templates.Rendered:
    c = comms.clinic(clinic_id)
    lang = templates.lang_of(p.language)
    i = 0 if lang == "en" else 1
    subject = _WORDS[kind][0][i].format(what=what)
    body = _WORDS[kind][1][i].format(what=what)
    hello = f"Hello {p.first_name}," if lang == "en" else f"Hola, {p.first_name}:"
    brand = templates.Brand.of(c)
    label = "Book online" if lang == "en" else "Reservar cita"
    blocks = f"<p>{escape(hello)}</p><p>{escape(body)}</p>"
    text = f"{hello}\n\n{body}\n"
    if link:
        blocks += (
            f'<p><a href="{escape(link)}" style="background:{escape(brand.colour)};color:#fff;'
            f'padding:10px 16px;border-radius:6px;text-decoration:none;display:inline-block">'
            f"{escape(label)}</a></p>"
        )
        text += f"\n{label}: {link}\n"
    footer = brand.phone or brand.name
    html = templates.layout(brand, lang, subject, blocks, footer)
    return templates.Rendered(subject=subject, text=f"{text}\n{brand.name}", html=html)


def booking_link(clinic_id: str, patient_id: str, type_id: str | None, ref: str) -> str:
    return invite_url(clinic_id, patient_id, type_id=type_id, ref=ref)


def send(clinic_id: str, p: Patient, kind: str, what: str, link: str | None) -> Outcome:
    """Send one message to the patient's consented email, or record why not."""
    route, why = comms.route_for(clinic_id, p, ["email"])
    r = render(clinic_id, p, kind, what, link)
    if route is None:
        m = comms.new_message(
            clinic_id,
            patient_id=p.patient_id,
            channel="email",
            direction="out",
            kind=kind,
            status="skipped",
            subject=r.subject,
            error={"reason": why},
        )
        m.save()
        return Outcome("skipped", None, why or "no_channel", m.message_id)
    provider_id = mail.send(to=route.address, subject=r.subject, text=r.text, html=r.html)
    m = comms.new_message(
        clinic_id,
        patient_id=p.patient_id,
        channel="email",
        direction="out",
        kind=kind,
        status="sent",
        subject=r.subject,
        text=r.text,
        provider_id=provider_id,
    )
    m.save()
    comms.emit_message_event(clinic_id, m)
    return Outcome("sent", "email", None, m.message_id)
