import pytest

from chalicelib.core import auth
from chalicelib.core.errors import Unprocessable


def test_argon2id_hash_verifies_and_rejects():
    h = auth.hash_password("a long passphrase")
    assert h.startswith("$argon2id$")
    assert auth.verify_password(h, "a long passphrase")
    assert not auth.verify_password(h, "a long passphrasf")


def test_missing_hash_never_verifies():
    assert not auth.verify_password(None, "anything at all")
    assert not auth.verify_password("not-a-hash", "anything at all")


@pytest.mark.parametrize("pw", ["short", "password123", "aaaaaaaaaaaa", "ana@clinic.com"])
def test_policy_refuses_weak_passwords(pw):
    with pytest.raises(Unprocessable):
        auth.check_password_policy(pw, email="ana@clinic.com")


def test_policy_accepts_a_passphrase():
    auth.check_password_policy("cuspide-demo", email="admin@demo.clinic")


def test_token_hash_is_sha256_hex():
    assert len(auth.token_hash("x")) == 64
    assert auth.token_hash("x") != auth.token_hash("y")
