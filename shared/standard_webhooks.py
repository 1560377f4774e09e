"""The Standard Webhooks signature (standardwebhooks.com): one scheme for what the app receives
(signed webhooks into /api/notify) and what it sends (callbacks).

`webhook-signature` is `v1,` and the base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.
{body}`, keyed by the base64-decoded rest of a `whsec_` secret (else the secret's UTF-8 bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from shared.settings import SettingsError

KEY_PREFIX = "whsec_"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"


def key_of(secret: str, setting: str) -> bytes:
    """The signing key of a secret (`setting` names it in the error of a malformed one)."""
    if not secret.startswith(KEY_PREFIX):
        return secret.encode("utf-8")
    rest = secret[len(KEY_PREFIX) :]
    try:
        key = base64.b64decode(rest + "=" * (-len(rest) % 4), validate=True)
    except ValueError:
        key = b""
    if not key:
        raise SettingsError(setting, "starts with whsec_, so the rest must be base64 of the key")
    return key


def digest(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{webhook_id}.{timestamp}.".encode("ascii") + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value for this request."""
    return "v1," + base64.b64encode(digest(key, webhook_id, str(timestamp), body)).decode("ascii")
