"""Reversible Table Storage keys for ids that may hold characters keys forbid.

Conversation ids carry `: ; @` on Teams and anything at all on other channels, while
PartitionKey and RowKey must not contain `/ \\ # ?` or control characters. URL-safe base64
without padding uses only `A-Z a-z 0-9 - _`, so every id maps to a legal key and back.
"""

from __future__ import annotations

import base64
import json

# Keys are limited to 1 KiB of UTF-16, i.e. 512 characters: ids up to 384 UTF-8 bytes fit.
MAX_KEY_LENGTH = 512


class InvalidKeyError(ValueError):
    """The id cannot become a Table Storage key: empty, too long, or not encodable as UTF-8."""


def encode_key(raw: str) -> str:
    if not raw:
        raise InvalidKeyError("id is empty")
    try:
        data = raw.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates from JSON "\ud800" escapes
        raise InvalidKeyError("id is not valid Unicode text") from error
    key = base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"id of {len(raw)} characters is too long to store")
    return key


def decode_key(key: str) -> str:
    padding = "=" * (-len(key) % 4)
    return base64.urlsafe_b64decode(key + padding).decode("utf-8")


def conversation_key(channel_id: str, conversation_id: str) -> str:
    """One string naming a conversation across channels, for rows keyed by conversation."""
    return json.dumps([channel_id, conversation_id])
