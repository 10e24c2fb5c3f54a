"""Tokenising and normalising note words for the search index (ADR 0642)."""

from __future__ import annotations

from chalicelib.notes import search
from chalicelib.notes.finder import snippet


def test_words_fold_accents_and_case_and_drop_stop_words() -> None:
    assert search.words("Necesita ENDODÓNCIA en la 46; dolor, dolor.") == [
        "necesita",
        "endodoncia",
        "46",
        "dolor",
    ]
    assert search.words("Ñoño pingüino") == ["nono", "pinguino"]
    assert search.words("de la y a") == []


def test_prefixes_from_three_to_ten_letters() -> None:
    assert search.prefixes("endodoncia") == {
        "end",
        "endo",
        "endod",
        "endodo",
        "endodon",
        "endodonc",
        "endodonci",
        "endodoncia",
    }
    assert search.prefixes("periimplantitis") == {"periimplantitis"[:n] for n in range(3, 11)}
    assert search.prefixes("36") == {"36"}
    assert search.term("periimplantitis") == "periimplan"


def test_snippet_is_cut_around_the_word_as_written() -> None:
    text = "x " * 200 + "Pulpitis en la pieza 46, Endodóncia indicada" + " y" * 200
    s = snippet([text], ["endodoncia"])
    assert "Endodóncia" in s and s.startswith("…") and s.endswith("…")
    assert len(s) <= 170
    assert snippet(["Corto"], ["x"]) == "Corto"


def test_snippet_shows_the_first_term_given() -> None:
    text = "Endodoncia. " + "relleno " * 40 + "Se pautó clorhexidina al 0,12 %."
    assert "clorhexidina" in snippet([text], ["clorhexidina", "endodoncia"])
