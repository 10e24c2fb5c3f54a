"""ICS building (RFC 5545 objects, RFC 5546 iTIP methods), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from chalicelib.comms import ics

# RFC 5546 section 4.2.1, "A Group Event Request" (trimmed to one attendee; DTEND without the
# stray digit of the published text, see the RFC's errata).
RFC5546_4_2_1 = (
    "BEGIN:VCALENDAR\r\n"
    "PRODID:-//Example/ExampleCalendarClient//EN\r\n"
    "METHOD:REQUEST\r\n"
    "VERSION:2.0\r\n"
    "BEGIN:VEVENT\r\n"
    "ORGANIZER:mailto:a@example.com\r\n"
    "ATTENDEE;RSVP=TRUE;CUTYPE=INDIVIDUAL;CN=B:mailto:b@example.com\r\n"
    "DTSTAMP:19970611T190000Z\r\n"
    "DTSTART:19970701T200000Z\r\n"
    "DTEND:19970701T210000Z\r\n"
    "SUMMARY:Conference\r\n"
    "UID:calsrv.example.com-873970198738777@example.com\r\n"
    "SEQUENCE:0\r\n"
    "STATUS:CONFIRMED\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)

APPT = "01JQ0000000000000000000000"


def _build(method: str = "REQUEST", sequence: int = 0, **over) -> bytes:
    args = {
        "method": method,
        "appointment_id": APPT,
        "start": datetime(1997, 7, 1, 20, 0, tzinfo=UTC),
        "end": datetime(1997, 7, 1, 21, 0, tzinfo=UTC),
        "sequence": sequence,
        "summary": "Conference",
        "location": None,
        "description": None,
        "organizer_email": "a@example.com",
        "organizer_name": "A",
        "attendee_email": "b@example.com",
        "attendee_name": "B",
        "stamp": datetime(1997, 6, 11, 19, 0, tzinfo=UTC),
        **over,
    }
    return ics.build(**args)


def _event(raw: bytes):
    cal = Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


def test_request_matches_the_rfc_5546_worked_example():
    ours_cal, ours = _event(_build())
    rfc_cal, rfc = _event(RFC5546_4_2_1.encode())
    assert str(ours_cal["METHOD"]) == str(rfc_cal["METHOD"]) == "REQUEST"
    assert str(ours_cal["VERSION"]) == "2.0" and ours_cal.get("PRODID")
    for prop in ("DTSTAMP", "DTSTART", "DTEND"):
        assert ours.decoded(prop) == rfc.decoded(prop), prop
    for prop in ("SUMMARY", "SEQUENCE", "STATUS", "ORGANIZER"):
        assert str(ours[prop]).lower() == str(rfc[prop]).lower(), prop
    assert str(ours["ATTENDEE"]).lower() == str(rfc["ATTENDEE"]).lower()
    # The same lines, byte for byte, as the RFC's text for the UTC date-times.
    text = _build().decode()
    for line in ("DTSTAMP:19970611T190000Z", "DTSTART:19970701T200000Z", "DTEND:19970701T210000Z"):
        assert line + "\r\n" in text


def test_every_property_itip_requires_for_request_and_cancel():
    # RFC 5546 3.2.2 (REQUEST) and 3.2.5 (CANCEL)
    for method, required in (
        ("REQUEST", ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "ATTENDEE")),
        ("CANCEL", ("UID", "DTSTAMP", "ORGANIZER", "ATTENDEE", "SEQUENCE")),
    ):
        cal, ev = _event(_build(method, sequence=1))
        assert str(cal["METHOD"]) == method
        for prop in (*required, "SEQUENCE"):
            assert prop in ev, (method, prop)
    _, cancelled = _event(_build("CANCEL", sequence=1))
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1


def test_uid_is_stable_and_sequence_is_carried():
    _, first = _event(_build(sequence=0))
    _, moved = _event(
        _build(
            sequence=1,
            start=datetime(1997, 7, 2, 9, 0, tzinfo=UTC),
            end=datetime(1997, 7, 2, 9, 30, tzinfo=UTC),
        )
    )
    assert str(first["UID"]) == str(moved["UID"]) == f"appt-{APPT}@cuspide.app"
    assert int(moved["SEQUENCE"]) == int(first["SEQUENCE"]) + 1


def test_local_times_are_written_in_utc():
    madrid = ZoneInfo("Europe/Madrid")
    start = datetime(2026, 3, 10, 9, 30, tzinfo=madrid)  # CET, UTC+1
    raw = _build(start=start, end=start + timedelta(minutes=45))
    _, ev = _event(raw)
    assert ev.decoded("DTSTART") == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    assert ev.decoded("DTEND") - ev.decoded("DTSTART") == timedelta(minutes=45)
    assert b"DTSTART:20260310T083000Z\r\n" in raw


def test_attendee_and_organizer_parameters_and_escaping():
    raw = _build(
        summary="Clínica Demo: Revisión, limpieza; control",
        organizer_name="Clínica Demo",
        attendee_name="Marta Ruiz",
        location="Calle Mayor 12, Madrid",
    )
    _, ev = _event(raw)
    assert str(ev["SUMMARY"]) == "Clínica Demo: Revisión, limpieza; control"
    assert b"SUMMARY:Cl\xc3\xadnica Demo: Revisi\xc3\xb3n\\, limpieza\\; control" in raw.replace(
        b"\r\n ", b""
    )  # RFC 5545 3.3.11: commas and semicolons escaped in TEXT
    att = ev["ATTENDEE"]
    assert att.params["CN"] == "Marta Ruiz" and att.params["ROLE"] == "REQ-PARTICIPANT"
    assert att.params["PARTSTAT"] == "NEEDS-ACTION"
    assert ev["ORGANIZER"].params["CN"] == "Clínica Demo"
    assert str(ev["LOCATION"]) == "Calle Mayor 12, Madrid"


def test_lines_are_folded_at_75_octets_with_crlf():
    # RFC 5545 3.1: content lines are delimited by CRLF and SHOULD NOT exceed 75 octets.
    raw = _build(summary="Tratamiento " * 20, description="Nota larga " * 30)
    assert raw.endswith(b"\r\n")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
    _, ev = _event(raw)
    assert str(ev["SUMMARY"]) == "Tratamiento " * 20


def test_unknown_method_is_refused():
    with pytest.raises(AssertionError):
        _build("PUBLISH")
