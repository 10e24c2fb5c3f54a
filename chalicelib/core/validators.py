"""Validators shared by several modules: Spanish ids, IANA zones, currencies, colours, the
calendar range of dates, and the base of partial-update (PATCH) bodies."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from chalicelib.core.i18n import tr

# [0-9], not \d: Python's \d also matches other scripts' digits ("١٢٣٤٥٦٧٨Z" would pass).
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"^([0-9]{8})([A-Z])$")
_NIE = re.compile(r"^([XYZ])([0-9]{7})([A-Z])$")
_CIF = re.compile(r"^([ABCDEFGHJNPQRSUVW])([0-9]{7})([0-9A-J])$")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CURRENCIES = frozenset({"EUR", "USD", "GBP", "CHF", "MXN", "ARS", "CLP", "COP", "PEN"})


def normalise_id(value: str) -> str:
    return re.sub(r"[\s\-.]", "", value).upper()


def valid_dni(value: str) -> bool:
    m = _DNI.match(normalise_id(value))
    return bool(m) and _DNI_LETTERS[int(m.group(1)) % 23] == m.group(2)


def valid_nie(value: str) -> bool:
    m = _NIE.match(normalise_id(value))
    if not m:
        return False
    number = int("XYZ".index(m.group(1)).__str__() + m.group(2))
    return _DNI_LETTERS[number % 23] == m.group(3)


def valid_cif(value: str) -> bool:
    """Spanish company tax id (CIF/NIF of a legal entity), with its control character."""
    m = _CIF.match(normalise_id(value))
    if not m:
        return False
    letter, digits, control = m.groups()
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    check = (10 - (even + odd) % 10) % 10
    if letter in "PQRSNW":
        return control == "JABCDEFGHI"[check]
    if letter in "ABEH":
        return control == str(check)
    return control in (str(check), "JABCDEFGHI"[check])


def valid_spanish_nif(value: str) -> bool:
    """Any Spanish tax id: DNI, NIE or CIF."""
    return valid_dni(value) or valid_nie(value) or valid_cif(value)


def valid_time_zone(value: str) -> bool:
    if value not in available_timezones():
        return False
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:
        return False
    return True


# --- dates -----------------------------------------------------------------------------------

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
"""The calendar the API accepts in dates and date-times it is sent (docs/api.md): far enough
for any birth date, appointment, invoice or photo, and far from the edges where converting
between time zones, adding a duration or making a time-sortable id overflows (year 1, 9999)."""


def _out_of_range() -> ValueError:
    return ValueError(
        tr(
            f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}",
            f"debe estar entre {MIN_DATE.isoformat()} y {MAX_DATE.isoformat()}",
        )
    )


def check_date(value: date) -> date:
    """``value`` when it is in [MIN_DATE, MAX_DATE]; a ValueError for a 422 otherwise."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise _out_of_range()
    return value


def check_datetime(value: datetime) -> datetime:
    """Same for a date-time: its own (wall-clock) date is checked, so converting it to any
    offset, or adding a day to it, stays representable."""
    check_date(value.date())
    return value


BoundedDate = Annotated[date, AfterValidator(check_date)]
"""A date between MIN_DATE and MAX_DATE."""
BoundedDatetime = Annotated[datetime, AfterValidator(check_datetime)]
"""A date-time whose date is between MIN_DATE and MAX_DATE."""


# --- partial updates -------------------------------------------------------------------------

_NULL = {"type": "null"}


class PartialUpdate(BaseModel):
    """The body of a PATCH: only the fields sent change (read with
    ``model_dump(exclude_unset=True)`` or ``model_fields_set``).

    Fields are typed ``X | None = None`` so that an omitted field reads as None, but an
    explicit ``null`` only clears the fields a subclass names in ``CLEARABLE`` (optional data:
    a second surname, notes, a colour). Every other field answers ``null`` with a 422 on that
    field, so a required value (a clinic's time zone, a treatment's price) can never be
    written as null. A new field is therefore not clearable until it is listed: forgetting to
    list it costs a 422, never a stored null. The OpenAPI schema says the same: only the
    clearable fields are nullable.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    CLEARABLE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unknown = cls.CLEARABLE - set(cls.model_fields)
        if unknown:
            raise TypeError(f"{cls.__name__}.CLEARABLE names no field: {sorted(unknown)}")

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.CLEARABLE:
            raise ValueError(
                tr(
                    "cannot be empty (null); leave it out to keep the current value",
                    "no puede quedar vacío (null); omítelo para conservar el valor actual",
                )
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name, prop in properties.items():
            if name in cls.CLEARABLE or _NULL not in prop.get("anyOf", ()):
                continue
            rest = [s for s in prop.pop("anyOf") if s != _NULL]
            if len(rest) == 1:
                prop.update(rest[0])
            else:
                prop["anyOf"] = rest
            if "default" in prop and prop["default"] is None:
                del prop["default"]
        return schema
