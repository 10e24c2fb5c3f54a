"""Search keys of clinical notes: words, normalised, as keyed hashes of their prefixes.

A word is lowercased with its accents stripped (Unicode NFKD without the combining marks), so
"Endodóncia", "ENDODONCIA" and "endodoncia" are one word. Stop words (Spanish and English) and
one-letter words are not indexed. A word of 3 or more letters is indexed under each of its
prefixes of ``MIN_PREFIX``..``MAX_PREFIX`` letters, a shorter one (a tooth "36") as itself; a
term typed in the search is looked up under its own first ``MAX_PREFIX`` letters, so "endo",
"endodon" and "endodoncia" all find "Endodóncia" with one key each. The key in the table is an
HMAC of that prefix under a key derived from the clinic's data key, so note words never appear
in the table's keys, and the same word hashes differently in two clinics. ADR 0642.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from chalicelib.core import crypto
from chalicelib.patients.search import fold

MIN_PREFIX = 3
MAX_PREFIX = 10
MAX_WORDS = 400  # distinct words indexed per note or amendment (the first ones written)
MAX_TERMS = 5  # words of a search
WORD_MAX = 40

_WORD = re.compile(r"[a-z0-9]+")

STOP_WORDS = frozenset(
    """
    a al algo ante como con contra cual cuando de del desde donde durante e el ella ellas ellos
    en entre era es esa ese eso esta este esto estos estas ha hay la las le les lo los mas me mi
    muy ni no nos o os para pero poco por que se sea segun ser si sin sobre su sus tambien te
    tiene tras tu un una uno unos unas y ya
    an and are as at be but by for from has have he her his if in into is it its of on or
    she so than that the their then there these they this to was were which with
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def words(*texts: str | None) -> list[str]:
    """The distinct indexable words of some texts, in order of first appearance."""
    seen: dict[str, None] = {}
    for text in texts:
        for w in _WORD.findall(fold(text or "")):
            if len(w) < 2 or w in STOP_WORDS:
                continue
            seen.setdefault(w[:WORD_MAX], None)
    return list(seen)


def prefixes(word: str) -> set[str]:
    if len(word) < MIN_PREFIX:
        return {word}
    return {word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)}


def term(word: str) -> str:
    """What a searched word is looked up by."""
    return word[:MAX_PREFIX]


@lru_cache(maxsize=256)
def _index_key(clinic_id: str) -> bytes:
    data_key = crypto._data_key(clinic_id)  # noqa: SLF001 - derived, never exposed
    return hmac.new(data_key, b"cuspide/note-search-index/v1", hashlib.sha256).digest()


def blind(clinic_id: str, prefix: str) -> str:
    return hmac.new(_index_key(clinic_id), prefix.encode(), hashlib.sha256).hexdigest()[:24]


def entry_keys(clinic_id: str, *texts: str | None) -> set[str]:
    """The hashed keys an entry with these texts is indexed under."""
    out: set[str] = set()
    for w in words(*texts)[:MAX_WORDS]:
        out |= {blind(clinic_id, p) for p in prefixes(w)}
    return out
