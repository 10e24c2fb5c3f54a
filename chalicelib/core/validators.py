"""Validators shared by several modules: Spanish ids, IANA zones, currencies, colours."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"^(\d{8})([A-Z])$")
_NIE = re.compile(r"^([XYZ])(\d{7})([A-Z])$")
_CIF = re.compile(r"^([ABCDEFGHJNPQRSUVW])(\d{7})([0-9A-J])$")
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
