"""Idempotency-Key and webhook-id on the signed endpoints: a repeated request gets the first
answer, and nothing is sent or changed again.

A Standard Webhooks `webhook-id` is an idempotency key: the spec says so, and its senders keep the
id across their retries. When a request carries both headers, webhook-id is the key and
Idempotency-Key is ignored: the id is covered by the signature and Idempotency-Key is not, so a
replay within the timestamp's 5 minutes could otherwise choose a fresh key and send again. One
table holds both kinds of key (shared.notifications.idempotency_store), for 24 hours; a PATCH's
keys are its notification's own, apart from POST /api/notify's and other notifications'.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from shared.functions.lookup import status_path
from shared.functions.signature import WEBHOOK_ID
from shared.http import RETRY_AFTER, HttpResult, error_result
from shared.notifications.idempotency_store import (
    MAX_KEY_LENGTH,
    Claimed,
    IdempotencyStore,
    InProgress,
    KeyReusedWithOtherBody,
    Replay,
    body_digest,
)
from shared.notifications.notification_store import NoSuchNotification
from shared.request_errors import RequestError
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY = "Idempotency-Key"
# The first of these a request carries is its key (see the module docstring for why).
KEY_HEADERS = (WEBHOOK_ID, IDEMPOTENCY_KEY)
# Raised when nothing was done (or nothing done can be vouched for): the key is given back, so
# the caller's retry runs instead of being answered from a claim that never completed.
NOTHING_DONE = (RequestError, NoSuchNotification, StorageUnavailableError)


@dataclass(frozen=True)
class IdempotencyKey:
    header: str  # the header it came in, named in answers about it
    value: str
    scope: str = ""  # what else the key is for: "" for POST /api/notify

    @property
    def stored(self) -> str:
        # A header value is printable, so no key of another scope ends up the same.
        return f"{self.scope}\n{self.value}" if self.scope else self.value


def idempotency_key(headers: Mapping[str, str], scope: str = "") -> IdempotencyKey | None:
    """The request's key, or None; a 400 naming the header when it cannot be one."""
    for header in KEY_HEADERS:
        key = headers.get(header)
        if key is None:
            continue
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise RequestError(
                400,
                f"{header} must be 1-{MAX_KEY_LENGTH} printable ASCII characters",
                {"field": header},
            )
        return IdempotencyKey(header, key, scope)
    return None


class AnsweredOnce:
    def __init__(self, store: IdempotencyStore) -> None:
        self._store = store

    async def answer(
        self,
        key: IdempotencyKey | None,
        body: bytes,
        run: Callable[[], Awaitable[HttpResult]],
    ) -> HttpResult:
        """`run()`'s answer; with a key seen before, the first answer again and no run."""
        if key is None:
            return await run()
        digest = body_digest(body)
        outcome = await self._store.claim(key.stored, digest)
        if isinstance(outcome, Replay):
            logger.info("%s seen before: replaying its answer, sending nothing", key.header)
            return HttpResult(outcome.status, outcome.body, _replayed(outcome))
        if isinstance(outcome, InProgress):
            return HttpResult(
                409, {"error": f"a request with this {key.header} is still being sent"}, RETRY_AFTER
            )
        if isinstance(outcome, KeyReusedWithOtherBody):
            return error_result(
                RequestError(422, f"{key.header} was already used with a different body")
            )
        assert isinstance(outcome, Claimed)
        try:
            result = await run()
        except NOTHING_DONE:
            await self._store.release(key.stored, outcome)
            raise
        await self._store.complete(key.stored, digest, outcome, result.status, result.body)
        return result


def _replayed(replay: Replay) -> dict[str, str]:
    headers = {"Idempotent-Replayed": "true"}
    if replay.status == 202 and isinstance(replay.body, dict) and "id" in replay.body:
        headers["Location"] = status_path(replay.body["id"])  # as the first answer had it
    return headers
