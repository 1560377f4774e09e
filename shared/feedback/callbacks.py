"""Callback events delivered to the caller's URL, at least once, through the work queue.

An event is made with the change it tells of (engagement.store: one transaction), then a
CallbackItem goes on the queue. Its run POSTs the event's JSON, signed with the Standard Webhooks
headers keyed by CALLBACK_SECRET; `webhook-id` is the event's id on every attempt, so a receiver
that saw it already can say so. A 2xx ends it; a 4xx other than 408 and 429 (and a redirect,
never followed) gives up at once; anything else tries again later, RETRY_FACTORS times
CALLBACK_RETRY_SECONDS apart (a 429's or 503's Retry-After if longer), up to
CALLBACK_MAX_ATTEMPTS attempts: about a day with the defaults. The wait is the queue message's
own invisibility, so nothing waits in a process. What was delivered and what gave up is counted
in the status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

import shared.standard_webhooks as standard_webhooks
import shared.telemetry.names as names
from shared.engagement.store import (
    DELIVERED,
    GAVE_UP,
    EngagementStore,
    PendingEvent,
)
from shared.notifications.callback import Callbacks
from shared.pooling import POOLED_IDLE_SECONDS
from shared.sending.work_items import CallbackItem
from shared.storage.queues import WorkQueue
from shared.telemetry.current import telemetry

logger = logging.getLogger(__name__)

# The waits before each retry, in CALLBACK_RETRY_SECONDS: 1 min, 5 min, 15 min, 1 h, 2 h, 6 h and
# 14 h with the default 60 s, about 23 hours in all for 8 attempts.
RETRY_FACTORS = (1, 5, 15, 60, 120, 360, 840)
TIMEOUT_SECONDS = 10
MAX_RETRY_AFTER_SECONDS = 24 * 3600
RETRIED_CLIENT_ERRORS = (408, 429)


class CallbackDelivery:
    def __init__(
        self,
        engagement: EngagementStore,
        callbacks: Callbacks,
        queue: WorkQueue,
        secret: str,
        max_attempts: int,
        retry_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engagement = engagement
        self._callbacks = callbacks
        self._queue = queue
        self._key = standard_webhooks.key_of(secret, "CALLBACK_SECRET") if secret else b""
        self._max_attempts = max_attempts
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def run(self, item: CallbackItem, redelivered: bool) -> None:
        event = await self._engagement.pending_event(item.notification_id, item.event)
        callback = await self._callbacks.of(item.notification_id)
        if event is None or callback is None:
            return  # delivered, given up, or never made
        if not self._key:
            await self._give_up(item, event, "CALLBACK_SECRET is no longer set")
            return
        status, retry_after, error = await self._post(callback.url, event)
        if 200 <= status < 300:
            await self._engagement.settle(item.notification_id, event, DELIVERED)
            telemetry().count_callback(DELIVERED)
        elif (300 <= status < 500 and status not in RETRIED_CLIENT_ERRORS) or (
            event.attempts + 1 >= self._max_attempts
        ):
            await self._give_up(item, event, error)
        elif await self._engagement.attempted(item.notification_id, event, error):
            telemetry().count_callback(names.RETRYING)
            step = RETRY_FACTORS[min(event.attempts, len(RETRY_FACTORS) - 1)]
            delay = max(step * self._retry_seconds, min(retry_after, MAX_RETRY_AFTER_SECONDS))
            await self._queue.put(item.to_json(), delay_seconds=int(delay))

    async def give_up(self, item: CallbackItem) -> None:
        event = await self._engagement.pending_event(item.notification_id, item.event)
        if event is not None:
            await self._give_up(item, event, "its work item was poisoned")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _give_up(self, item: CallbackItem, event: PendingEvent, error: str) -> None:
        logger.warning(
            "Notification %s: callback event %s given up: %s",
            item.notification_id,
            event.id,
            error,
        )
        await self._engagement.settle(item.notification_id, event, GAVE_UP, error)
        telemetry().count_callback(GAVE_UP)

    async def _post(self, url: str, event: PendingEvent) -> tuple[int, float, str]:
        """The answer's status (0: none came), its Retry-After in seconds, and what went wrong."""
        body = event.body.encode("utf-8")
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            standard_webhooks.WEBHOOK_ID: event.id,
            standard_webhooks.WEBHOOK_TIMESTAMP: str(timestamp),
            standard_webhooks.WEBHOOK_SIGNATURE: standard_webhooks.signature(
                self._key, event.id, timestamp, body
            ),
        }
        try:
            with telemetry().client_call(
                "POST", names.CALLBACK_TEMPLATE, names.CALLBACK, url
            ) as call:
                async with self._session_ready().post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as response:
                    call.answered(response.status)
                    retry_after = _seconds(response.headers.get("Retry-After"))
                    return response.status, retry_after, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return 0, 0.0, f"{type(error).__name__}: {error}"[:300]

    def _session_ready(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                connector=aiohttp.TCPConnector(keepalive_timeout=POOLED_IDLE_SECONDS),
            )
        return self._session


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0
