"""Messages in the caller's language: English (the default) and Spanish.

An API error's message is written once with both wordings, ``tr("English", "Español")``: the
result is a ``str`` (the English one, which logs, tests and every other caller see) that also
carries its Spanish wording. The route wrapper answers in the language the request asks for
(``Accept-Language``, RFC 9110 §12.5.4), so the staff SPA, which sends its own language, shows
the API's messages in Spanish. Pydantic's own validation messages are translated by their error
type (``field_message``). docs/adr/0009-api-messages-in-the-callers-language.md.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "es")
DEFAULT = "en"


class Text(str):
    """An English message that knows its Spanish wording."""

    es: str

    def __new__(cls, en: str, es: str) -> Text:
        text = super().__new__(cls, en)
        text.es = es
        return text


def tr(en: str, es: str) -> Text:
    return Text(en, es)


def render(message: Any, lang: str) -> Any:
    """``message`` in ``lang`` when it has that wording; anything else unchanged."""
    if lang == "es" and isinstance(message, Text):
        return message.es
    return str(message) if isinstance(message, Text) else message


def negotiate(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (q-values honoured; ``es-ES`` and
    ``es`` both mean Spanish); DEFAULT when nothing matches or the header is malformed."""
    best, best_q = DEFAULT, 0.0
    for position, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q = min(max(q, 0.0), 1.0) - position * 1e-6  # ties: the first listed wins
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


# Pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) in
# Spanish; ``{...}`` are the error's ``ctx`` values. A type not listed keeps pydantic's English.
_PYDANTIC_ES = {
    "missing": "Este campo es obligatorio",
    "extra_forbidden": "Este campo no existe aquí",
    "string_type": "Debe ser un texto",
    "string_too_short": "Debe tener al menos {min_length} caracteres",
    "string_too_long": "Debe tener como mucho {max_length} caracteres",
    "string_pattern_mismatch": "No tiene el formato esperado",
    "too_short": "Debe tener al menos {min_length} elementos",
    "too_long": "Debe tener como mucho {max_length} elementos",
    "int_type": "Debe ser un número entero",
    "int_parsing": "Debe ser un número entero",
    "int_from_float": "Debe ser un número entero, sin decimales",
    "float_type": "Debe ser un número",
    "float_parsing": "Debe ser un número",
    "decimal_type": "Debe ser un número decimal",
    "decimal_parsing": "Debe ser un número decimal",
    "decimal_max_places": "Admite como mucho {decimal_places} decimales",
    "decimal_max_digits": "Admite como mucho {max_digits} cifras",
    "bool_type": "Debe ser verdadero o falso",
    "bool_parsing": "Debe ser verdadero o falso",
    "greater_than": "Debe ser mayor que {gt}",
    "greater_than_equal": "Debe ser {ge} o más",
    "less_than": "Debe ser menor que {lt}",
    "less_than_equal": "Debe ser {le} o menos",
    "multiple_of": "Debe ser múltiplo de {multiple_of}",
    "date_type": "Debe ser una fecha (AAAA-MM-DD)",
    "date_parsing": "Debe ser una fecha (AAAA-MM-DD)",
    "date_from_datetime_parsing": "Debe ser una fecha (AAAA-MM-DD)",
    "date_from_datetime_inexact": "Debe ser una fecha sin hora",
    "datetime_type": "Debe ser una fecha y hora (AAAA-MM-DDTHH:MM)",
    "datetime_parsing": "Debe ser una fecha y hora (AAAA-MM-DDTHH:MM)",
    "datetime_from_date_parsing": "Debe ser una fecha y hora (AAAA-MM-DDTHH:MM)",
    "time_type": "Debe ser una hora (HH:MM)",
    "time_parsing": "Debe ser una hora (HH:MM)",
    "timezone_aware": "Debe indicar la zona horaria",
    "timezone_naive": "No debe indicar zona horaria",
    "literal_error": "Debe ser uno de: {expected}",
    "enum": "Debe ser uno de: {expected}",
    "list_type": "Debe ser una lista",
    "dict_type": "Debe ser un objeto",
    "model_type": "Debe ser un objeto",
    "model_attributes_type": "Debe ser un objeto",
    "json_invalid": "No es JSON válido",
    "url_parsing": "Debe ser una dirección web válida",
    "url_scheme": "La dirección web debe empezar por {expected_schemes}",
    "uuid_parsing": "Debe ser un identificador UUID",
    "value_error": "No es válido",
    "assertion_error": "No es válido",
}


def field_message(error: dict[str, Any], lang: str) -> str:
    """One pydantic error's message in ``lang``. A validator that raised ``ValueError(tr(...))``
    keeps its own wording (without pydantic's "Value error, " prefix)."""
    ctx = error.get("ctx") or {}
    raised = ctx.get("error")
    if isinstance(raised, Exception) and raised.args and isinstance(raised.args[0], str):
        return str(render(raised.args[0], lang))
    if lang == "es" and error.get("type") in _PYDANTIC_ES:
        try:
            return _PYDANTIC_ES[error["type"]].format(**ctx)
        except (KeyError, IndexError, ValueError):
            pass
    return str(error.get("msg", "invalid"))
