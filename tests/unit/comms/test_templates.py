"""Email rendering (Spanish and English, branded, HTML and plain text), without AWS."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from chalicelib.comms import eod, templates

MADRID = ZoneInfo("Europe/Madrid")
START = datetime(2026, 3, 10, 9, 30, tzinfo=MADRID)  # a Tuesday
BRAND = templates.Brand(
    name="Clínica Demo",
    colour="#1d4ed8",
    logo_url="https://cdn.example/logo.png",
    phone="+34 910 000 000",
    address="Calle Mayor 12, Madrid",
)


def _render(kind: str, lang: str, **over):
    args = {
        "brand": BRAND,
        "lang": lang,
        "patient_name": "Marta",
        "start_local": START,
        "professional": "Dra. Lucía Martín",
        "reason": "Revisión",
        "confirm_url": "https://app.example/c",
        "cancel_url": "https://app.example/x",
        "has_ics": True,
        **over,
    }
    return templates.appointment_email(kind, **args)


def test_dates_in_each_language():
    assert templates.when(START, "es") == "martes, 10 de marzo de 2026, 09:30"
    assert templates.when(START, "en") == "Tuesday, 10 March 2026, 09:30"
    assert templates.short_when(START, "es") == "10/03/2026 09:30"


def test_language_falls_back_to_spanish():
    assert templates.lang_of("en") == "en"
    assert templates.lang_of("fr") == "es" and templates.lang_of(None) == "es"


def test_booking_in_spanish_and_english():
    es = _render("booking", "es")
    assert es.subject == "Clínica Demo: su cita del 10/03/2026 09:30"
    assert es.text.startswith("Hola, Marta:")
    assert "Confirmar asistencia: https://app.example/c" in es.text
    assert "Cancelar la cita: https://app.example/x" in es.text
    assert "caducan en 48 horas" in es.text and "archivo adjunto" in es.text
    assert 'lang="es"' in es.html and "martes, 10 de marzo de 2026, 09:30" in es.html
    en = _render("booking", "en")
    assert en.subject == "Clínica Demo: your appointment on 10 Mar 2026 09:30"
    assert en.text.startswith("Hello Marta,")
    assert "Confirm attendance: https://app.example/c" in en.text
    assert 'lang="en"' in en.html and "Tuesday, 10 March 2026, 09:30" in en.html
    assert "Hola" not in en.text and "Hello" not in es.text


def test_branding_in_html():
    r = _render("reminder", "es")
    assert "#1d4ed8" in r.html and 'src="https://cdn.example/logo.png"' in r.html
    assert "Calle Mayor 12, Madrid · +34 910 000 000" in r.text
    assert r.subject.startswith("Recordatorio:")


def test_every_kind_renders_in_both_languages():
    for kind in ("booking", "reminder", "reschedule", "cancellation", "missed"):
        for lang in ("es", "en"):
            r = _render(kind, lang, confirm_url=None, cancel_url=None, has_ics=False)
            assert r.subject and r.text and r.html.startswith("<!doctype html>")
            assert "{" not in r.subject and "{" not in r.text, (kind, lang)


def test_missed_visit_has_no_details_table_nor_links():
    r = _render("missed", "es", confirm_url=None, cancel_url=None, has_ics=False)
    assert "echamos de menos" in r.subject
    assert "Dra. Lucía Martín" not in r.text and "<table" not in r.html
    assert "http" not in r.text


def test_values_are_escaped_in_html():
    r = _render(
        "booking",
        "es",
        patient_name="<script>alert(1)</script>",
        reason='"><img src=x>',
        confirm_url='https://app.example/c?a=1&b="2"',
    )
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html
    assert "<img src=x>" not in r.html
    assert 'href="https://app.example/c?a=1&amp;b=&quot;2&quot;"' in r.html


def test_brand_of_a_clinic():
    clinic = SimpleNamespace(
        name="Clínica Norte",
        branding={"color": "#123456"},
        address={"street": "Gran Vía 1", "city": "Bilbao", "phone": "+34 944 000 000"},
    )
    b = templates.Brand.of(clinic)
    assert (b.colour, b.address, b.phone) == ("#123456", "Gran Vía 1, Bilbao", "+34 944 000 000")
    plain = templates.Brand.of(SimpleNamespace(name="X", branding=None, address=None))
    assert plain.colour == templates.DEFAULT_COLOUR and plain.address is None


def test_sections_email_and_money():
    r = templates.sections_email(
        brand=BRAND,
        lang="en",
        subject="Summary",
        intro="Summary of today.",
        sections=[
            templates.Section("Today's appointments", rows=[("Completed", "7")]),
            templates.Section("Tomorrow", lines=["09:00 · Marta Ruiz · Revisión"]),
        ],
        footer="footer",
    )
    assert "Completed: 7" in r.text and "- 09:00 · Marta Ruiz · Revisión" in r.text
    assert "<li>09:00 · Marta Ruiz · Revisión</li>" in r.html
    assert eod._euros(123456, "es") == "1.234,56 €"
    assert eod._euros(123456, "en") == "€1,234.56"
    assert eod._euros(-500, "es") == "-5,00 €" and eod._euros(0, "en") == "€0.00"
