"""Search keys for patients: name tokens and keyed hashes (blind index).

Names are searched by prefix on normalised tokens (NFKD, accents stripped, lowercased), so
"munoz" and "MUÑ" both find "Muñoz". Phone, email and national id are matched exactly through a
keyed hash: HMAC-SHA256 under a key derived from the clinic's own data key (see
``chalicelib.core.crypto``), so the table never holds these values in a key, and the same value
in two clinics hashes differently. See docs/adr/0301-patient-search-index.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.core import crypto, validators
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    import phonenumbers
else:
    # Loaded by the first phone number to check, not with the API (issue 23).
    phonenumbers = lazy_module("phonenumbers")

_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase, accents stripped (NFKD without combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(*names: str | None) -> list[str]:
    """The distinct search tokens of a person's names, in order."""
    seen: dict[str, None] = {}
    for name in names:
        for t in _TOKEN.findall(fold(name or "")):
            seen.setdefault(t[:40], None)
    return list(seen)


def normalise_phone(value: str, region: str = "ES") -> str:
    """E.164 form of a phone number; raises ValueError when it is not a valid number."""
    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("is not a phone number") from exc
    if not phonenumbers.is_valid_number(num):
        raise ValueError("is not a valid phone number (use international format, e.g. +34...)")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_national_id(value: str) -> str:
    return validators.normalise_id(value)


@lru_cache(maxsize=256)
def _index_key(clinic_id: str) -> bytes:
    # The clinic data key never leaves the process; the index key is derived from it for one
    # purpose only, so the same bytes are never used both to encrypt and to hash.
    data_key = crypto._data_key(clinic_id)  # noqa: SLF001 - derived, never exposed
    return hmac.new(data_key, b"cuspide/patient-search-index/v1", hashlib.sha256).digest()


def blind(clinic_id: str, kind: str, normalised: str) -> str:
    """Keyed hash of a normalised value, for an index key (hex, 32 chars)."""
    mac = hmac.new(_index_key(clinic_id), f"{kind}:{normalised}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
