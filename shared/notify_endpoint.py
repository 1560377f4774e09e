"""POST /api/notify: an external system asks for a proactive message to stored conversations."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from shared.delivery import Delivery, DeliveryReport
from shared.http import HttpResult, RequestError, check_body_size, parse_json_object
from shared.idempotency import (
    MAX_KEY_LENGTH,
    Claimed,
    IdempotencyKeys,
    InProgress,
    KeyReusedWithOtherBody,
    Replay,
    body_digest,
)
from shared.notify_request import NotifyRequest, parse_notify_request
from shared.reference_store import ReferenceStore
from shared.tables import StorageUnavailableError
from shared.webhook_signature import signature_is_valid

logger = logging.getLogger(__name__)

STORAGE_DOWN = HttpResult(503, {"error": "storage unavailable, retry later"}, {"Retry-After": "5"})


class Notifier:
    """Sends one message to every stored conversation the audience matches."""

    def __init__(self, store: ReferenceStore, delivery: Delivery) -> None:
        self._store = store
        self._delivery = delivery

    async def notify(self, request: NotifyRequest) -> DeliveryReport:
        return await self._delivery.send(request.message, self._store.find(request.audience))


class NotifyEndpoint:
    def __init__(
        self, notifier: Notifier, idempotency_keys: IdempotencyKeys, webhook_secret: str
    ) -> None:
        self._notifier = notifier
        self._idempotency_keys = idempotency_keys
        self._webhook_secret = webhook_secret

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        try:
            check_body_size(body)
            # The signature is checked before the body is parsed: unsigned input gets no further.
            if self._webhook_secret and not signature_is_valid(self._webhook_secret, body, headers):
                raise RequestError(401, "missing or invalid X-Signature-256")
            request = parse_notify_request(parse_json_object(body))
            key = _idempotency_key(headers)
        except RequestError as error:
            return error.to_result()
        try:
            if key is None:
                return HttpResult(200, (await self._notifier.notify(request)).to_dict())
            return await self._notify_once(key, body_digest(body), request)
        except StorageUnavailableError as error:
            logger.error("Notify failed: %s", error)
            return STORAGE_DOWN

    async def _notify_once(self, key: str, digest: str, request: NotifyRequest) -> HttpResult:
        outcome = await self._idempotency_keys.claim(key, digest)
        if isinstance(outcome, Replay):
            logger.info("Idempotency-Key seen before: replaying its report, sending nothing")
            return HttpResult(200, outcome.report, {"Idempotent-Replayed": "true"})
        if isinstance(outcome, InProgress):
            return HttpResult(
                409,
                {"error": "a request with this Idempotency-Key is still being sent"},
                {"Retry-After": "5"},
            )
        if isinstance(outcome, KeyReusedWithOtherBody):
            return RequestError(
                422, "Idempotency-Key was already used with a different body"
            ).to_result()
        assert isinstance(outcome, Claimed)
        try:
            report = await self._notifier.notify(request)
        except StorageUnavailableError:
            # Nothing sent can be vouched for: give the key back so the caller's retry runs.
            await self._idempotency_keys.release(key, outcome)
            raise
        await self._idempotency_keys.complete(key, digest, outcome, report.to_dict())
        return HttpResult(200, report.to_dict())


def _idempotency_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise RequestError(
            400,
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters",
            {"field": "Idempotency-Key"},
        )
    return key
