"""Demo communications of Clínica Demo (docs/adr/0704): reminder lead times 24 h and 2 h, each
patient's consent per channel (most by email, some by WhatsApp, one withdrawn, one address that
bounced), a WhatsApp connection pointed at the local Graph API stand-in, a few inbound WhatsApp
conversations, and three fresh notices for the developer outbox.

What a developer sees, and why:

- The agenda seed books a couple of hundred appointments through the agenda service, so their
  events are already waiting on the notifications queue when this runs. Sent once the stack
  starts, they would flood the outbox with booking confirmations of appointments "made" weeks
  ago, and notices of past no-shows and cancellations. The story instead: the clinic had its
  agenda before it switched on patient communications. So this seed drops those queued events
  (the appointments, their audit entries and timelines are untouched), plans the reminders of
  the future appointments directly, and only then records the consents.
- Then it books two appointments and cancels one, through the agenda service like staff would:
  once the stack is up, the outbox shows a booking confirmation (HTML, text and an ICS
  invitation), a WhatsApp booking template and a cancellation (METHOD:CANCEL).
- From then on reminders arrive as the real schedule makes them due (24 h and 2 h before each
  appointment, a handful an hour), and the end-of-day summary at 16:00 Madrid time.

Everything goes through the services (audit, encryption, signatures), as staff and Meta would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, time, timedelta

from chalicelib.agenda import schemas as agenda_schemas
from chalicelib.agenda import service as agenda
from chalicelib.agenda.models import Appointment
from chalicelib.comms import scheduling, schemas, service, whatsapp
from chalicelib.core import aws, mail
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.db import clinic_pk
from chalicelib.core.ids import now
from chalicelib.patients import service as patients
from infra.local.seed.context import DemoContext

# The demo clinic's WhatsApp credentials: fake, and only ever sent to the local stand-in.
PHONE_NUMBER_ID = "109000000000001"
WABA_ID = "209000000000001"
ACCESS_TOKEN = "EAAG-local-demo-access-token-not-real"  # noqa: S105
APP_SECRET = "local-demo-app-secret-not-real"  # noqa: S105
VERIFY_TOKEN = "local-demo-verify-token-not-real"  # noqa: S105

INBOUND = [
    "Hola, ¿podría pasar mi cita del jueves a la tarde? Gracias.",
    "Perfecto, allí estaré. ¡Gracias!",
    "Buenos días, ¿tengo que venir en ayunas para la limpieza?",
]


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    cid = ctx.demo_clinic_id
    admin, reception = ctx.demo["admin"], ctx.demo["receptionist"]
    _drop_queued_notices()
    service.put_settings(
        admin, schemas.SettingsIn(reminder_leads_min=[24 * 60, 120], eod_enabled=True)
    )
    _plan_reminders(cid)
    for clinic_id in (cid, ctx.norte_clinic_id):
        scheduling.ensure_eod(clinic_id)
    whatsapp.put_config(
        admin,
        schemas.WhatsAppIn(
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            access_token=ACCESS_TOKEN,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
        ),
    )
    email_ok, wa_ok = _consents(reception, patient_ids)
    _conversations(cid, wa_ok[: len(INBOUND)])
    _fresh_notices(ctx, email_ok, wa_ok)


def _drop_queued_notices() -> None:
    """Drop the agenda seed's appointment events from the notifications queue (see above)."""
    name = next(q for q in settings().queue_names if q.endswith("-notifications"))
    sqs = aws.client("sqs")
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _plan_reminders(clinic_id: str) -> None:
    """What the notifications consumer would have planned for the seeded appointments (only
    lead times still ahead, only scheduled or confirmed appointments)."""
    at = now()
    for a in Appointment.query(clinic_pk(clinic_id), Appointment.SK.startswith("APPT#")):
        if isinstance(a, Appointment) and service.start_utc(a) > at:
            scheduling.plan_reminders(clinic_id, a, at, replace=False)  # none planned yet


