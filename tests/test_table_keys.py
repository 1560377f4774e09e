"""Table keys: every id maps to a legal key and back."""

from __future__ import annotations

import re

import pytest

from shared.storage.keys import InvalidKeyError, decode_key, encode_key

LEGAL_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.mark.parametrize(
    "raw",
    ["a/b", "a\\b", "#", "?", "a:b;c@d", "\x00\x1f\x7f\x9f", "会话 💬", "x" * 384],
)
def test_ids_round_trip_through_legal_keys(raw):
    key = encode_key(raw)

    assert LEGAL_KEY.match(key)
    assert decode_key(key) == raw


@pytest.mark.parametrize("raw", ["", "x" * 385, "\ud800"], ids=["empty", "too-long", "surrogate"])
def test_ids_that_cannot_be_keys_are_refused(raw):
    with pytest.raises(InvalidKeyError):
        encode_key(raw)
