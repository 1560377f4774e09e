"""POST /api/notify: an external system asks for a proactive message to stored conversations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.functions.lookup import status_path
from shared.functions.signature import signature_is_valid
from shared.http import (
    RETRY_AFTER,
    STORAGE_UNAVAILABLE,
    HttpResult,
    check_body_size,
    error_result,
    parse_json_object,
)
from shared.notifications.idempotency_store import (
    MAX_KEY_LENGTH,
    Claimed,
    IdempotencyStore,
    InProgress,
    KeyReusedWithOtherBody,
    Replay,
    body_digest,
)
from shared.notifications.request import NotifyRequest, parse_notify_request
from shared.request_errors import RequestError
from shared.sending.notifier import Notifier
from shared.storage.tables import StorageUnavailableError

if TYPE_CHECKING:
    from shared.sending.named_members import NamedMembers

logger = logging.getLogger(__name__)


class NotifyEndpoint:
    def __init__(
        self,
        notifier: Notifier,
        idempotency_keys: IdempotencyStore,
        webhook_secret: str,
        clock: Callable[[], datetime],
        # Built on first use: only a request naming userIds may need it (see NamedMembers).
        named_members: Callable[[], NamedMembers] | None = None,
    ) -> None:
        self._notifier = notifier
        self._named_members = named_members
        self._idempotency_keys = idempotency_keys
        self._webhook_secret = webhook_secret
        self._clock = clock

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        try:
            check_body_size(body)
            # The signature is checked before the body is parsed: unsigned input gets no further.
            if self._webhook_secret and not signature_is_valid(self._webhook_secret, body, headers):
                raise RequestError(401, "missing or invalid X-Signature-256")
            request = parse_notify_request(parse_json_object(body), now=self._clock())
            key = _idempotency_key(headers)
        except RequestError as error:
            return error_result(error)
        try:
            if key is None:
                return await self._notify(request)
            return await self._notify_once(key, body_digest(body), request)
        except StorageUnavailableError as error:
            logger.error("Notify failed: %s", error)
            return STORAGE_UNAVAILABLE

    async def _notify_once(self, key: str, digest: str, request: NotifyRequest) -> HttpResult:
        outcome = await self._idempotency_keys.claim(key, digest)
        if isinstance(outcome, Replay):
            logger.info("Idempotency-Key seen before: replaying its answer, sending nothing")
            return HttpResult(outcome.status, outcome.body, {"Idempotent-Replayed": "true"})
        if isinstance(outcome, InProgress):
            return HttpResult(
                409,
                {"error": "a request with this Idempotency-Key is still being sent"},
                RETRY_AFTER,
            )
        if isinstance(outcome, KeyReusedWithOtherBody):
            return error_result(
                RequestError(422, "Idempotency-Key was already used with a different body")
            )
        assert isinstance(outcome, Claimed)
        try:
            result = await self._notify(request)
        except StorageUnavailableError:
            # Nothing sent can be vouched for: give the key back so the caller's retry runs.
            await self._idempotency_keys.release(key, outcome)
            raise
        await self._idempotency_keys.complete(key, digest, outcome, result.status, result.body)
        return result

    async def _notify(self, request: NotifyRequest) -> HttpResult:
        if self._named_members is not None and request.audience.user_ids:
            request = await self._named_members().resolved(request)
        if request.send_at is not None:
            return _accepted(await self._notifier.schedule(request))
        inline, body = await self._notifier.send_now(request)
        return HttpResult(200, body) if inline else _accepted(body)


def _accepted(status: dict[str, Any]) -> HttpResult:
    """202: it will be sent later; Location is where to follow it."""
    return HttpResult(202, status, {"Location": status_path(status["id"])})


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
