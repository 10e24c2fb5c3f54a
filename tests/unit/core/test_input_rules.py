"""The shared input rules of ``chalicelib.core.validators``: the base of PATCH bodies (null
only where clearable), the calendar range of dates, ASCII digits in Spanish ids, and the
audit filters clamped to the start of the log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from chalicelib.audit.schemas import LOG_START, AuditQuery
from chalicelib.core import i18n
from chalicelib.core import validators as v
from chalicelib.core.validators import BoundedDate, BoundedDatetime, PartialUpdate


class Address(BaseModel):
    city: str


class Update(PartialUpdate):
    CLEARABLE = frozenset({"notes", "address"})

    name: str | None = Field(default=None, min_length=2)
    language: Literal["es", "en"] | None = None
    active: bool | None = None
    notes: str | None = None
    address: Address | None = None


# --- partial updates -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "language", "active"])
def test_null_on_a_field_that_is_not_clearable_is_an_error_on_that_field(field):
    with pytest.raises(ValidationError) as err:
        Update.model_validate({field: None})
    (e,) = err.value.errors()
    assert e["loc"] == (field,)
    assert i18n.field_message(e, "en").startswith("cannot be empty (null)")
    assert i18n.field_message(e, "es").startswith("no puede quedar vacío (null)")


def test_clearable_fields_take_null_and_omitted_fields_stay_unset():
    u = Update.model_validate({"notes": None, "address": None})
    assert u.model_dump(exclude_unset=True) == {"notes": None, "address": None}
    assert Update.model_validate({}).model_dump(exclude_unset=True) == {}
    assert Update.model_validate({"name": " Ana "}).model_dump(exclude_unset=True) == {
        "name": "Ana"
    }  # the usual rules still apply: stripped, then checked
    with pytest.raises(ValidationError):
        Update.model_validate({"name": "A"})
    with pytest.raises(ValidationError):
        Update.model_validate({"unknown": 1})  # extra fields are refused


def test_the_json_schema_marks_only_clearable_fields_nullable():
    props = Update.model_json_schema()["properties"]
    assert props["name"] == {"minLength": 2, "title": "Name", "type": "string"}
    assert props["language"]["enum"] == ["es", "en"] and "anyOf" not in props["language"]
    assert props["active"]["type"] == "boolean"
    assert {"type": "null"} in props["notes"]["anyOf"]
    assert {"type": "null"} in props["address"]["anyOf"]


def test_a_clearable_name_that_is_not_a_field_fails_at_import():
    with pytest.raises(TypeError, match="nots"):

        class Typo(PartialUpdate):  # noqa: F841 - defining it is the test
            CLEARABLE = frozenset({"nots"})
            notes: str | None = None


# --- dates ---------------------------------------------------------------------------------


class Dates(BaseModel):
    day: BoundedDate | None = None
    at: BoundedDatetime | None = None


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_dates_outside_1900_2100_are_refused_with_a_clear_message(day):
    with pytest.raises(ValidationError) as err:
        Dates.model_validate({"day": day})
    (e,) = err.value.errors()
    assert e["loc"] == ("day",)
    assert i18n.field_message(e, "en") == "must be between 1900-01-01 and 2100-12-31"
    assert i18n.field_message(e, "es") == "debe estar entre 1900-01-01 y 2100-12-31"


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:55:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_date_times_outside_the_range_are_refused(at):
    with pytest.raises(ValidationError) as err:
        Dates.model_validate({"at": at})
    assert [e["loc"] for e in err.value.errors()] == [("at",)]


def test_the_edges_of_the_range_are_accepted_and_stay_representable():
    d = Dates.model_validate(
        {"day": "2100-12-31", "at": "2100-12-31T23:55:00-14:00"}
    )  # the worst case: the latest instant, in the furthest-west offset
    assert d.day == v.MAX_DATE
    assert d.at is not None
    assert (d.at.astimezone(UTC) + timedelta(days=7)).year == 2101
    assert Dates.model_validate({"day": "1900-01-01", "at": "1900-01-01T00:00:00+14:00"}).day
    assert (datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=14))).astimezone(UTC)).year
    assert v.check_date(date(2026, 3, 9)) == date(2026, 3, 9)


# --- ASCII digits in ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "١٢٣٤٥٦٧٨Z",  # the digits of 12345678Z, Arabic-Indic
        "１２３４５６７８Z",  # fullwidth
    ],
)
def test_a_dni_with_other_scripts_digits_is_not_valid(value):
    assert v.valid_dni("12345678Z")
    assert not v.valid_dni(value)
    assert not v.valid_spanish_nif(value)


def test_nie_and_cif_take_ascii_digits_only():
    assert not v.valid_nie("X١٢٣٤٥٦٧L")
    assert not v.valid_cif("A٥٨٨١٨٥٠1")


# --- audit filters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z"],
)
def test_audit_dates_before_the_log_read_as_its_start(value):
    q = AuditQuery.model_validate({"from": value, "to": value})
    assert q.date_from == LOG_START and q.date_to == LOG_START


def test_audit_dates_after_the_start_are_kept():
    q = AuditQuery.model_validate(
        {"from": "2026-01-01T00:00:00+01:00", "to": "9999-12-31T23:59:59-14:00"}
    )
    assert q.date_from == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert q.date_to is not None and q.date_to.year == 9999
