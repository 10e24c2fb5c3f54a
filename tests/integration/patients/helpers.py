"""Helpers shared by the patient, agenda and timeline integration tests."""

from __future__ import annotations

import itertools
import random
from typing import Any

_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_n = itertools.count(1)


def dni() -> str:
    n = random.randint(10_000_000, 99_999_999)  # noqa: S311 - test data
    return f"{n}{_LETTERS[n % 23]}"


def patient_body(**over: Any) -> dict[str, Any]:
    k = next(_n)
    body: dict[str, Any] = {
        "first_name": "Lucía",
        "last_name": f"García{k}",
        "second_last_name": "Muñoz",
        "date_of_birth": f"19{60 + k % 30}-03-{1 + k % 27:02d}",
        "gender": "female",
        "phone": f"+3461{k:07d}",
        "email": f"lucia{k}-{random.randint(0, 10**9)}@example.com",  # noqa: S311
    }
    body.update(over)
    return body


def create_patient(api: Any, token: str, **over: Any) -> dict[str, Any]:
    r = api.post("/patients", patient_body(**over), token=token)
    assert r.status == 201, r.body
    return r.json()["data"]
