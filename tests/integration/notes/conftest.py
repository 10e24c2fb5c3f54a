from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient


class Notes:
    """Helpers over the notes API for one member of one clinic."""

    def __init__(self, api: Any, token: str) -> None:
        self.api, self.token = api, token

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        fn = getattr(self.api, method)
        r = fn(path, body, token=self.token) if body is not None else fn(path, token=self.token)
        assert r.status == status, (r.status, r.body[:2000])
        return r.json()["data"] if r.body else None

    def patient(self, **over: Any) -> str:
        return create_patient(self.api, self.token, **over)["patient_id"]

    def note(self, patient_id: str, status: int = 201, **body: Any) -> Any:
        body = {"kind": "soap", "subjective": "Dolor en 36", **body}
        return self.call("post", f"/patients/{patient_id}/notes", body, status)

    def sign(self, patient_id: str, note_id: str, status: int = 200) -> Any:
        return self.call("post", f"/patients/{patient_id}/notes/{note_id}/sign", {}, status)

    def amend(self, patient_id: str, note_id: str, status: int = 201, **body: Any) -> Any:
        body = {"reason": "Error de pieza", "text": "Era la 37, no la 36.", **body}
        return self.call("post", f"/patients/{patient_id}/notes/{note_id}/amendments", body, status)

    def search(self, q: str, status: int = 200, **params: Any) -> Any:
        from urllib.parse import urlencode

        return self.call("get", "/notes/search?" + urlencode({"q": q, **params}), status=status)


@pytest.fixture
def dentist(api: Any, clinic: Any) -> dict[str, str]:
    return add_member(api, clinic, "dentist", "Diana Dentista")


@pytest.fixture
def notes(api: Any, dentist: dict[str, str]) -> Notes:
    return Notes(api, dentist["token"])


@pytest.fixture
def admin_notes(api: Any, clinic: Any) -> Notes:
    return Notes(api, clinic.admin_token)


@pytest.fixture
def other_notes(api: Any, other_clinic: Any) -> Notes:
    return Notes(api, other_clinic.admin_token)
