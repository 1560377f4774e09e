"""HMAC-SHA256 signatures on webhook bodies, as GitHub and most webhook senders make them."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADERS = ("X-Signature-256", "X-Hub-Signature-256")
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`."""
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_is_valid(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    provided = next((headers[h] for h in SIGNATURE_HEADERS if headers.get(h)), None)
    if provided is None or not provided.startswith(PREFIX):
        return False
    try:
        provided_bytes = provided.lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    # Constant time: how much of a guess matched must not show in the response time.
    return hmac.compare_digest(sign(secret, body).encode("ascii"), provided_bytes)