def _consents(reception: Principal, patient_ids: list[str]) -> tuple[list[str], list[str]]:
    """Most patients agreed to email on the registration form; some to WhatsApp too."""
    cid = reception.clinic_id
    email_ok: list[str] = []
    wa_ok: list[str] = []
    for i, pid in enumerate(patient_ids):
        p = patients.load(cid, pid)
        if p.email and i % 6 != 5:
            service.set_consent(
                reception, pid, "email", schemas.ConsentIn(granted=True, source="paper_form")
            )
            email_ok.append(pid)
        if p.whatsapp_sealed and p.preferred_channel == "whatsapp" and i % 3 == 1:
            service.set_consent(
                reception, pid, "whatsapp", schemas.ConsentIn(granted=True, source="verbal")
            )
            wa_ok.append(pid)
    # Of those reached by email only, one later asked for no more mail and one address bounces.
    email_only = [pid for pid in email_ok if pid not in wa_ok]
    withdrawn, bounced = email_only[-1], email_only[-2]
    service.set_consent(
        reception, withdrawn, "email", schemas.ConsentIn(granted=False, source="phone_call")
    )
    email_ok.remove(withdrawn)
    address = patients.load(cid, bounced).email
    assert address
    mail.mark_undeliverable(address, "bounce", "General")
    email_ok.remove(bounced)
    return email_ok, wa_ok


def _conversations(clinic_id: str, patient_ids: list[str]) -> None:
    """Patients wrote to the clinic's number: delivered as Meta does, signed webhook and all."""
    for n, (pid, text) in enumerate(zip(patient_ids, INBOUND, strict=False)):
        number = service.whatsapp_number(clinic_id, patients.load(clinic_id, pid))
        assert number
        doc = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                "messages": [
                                    {
                                        "from": number.lstrip("+"),
                                        "id": f"wamid.DEMO{n:04d}{int(now().timestamp())}",
                                        "timestamp": str(int(now().timestamp())),
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(doc).encode()
        sig = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        whatsapp.handle_webhook(clinic_id, raw, sig)


def _fresh_notices(ctx: DemoContext, email_ok: list[str], wa_ok: list[str]) -> None:
    """Book for an email patient and a WhatsApp patient, and cancel one appointment: their
    events reach the notifications queue now and the notices go out once the stack starts."""
    reception = ctx.demo["receptionist"]
    email_only = [pid for pid in email_ok if pid not in wa_ok]
    for pid in (email_only[0], wa_ok[0]):
        _book_next_free(ctx, pid)
    today = date.today()
    for offset in range(1, 15):
        q = agenda_schemas.DayQuery(date=today + timedelta(days=offset))
        for a in agenda.day_view(reception, q).appointments:
            if a.status == "scheduled" and a.patient_id in email_only[1:]:
                agenda.change_status(
                    reception,
                    a.appointment_id,
                    agenda_schemas.StatusIn(
                        status="cancelled",  # type: ignore[arg-type]
                        reason="La paciente avisó por teléfono",
                    ),
                )
                return


def _book_next_free(ctx: DemoContext, patient_id: str) -> None:
    """The first free half hour from tomorrow on (the agenda seed filled most of them), found
    from each day's view rather than by trying bookings until one is not refused."""
    cid, reception = ctx.demo_clinic_id, ctx.demo["receptionist"]
    pros = [m.user_id for m in agenda.professionals(cid)]
    cabinets = [c.cabinet_id for c in agenda.cabinets(cid)]
    for offset in range(1, 22):
        day = agenda.day_view(
            reception, agenda_schemas.DayQuery(date=date.today() + timedelta(days=offset))
        )
        if day.closed:
            continue
        busy = [a for a in day.appointments if a.status not in ("cancelled", "no_show")]
        for block in day.hours:
            t = datetime.combine(day.date, time.fromisoformat(block.start))
            while t + timedelta(minutes=30) <= datetime.combine(
                day.date, time.fromisoformat(block.end)
            ):
                end = t + timedelta(minutes=30)
                clash = [
                    a
                    for a in busy
                    if a.start.replace(tzinfo=None) < end and t < a.end.replace(tzinfo=None)
                ]
                taken = {a.cabinet_id for a in clash} | {a.professional_id for a in clash}
                free = [(c, p) for c in cabinets for p in pros if not {c, p} & taken]
                if any(a.patient_id == patient_id for a in clash):
                    free = []  # the patient is in another chair then (409 patient clash)
                if free:
                    cab, pro = free[0]
                    agenda.create(
                        reception,
                        agenda_schemas.AppointmentIn(
                            patient_id=patient_id,
                            professional_id=pro,
                            cabinet_id=cab,
                            start=t,
                            duration_min=30,
                            reason="Revisión",
                            colour="teal",  # type: ignore[arg-type]
                        ),
                    )
                    return
                t += timedelta(minutes=15)
