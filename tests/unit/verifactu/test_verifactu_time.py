"""FechaHoraHusoGenRegistro in Spanish legal time (ADR 0207): the zone of the territory the
invoice is issued from (Orden HAC/1177/2024 art. 7.e, 7.g), both DST changes, whole seconds
never ahead of the clock, and the one-minute generation order (art. 7.i) 2.º) compared as
instants, not as wall-clock text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.verifactu.format import (
    SPANISH_TIME_ZONES,
    format_fecha_hora_huso,
    parse_fecha_hora_huso,
    spanish_time_zone,
)
from chalicelib.verifactu.records import check_generation_order

# EU rule: both changes happen at 01:00 UTC, in every Spanish zone at the same instant.
SPRING = datetime(2027, 3, 28, 1, 0, 0, tzinfo=UTC)
AUTUMN = datetime(2027, 10, 31, 1, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("zone", "instant", "text"),
    [
        # the peninsula and the Balearic Islands: +01:00 in winter, +02:00 in summer
        ("Europe/Madrid", SPRING - S, "2027-03-28T01:59:59+01:00"),
        ("Europe/Madrid", SPRING, "2027-03-28T03:00:00+02:00"),
        ("Europe/Madrid", AUTUMN - S, "2027-10-31T02:59:59+02:00"),
        ("Europe/Madrid", AUTUMN, "2027-10-31T02:00:00+01:00"),
        # the Canary Islands: +00:00 in winter, +01:00 in summer
        ("Atlantic/Canary", SPRING - S, "2027-03-28T00:59:59+00:00"),
        ("Atlantic/Canary", SPRING, "2027-03-28T02:00:00+01:00"),
        ("Atlantic/Canary", AUTUMN - S, "2027-10-31T01:59:59+01:00"),
        ("Atlantic/Canary", AUTUMN, "2027-10-31T01:00:00+00:00"),
        # Ceuta and Melilla: like the peninsula
        ("Africa/Ceuta", SPRING - S, "2027-03-28T01:59:59+01:00"),
        ("Africa/Ceuta", AUTUMN, "2027-10-31T02:00:00+01:00"),
    ],
)
def test_spanish_legal_time_on_both_sides_of_each_dst_change(zone, instant, text) -> None:
    assert format_fecha_hora_huso(instant, zone) == text
    assert parse_fecha_hora_huso(text) == instant  # the same instant, whatever the zone


def test_the_text_is_truncated_to_the_second_never_ahead_of_the_clock() -> None:
    moment = datetime(2027, 1, 5, 9, 30, 15, 999_999, tzinfo=UTC)
    text = format_fecha_hora_huso(moment, "Europe/Madrid")
    assert text == "2027-01-05T10:30:15+01:00"
    assert parse_fecha_hora_huso(text) <= moment


def test_the_generation_order_compares_instants_across_the_autumn_change() -> None:
    # an hour "earlier" on the wall clock, but 20 seconds later: allowed
    before = format_fecha_hora_huso(AUTUMN - 10 * S, "Europe/Madrid")
    after = format_fecha_hora_huso(AUTUMN + 10 * S, "Europe/Madrid")
    assert (before, after) == ("2027-10-31T02:59:50+02:00", "2027-10-31T02:00:10+01:00")
    check_generation_order(before, after)
    # and between zones (a clinic that moved from the peninsula to the Canary Islands)
    check_generation_order(before, format_fecha_hora_huso(AUTUMN, "Atlantic/Canary"))
    # a clock that went back more than a minute is still refused
    with pytest.raises(ValueError, match="one minute"):
        check_generation_order(after, format_fecha_hora_huso(AUTUMN - 61 * S, "Europe/Madrid"))


@pytest.mark.parametrize(
    ("configured", "postal_code", "used"),
    [
        ("Europe/Madrid", "28013", "Europe/Madrid"),
        ("Atlantic/Canary", "35001", "Atlantic/Canary"),
        ("Africa/Ceuta", "51001", "Africa/Ceuta"),
        # a Spanish zone is kept even if the postal code disagrees (it is the clinic's choice)
        ("Europe/Madrid", "38001", "Europe/Madrid"),
        # any other zone is never used: the territory comes from the postal code...
        ("Europe/London", "35001", "Atlantic/Canary"),
        ("Europe/Lisbon", "38400", "Atlantic/Canary"),
        ("UTC", "51002", "Africa/Ceuta"),
        ("America/New_York", "52001", "Africa/Ceuta"),
        ("Europe/Paris", "07001", "Europe/Madrid"),
        # ...or is the peninsula's without one
        ("America/New_York", None, "Europe/Madrid"),
        ("Atlantic/Madeira", "AB1 2CD", "Europe/Madrid"),
        (None, None, "Europe/Madrid"),
    ],
)
def test_a_clinic_zone_that_is_not_spanish_legal_time_is_mapped(configured, postal_code, used):
    assert spanish_time_zone(configured, postal_code) == used
    assert used in SPANISH_TIME_ZONES
