"""A sign-in for an unknown email verifies against a constant hash: it must cost what a real
verification costs (same algorithm and parameters as the hasher's), and never sign anyone in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from chalicelib.core import auth


def test_the_dummy_hash_has_the_hashers_own_parameters() -> None:
    # argon2-cffi's check: True when a hash's parameters differ from the hasher's (an upgrade
    # of the library that changed its defaults would make the dummy cheaper than a real one).
    assert auth._hasher.check_needs_rehash(auth._DUMMY_HASH) is False
    # ADR 0016: OWASP's m=19 MiB, t=2, p=1 (the hasher and the dummy alike).
    expected = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    assert expected.check_needs_rehash(auth._DUMMY_HASH) is False
    assert expected.check_needs_rehash(auth.hash_password("Correct-Horse-9")) is False


def test_an_unknown_account_never_verifies_whatever_the_password() -> None:
    assert auth.verify_password(None, "") is False
    assert auth.verify_password(None, "anything") is False
    assert auth.verify_password("", "anything") is False


def test_the_dummy_hash_is_really_checked() -> None:
    """Not a shortcut: the dummy is verified by argon2 (a mismatch), like a real account."""
    try:
        auth._hasher.verify(auth._DUMMY_HASH, "a guess")
    except VerifyMismatchError:
        pass
    else:  # pragma: no cover - would mean the constant's password was guessed
        raise AssertionError("the dummy hash accepted a guess")
    real = auth.hash_password("Correct-Horse-9")
    assert auth.verify_password(real, "Correct-Horse-9") is True
