"""Bodies nested a thousand levels deep answered 500 (the parser's RecursionError); anything
deeper than jsontext.MAX_DEPTH is a 400 that says so, on staff and public routes."""

from __future__ import annotations

import pytest

from chalicelib.core import jsontext
from tests.integration.patients.helpers import patient_body

DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
# Parses without recursion trouble, but deeper than any document of the API.
FORTY = b'{"first_name":' + b'{"a":' * 40 + b"1" + b"}" * 41


@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT, FORTY], ids=["array", "object", "40"])
def test_deep_bodies_are_a_clear_400(api, clinic, raw):
    for path, token in (("/patients", clinic.admin_token), ("/auth/login", None)):
        r = api.post(path, raw=raw, token=token)
        assert r.status == 400, (path, r.body[:200])
        assert f"more than {jsontext.MAX_DEPTH} levels" in r.json()["message"]
        es = api.post(path, raw=raw, token=token, headers={"Accept-Language": "es"})
        assert es.status == 400 and "niveles" in es.json()["message"]
    # nothing was written: the clinic has no patient
    assert api.get("/patients", token=clinic.admin_token).json()["data"]["items"] == []


def test_ordinary_nesting_still_works(api, clinic):
    address = {"line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013"}
    body = patient_body(address=address)
    assert api.post("/patients", body, token=clinic.admin_token).status == 201
