"""Signed patient links (chalicelib.core.links, used by comms for appointments and by billing
for budgets): HMAC-SHA256 over purpose, link id, action, subject id and expiry; verified in
constant time; malformed, tampered and expired tokens told apart. No AWS: the key ring is an
in-memory fake."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from chalicelib.billing.budgets import LINKS as BUDGET_LINKS
from chalicelib.comms.service import LINK_TTL_S
from chalicelib.comms.service import LINKS as links
from chalicelib.core import keys
from chalicelib.core.links import InvalidLink, LinkClaims

LINK = "01JQ1111111111111111111111"
APPT = "01JQ2222222222222222222222"
EXP = 1_800_000_000
K1, K2 = b"\x01" * 32, b"\x02" * 32


@pytest.fixture
def ring(monkeypatch):
    state = {"ring": keys.KeyRing(active="k1", keys={"k1": K1})}
    monkeypatch.setattr(keys, "link_keys", lambda: state["ring"])
    return state


def test_signature_is_hmac_sha256_over_the_four_claims(ring):
    token = links.sign(LINK, "confirm", APPT, EXP)
    link_id, action, appt, exp, kid, sig = token.split(".")
    assert (link_id, action, appt, exp, kid) == (LINK, "confirm", APPT, str(EXP), "k1")
    mac = hmac.new(K1, f"appt-link|{LINK}|confirm|{APPT}|{EXP}".encode(), hashlib.sha256)
    assert sig == base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    claims = links.verify(token, at=EXP - 1)
    assert claims == LinkClaims(LINK, "confirm", APPT, EXP)


def test_valid_for_48_hours():
    assert LINK_TTL_S == 48 * 3600


def _reason(token: str, at: float = EXP - 1) -> str:
    with pytest.raises(InvalidLink) as err:
        links.verify(token, at=at)
    return err.value.reason


def test_changing_any_claim_breaks_the_signature(ring):
    token = links.sign(LINK, "confirm", APPT, EXP)
    parts = token.split(".")
    other_id = "01JQ3333333333333333333333"
    variants = [
        [other_id, *parts[1:]],  # another link id
        [parts[0], "cancel", *parts[2:]],  # confirm turned into cancel
        [parts[0], parts[1], other_id, *parts[3:]],  # another appointment
        [*parts[:3], str(EXP + 86400), *parts[4:]],  # a later expiry
        [*parts[:5], ("A" if parts[5][0] != "A" else "B") + parts[5][1:]],  # the signature
    ]
    for v in variants:
        assert _reason(".".join(v)) == "tampered", v


def test_unknown_key_id_or_foreign_key_is_tampered(ring):
    token = links.sign(LINK, "cancel", APPT, EXP)
    parts = token.split(".")
    assert _reason(".".join([*parts[:4], "nokey", parts[5]])) == "tampered"
    ring["ring"] = keys.KeyRing(active="k1", keys={"k1": K2})  # same kid, different secret
    assert _reason(token) == "tampered"


def test_rotation_keeps_old_tokens_until_their_key_is_dropped(ring):
    old = links.sign(LINK, "confirm", APPT, EXP)
    ring["ring"] = keys.KeyRing(active="k2", keys={"k1": K1, "k2": K2})
    new = links.sign(LINK, "confirm", APPT, EXP)
    assert new.split(".")[4] == "k2"
    assert links.verify(old, at=EXP - 1).link_id == LINK
    assert links.verify(new, at=EXP - 1).link_id == LINK
    ring["ring"] = keys.KeyRing(active="k2", keys={"k2": K2})
    assert _reason(old) == "tampered"


def test_expiry_is_exclusive(ring):
    token = links.sign(LINK, "confirm", APPT, EXP)
    assert links.verify(token, at=EXP - 0.001)
    assert _reason(token, at=EXP) == "expired"
    assert _reason(token, at=EXP + 3600) == "expired"


def test_tampering_is_reported_before_expiry(ring):
    # An expired token with a forged signature says "not valid", not "expired".
    token = links.sign(LINK, "confirm", APPT, EXP)
    parts = token.split(".")
    forged = ".".join([*parts[:5], ("A" if parts[5][0] != "A" else "B") + parts[5][1:]])
    assert _reason(forged, at=EXP + 10) == "tampered"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "a.b.c.d.e.f",
        "x" * 400,
        f"{LINK}.delete.{APPT}.{EXP}.k1.{'A' * 43}",  # unknown action
        f"{LINK}.confirm.{APPT}.-5.k1.{'A' * 43}",  # negative expiry
        f"{LINK}.confirm.{APPT}.{EXP}.k1.{'A' * 42}",  # short signature
        f"{LINK}.confirm.{APPT}.{EXP}.k1.{'A' * 42}=",  # padding
        f"{LINK.lower()}.confirm.{APPT}.{EXP}.k1.{'A' * 43}",  # not a ULID
        f"{LINK}.confirm.{APPT}.{EXP}.k!1.{'A' * 43}",  # bad key id
        f"{LINK}.confirm.{APPT}.{'9' * 13}.k1.{'A' * 43}",  # absurd expiry
        None,
    ],
)
def test_malformed_tokens(ring, token):
    assert _reason(token) == "malformed"


def test_only_confirm_and_cancel_can_be_signed(ring):
    with pytest.raises(ValueError):
        links.sign(LINK, "delete", APPT, EXP)


def test_a_link_of_one_purpose_never_verifies_as_another(ring):
    budget = BUDGET_LINKS.sign(LINK, "accept", APPT, EXP)
    assert BUDGET_LINKS.verify(budget, at=EXP - 1).subject_id == APPT
    assert _reason(budget) == "malformed"  # "accept" is no appointment action
    # same action name, another purpose: the signature does not match
    from chalicelib.core.links import LinkSigner

    other = LinkSigner("other-link", ("confirm", "cancel"))
    assert _reason(other.sign(LINK, "confirm", APPT, EXP)) == "tampered"
