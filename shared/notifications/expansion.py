"""Splitting a queued notification's audience into work: one window of references per run.

Each `ExpandItem` reads a window of pages of the matching references' keys (never the
references), puts a `ChunkItem` on the queue for each run of them — spread over the window's
tenants — then an `ExpandItem` for the next window, and counts the window on the record. Every
step may run twice (a redelivery after a crash, a copy enqueued twice): chunks are named by their
keys and claimed once, and a window is counted once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from shared.notifications.lifecycle import State
from shared.notifications.records import NotificationStore
from shared.notifications.request import parse_notify_request
from shared.notifications.work_items import (
    TARGETS_PER_PAGE,
    ExpandItem,
    chunk_items,
    pages_in_window,
    spread_by_tenant,
)
from shared.storage.audience import Audience
from shared.storage.queues import WorkQueue
from shared.storage.reference_store import ReferenceStore, TargetKey

logger = logging.getLogger(__name__)

# Puts in flight at once: fast, yet the queue receives the chunks in about the order given.
PUTS_AT_ONCE = 8


class AudienceExpansion:
    def __init__(
        self,
        notifications: NotificationStore,
        store: ReferenceStore,
        queue: WorkQueue,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._store = store
        self._queue = queue
        self._clock = clock

    async def start(self, notification_id: str) -> None:
        """Put the first window's item on the queue."""
        await self._queue.put(ExpandItem(notification_id).to_json())

    async def run(self, item: ExpandItem, redelivered: bool) -> None:
        notification = await self._notifications.get(item.notification_id)
        if notification is None or notification.state is not State.QUEUED:
            logger.info(
                "Not splitting window %d of notification %s: %s",
                item.page,
                item.notification_id,
                "no such record" if notification is None else notification.state,
            )
            return
        if notification.pages_expanded > item.page and not redelivered:
            return  # a copy of an item that already ran to the end
        request = parse_notify_request(notification.request)
        keys, continuation = await self._read_window(
            request.audience, item.continuation, pages_in_window(item.page)
        )
        tenant_of = {(k.partition_key, k.row_key): k.tenant_id for k in keys}
        chunks = spread_by_tenant(chunk_items(item.notification_id, item.page, keys), tenant_of)
        work = [chunk.to_json() for chunk in chunks]
        if continuation is not None:
            work.append(ExpandItem(item.notification_id, item.page + 1, continuation).to_json())
        for start in range(0, len(work), PUTS_AT_ONCE):
            await asyncio.gather(*(self._queue.put(w) for w in work[start : start + PUTS_AT_ONCE]))
        await self._notifications.record_page(
            notification, item.page, len(keys), continuation is None, self._clock()
        )
        logger.info(
            "Notification %s: window %d matched %d target(s)%s",
            item.notification_id,
            item.page,
            len(keys),
            "" if continuation else "; the whole audience is on the queue",
        )

    async def _read_window(
        self, audience: Audience, continuation: dict[str, str] | None, pages: int
    ) -> tuple[list[TargetKey], dict[str, str] | None]:
        keys: list[TargetKey] = []
        for _ in range(pages):
            page, continuation = await self._store.find_page(
                audience, continuation, TARGETS_PER_PAGE
            )
            keys += page
            if continuation is None:
                break
        return keys, continuation
