"""iCalendar invitations (RFC 5545 objects, RFC 5546 iTIP methods) for appointments.

One stable UID per appointment; SEQUENCE counts the reschedules and the cancellations undone (a
notice carries a higher SEQUENCE so calendars replace the event); a cancellation is
METHOD:CANCEL with STATUS:CANCELLED and SEQUENCE one above the last request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Cuspide//Citas//ES"


def uid(appointment_id: str) -> str:
    return f"appt-{appointment_id}@cuspide.app"


def build(
    *,
    method: str,
    appointment_id: str,
    start: datetime,
    end: datetime,
    sequence: int,
    summary: str,
    location: str | None,
    description: str | None,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
    stamp: datetime | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT (times in UTC), ready to attach as text/calendar."""
    assert method in ("REQUEST", "CANCEL")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    ev = Event()
    ev.add("uid", uid(appointment_id))
    ev.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    ev.add("dtstart", start.astimezone(UTC))
    ev.add("dtend", end.astimezone(UTC))
    ev.add("sequence", sequence)
    ev.add("summary", summary)
    if location:
        ev.add("location", location)
    if description:
        ev.add("description", description)
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_name)
    ev.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["cn"] = vText(attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    attendee.params["rsvp"] = vText("FALSE")
    ev.add("attendee", attendee)
    cal.add_component(ev)
    return cal.to_ical()
