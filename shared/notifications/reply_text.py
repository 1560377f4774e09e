"""What a chat reply says, ignoring what people add around it: case, spaces, punctuation."""

from __future__ import annotations

import unicodedata


def normalized(text: str) -> str:
    """`text` case-folded, without surrounding spaces or punctuation: "Yes!" and " yes " match."""
    start, end = 0, len(text)
    while start < end and _is_padding(text[start]):
        start += 1
    while end > start and _is_padding(text[end - 1]):
        end -= 1
    return text[start:end].casefold()


def _is_padding(character: str) -> bool:
    # Unicode categories P* (punctuation) and Z* (separators), plus control white space.
    return character.isspace() or unicodedata.category(character)[0] in "PZ"
