"""The proof of work's arithmetic (the server side of the page's script)."""

from __future__ import annotations

import hashlib

from chalicelib.booking import abuse


def test_leading_zero_bits():
    assert abuse.leading_zero_bits(b"\x00\x00\xff") == 16
    assert abuse.leading_zero_bits(b"\x00\x1f") == 11
    assert abuse.leading_zero_bits(b"\x80") == 0


def test_solve_and_check_are_bound_to_the_clinic():
    token, cid = "tok", "01J00000000000000000000000"
    nonce = abuse.solve(token, cid, bits=8)
    digest = hashlib.sha256(f"{token}:{cid}:{nonce}".encode()).digest()
    assert digest[0] == 0
    assert abuse.solves(token, cid, nonce, bits=8)
    assert not abuse.solves(token, cid, str(int(nonce) - 1), bits=8) or int(nonce) == 0
