import pytest

from chalicelib.core.db import decode_cursor, encode_cursor
from chalicelib.core.errors import BadRequest


def test_round_trip():
    lek = {"PK": {"S": "C#a"}, "SK": {"S": "AUDIT#01"}}
    assert decode_cursor(encode_cursor(lek), partition=("PK", "C#a")) == lek


def test_cursor_of_another_clinic_is_refused():
    cursor = encode_cursor({"PK": {"S": "C#other"}, "SK": {"S": "AUDIT#01"}})
    with pytest.raises(BadRequest):
        decode_cursor(cursor, partition=("PK", "C#mine"))


@pytest.mark.parametrize("junk", ["%%%", "bm90IGpzb24", "WzEsMl0", "eyJQSyI6IDF9"])
def test_garbage_cursor_is_a_400(junk):
    with pytest.raises(BadRequest):
        decode_cursor(junk, partition=("PK", "C#mine"))


def test_no_cursor_means_first_page():
    assert decode_cursor(None, partition=("PK", "x")) is None
    assert encode_cursor(None) is None
