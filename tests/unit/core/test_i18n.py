"""Accept-Language negotiation, bilingual messages and pydantic's messages in Spanish."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from chalicelib.core.i18n import Text, field_message, negotiate, render, tr


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("es", "es"),
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("en-GB,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,es;q=0.5", "es"),  # French is not offered: the next one that is
        ("fr, de", "en"),
        ("en;q=0.2, es;q=0.7", "es"),  # q-values, not order, decide
        ("es;q=0, en", "en"),  # q=0 means "not this"
        ("es;q=abc, en;q=0.1", "en"),  # a malformed q is ignored, not a 500
        ("ES", "es"),
        ("*", "en"),
        (";;;,,,", "en"),
    ],
)
def test_negotiate(header, lang):
    assert negotiate(header) == lang


def test_a_bilingual_message_is_its_english_text_everywhere_but_in_spanish_answers():
    m = tr("That day is already a closed day.", "Ese día ya está cerrado.")
    assert isinstance(m, str) and m == "That day is already a closed day."
    assert f"{m}" == "That day is already a closed day."  # logs and f-strings see English
    assert render(m, "es") == "Ese día ya está cerrado."
    assert render(m, "en") == "That day is already a closed day."
    assert type(render(m, "en")) is str  # JSON encoders see a plain string
    assert render("plain English", "es") == "plain English"  # untranslated stays as it was
    assert render(None, "es") is None


class _Form(BaseModel):
    name: str = Field(min_length=2)
    age: int = Field(ge=0)
    nif: str

    @field_validator("nif")
    @classmethod
    def _nif(cls, v: str) -> str:
        raise ValueError(tr("the check letter does not match", "la letra no corresponde"))


def _errors(payload: dict) -> dict[str, dict]:
    with pytest.raises(ValidationError) as exc:
        _Form.model_validate(payload)
    return {str(e["loc"][0]): e for e in exc.value.errors(include_url=False)}


def test_pydantic_messages_in_spanish_by_type_with_their_limits():
    errs = _errors({"name": "A", "age": -1, "nif": "x"})
    assert field_message(errs["name"], "es") == "Debe tener al menos 2 caracteres"
    assert field_message(errs["age"], "es") == "Debe ser 0 o más"
    assert field_message(errs["name"], "en") == "String should have at least 2 characters"
    missing = _errors({"age": 1, "nif": "x"})["name"]
    assert field_message(missing, "es") == "Este campo es obligatorio"


def test_a_validators_own_message_in_both_languages_without_the_value_error_prefix():
    err = _errors({"name": "Ana", "age": 1, "nif": "x"})["nif"]
    assert field_message(err, "es") == "la letra no corresponde"
    assert field_message(err, "en") == "the check letter does not match"


def test_text_keeps_its_spanish_through_pydantic():
    t = Text("en", "es")
    assert isinstance(t, str) and t.es == "es"
