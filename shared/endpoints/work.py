"""The work queue's messages: split an audience, send a chunk, or settle a poisoned item."""

from __future__ import annotations

import json
import logging

from shared.notifications.chunk_delivery import ChunkDelivery
from shared.notifications.expansion import AudienceExpansion
from shared.notifications.poisoned_work import PoisonedWork
from shared.notifications.work_items import (
    ExpandItem,
    MalformedItemError,
    WorkItem,
    parse_work_item,
)

logger = logging.getLogger(__name__)


class WorkEndpoint:
    def __init__(
        self, expansion: AudienceExpansion, chunks: ChunkDelivery, poisoned: PoisonedWork
    ) -> None:
        self._expansion = expansion
        self._chunks = chunks
        self._poisoned = poisoned

    async def handle(self, body: bytes, dequeue_count: int) -> None:
        """Run one work item. Raising hands it back to the host, which retries it and after
        maxDequeueCount tries moves it to the poison queue."""
        item = _parse(body)
        # The host redelivers only after a run failed or died; 0 is an admin-API invocation.
        redelivered = dequeue_count > 1
        if isinstance(item, ExpandItem):
            await self._expansion.run(item, redelivered)
        else:
            await self._chunks.run(item, redelivered)

    async def handle_poisoned(self, body: bytes) -> None:
        try:
            item = _parse(body)
        except MalformedItemError as error:
            # Not ours to settle: nothing was recorded for it, so nothing is left half-done.
            logger.error("Dropping a poisoned message that is not a work item: %s", error)
            return
        await self._poisoned.run(item)


def _parse(body: bytes) -> WorkItem:
    try:
        payload = json.loads(body)
    except ValueError:
        raise MalformedItemError("not JSON") from None
    return parse_work_item(payload)
