import pytest

from chalicelib.core import validators as v


@pytest.mark.parametrize("value", ["12345678Z", "00000000T", "12.345.678-z"])
def test_valid_dni(value):
    assert v.valid_dni(value)


@pytest.mark.parametrize("value", ["12345678A", "1234567Z", "ABCDEFGHZ", ""])
def test_invalid_dni(value):
    assert not v.valid_dni(value)


def test_nie_check_letter():
    assert v.valid_nie("X1234567L")
    assert v.valid_nie("Y1234567X")
    assert not v.valid_nie("X1234567A")
    assert not v.valid_nie("W1234567L")


def test_cif_control_character():
    assert v.valid_cif("Q2826000H")  # the AEAT's own NIF
    assert v.valid_cif("A58818501")
    assert not v.valid_cif("A58818502")
    assert v.valid_spanish_nif("B12345674")
    assert not v.valid_spanish_nif("B12345675")


def test_time_zones():
    assert v.valid_time_zone("Europe/Madrid")
    assert v.valid_time_zone("Atlantic/Canary")
    assert not v.valid_time_zone("Mars/Olympus")
    assert not v.valid_time_zone("../../etc/passwd")
