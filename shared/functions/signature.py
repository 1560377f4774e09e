"""Webhook signatures on the signed endpoints (POST /api/notify, PATCH /api/notify/{id}).

Two schemes; with NOTIFY_WEBHOOK_SECRET set, a request must carry a valid signature of one:

- `X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, as GitHub (`X-Hub-Signature-256`) and
  most webhook senders make it, keyed with the secret's UTF-8 bytes. It signs only the body: a
  captured request stays valid for good.
- Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix seconds) and
  `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">` (any one valid entry passes, so a sender can rotate its secret). The
  key is the base64-decoded rest of a `whsec_` secret, else the secret's UTF-8 bytes. A timestamp
  more than 5 minutes from the app's clock is refused, and the id is the request's idempotency
  key (shared.functions.idempotency): a replay within those minutes sends nothing.

A request with a `webhook-signature` header is judged by that scheme alone, so a stale one is
refused even if an `X-Signature-256` comes with it. Hand-written, not the `standardwebhooks`
package: that reads the wall clock (tests set the app's), decodes every secret as base64, and
raises other errors than its own on malformed headers or bodies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

import shared.standard_webhooks as standard_webhooks
from shared.request_errors import RequestError
from shared.standard_webhooks import WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP

SIGNATURE_HEADERS = ("X-Signature-256", "X-Hub-Signature-256")
PREFIX = "sha256="
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
# Unix seconds have 10 digits until the year 2286; a longer header is not a timestamp.
MAX_TIMESTAMP_DIGITS = 12


def sign(secret: str, body: bytes) -> str:
    """The X-Signature-256 value a sender puts on `body`."""
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign_standard(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value a Standard Webhooks sender puts on this request."""
    return standard_webhooks.signature(standard_key(secret), webhook_id, timestamp, body)


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


def standard_key(secret: str) -> bytes:
    return standard_webhooks.key_of(secret, "NOTIFY_WEBHOOK_SECRET")


class WebhookSignatures:
    """The signature check of both schemes, keyed once per process."""

    def __init__(self, secret: str, clock: Callable[[], datetime]) -> None:
        self._secret = secret
        self._standard_key = standard_key(secret) if secret else b""
        self._clock = clock

    def check(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Nothing when no secret is set or the request is validly signed; else a 401."""
        if not self._secret:
            return
        if headers.get(WEBHOOK_SIGNATURE) is not None:
            self._check_standard(body, headers)
        elif not signature_is_valid(self._secret, body, headers):
            raise RequestError(
                401,
                "missing or invalid X-Signature-256",
                "sign the body with X-Signature-256, or the request with webhook-id, "
                "webhook-timestamp and webhook-signature (Standard Webhooks)",
            )

    def _check_standard(self, body: bytes, headers: Mapping[str, str]) -> None:
        webhook_id = headers.get(WEBHOOK_ID) or ""
        timestamp = headers.get(WEBHOOK_TIMESTAMP) or ""
        if not (webhook_id.isascii() and webhook_id.isprintable() and webhook_id):
            raise RequestError(401, "missing or invalid webhook-id", {"field": WEBHOOK_ID})
        if not (
            timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS
        ):
            raise RequestError(
                401, "missing or invalid webhook-timestamp", {"field": WEBHOOK_TIMESTAMP}
            )
        if abs(self._clock().timestamp() - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
            raise RequestError(
                401,
                "webhook-timestamp is more than 5 minutes from now",
                {"field": WEBHOOK_TIMESTAMP, "toleranceSeconds": TIMESTAMP_TOLERANCE_SECONDS},
            )
        expected = standard_webhooks.digest(self._standard_key, webhook_id, timestamp, body)
        # Constant time, as for X-Signature-256.
        if not any(
            hmac.compare_digest(expected, given)
            for given in _v1_signatures(headers[WEBHOOK_SIGNATURE])
        ):
            raise RequestError(
                401, "missing or invalid webhook-signature", {"field": WEBHOOK_SIGNATURE}
            )


def _v1_signatures(header: str) -> Iterator[bytes]:
    """The decoded `v1` entries of a webhook-signature header; other versions (`v1a`, the
    asymmetric scheme) and malformed entries are skipped."""
    for entry in header.split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1":
            continue
        try:
            yield base64.b64decode(signature, validate=True)
        except ValueError:
            continue
