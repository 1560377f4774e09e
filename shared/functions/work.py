"""The work queue's messages (notify_queue) and the ones the host gave up on (notify_poison)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from shared.sending.handlers import WorkHandlers
from shared.sending.work_items import (
    HANDS_ON_WORK,
    RECORDS_OUTCOMES,
    MalformedItemError,
    WakeItem,
    WorkItem,
    parse_work_item,
)

logger = logging.getLogger(__name__)


class WorkRunner:
    def __init__(
        self,
        handlers: WorkHandlers,
        after_outcomes: Callable[[str, bool], Awaitable[None]] | None = None,
    ) -> None:
        self._handlers = handlers
        # Told of each run that may have recorded a notification's last outcomes (the `done`
        # callback event).
        self._after_outcomes = after_outcomes

    async def handle(
        self, body: bytes, dequeue_count: int, wake: Callable[[str], None] | None = None
    ) -> None:
        """Run one work item; raising hands it back to the host (see WorkHandler.run). `wake` is
        the function's queue output binding: once a run put work on the queue, a WakeItem there
        has this instance's listener take it at once."""
        item = _parse(body)
        # The host redelivers only after a run failed or died; 0 is an admin-API invocation.
        redelivered = dequeue_count > 1
        await self._handlers.of(item).run(item, redelivered)
        if self._after_outcomes is not None and isinstance(item, RECORDS_OUTCOMES):
            await self._after_outcomes(item.notification_id, redelivered)
        if wake is not None and isinstance(item, HANDS_ON_WORK):
            wake(WakeItem(item.notification_id).message())

    async def handle_poisoned(self, body: bytes) -> None:
        try:
            item = _parse(body)
        except MalformedItemError as error:
            # Not ours to settle: nothing was recorded for it, so nothing is left half-done.
            logger.error("Dropping a poisoned message that is not a work item: %s", error)
            return
        await self._handlers.of(item).give_up(item)


def _parse(body: bytes) -> WorkItem:
    try:
        payload = json.loads(body)
    except ValueError:
        raise MalformedItemError("not JSON") from None
    return parse_work_item(payload)
