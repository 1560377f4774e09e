"""Work items the host gave up on: what they leave behind is recorded, never lost silently.

After `maxDequeueCount` failed runs the host moves an item to `<queue>-poison`, where this runs
once per item. A chunk's targets that have no outcome yet get `failed` (with the reason); a page
of the audience that could not be split marks the notification failed, since the targets past it
can no longer be known.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.sending.work_items import ChunkItem, ExpandItem, WorkItem
from shared.storage.keys import decode_key

logger = logging.getLogger(__name__)

POISONED = "WorkItemPoisoned"  # the error code a poisoned chunk's targets get


class PoisonedWork:
    def __init__(
        self,
        notifications: NotificationStore,
        outcomes: OutcomeStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._clock = clock

    async def run(self, item: WorkItem) -> None:
        if isinstance(item, ExpandItem):
            await self._audience_unreadable(item)
        else:
            await self._chunk_abandoned(item)

    async def _audience_unreadable(self, item: ExpandItem) -> None:
        logger.error(
            "Notification %s: page %d of its audience was poisoned", item.notification_id, item.page
        )
        await self._notifications.fail(
            item.notification_id,
            f"page {item.page + 1} of the audience could not be read (work item poisoned); "
            "targets before it are sent and counted, later ones were never matched",
        )

    async def _target_ids(self, item: ChunkItem) -> Callable[[str], tuple[str, str]]:
        """The channel and conversation id of each of the chunk's targets, by row key."""
        notification = await self._notifications.get(item.notification_id)
        if notification is not None and notification.revises:
            # An update's or a recall's chunk names the outcome rows of the messages it changes.
            sent = await self._outcomes.sent_messages(notification.revises, item.row_keys)
            return lambda row_key: (
                (sent[row_key].channel_id, sent[row_key].conversation_id)
                if row_key in sent
                else ("", row_key)
            )
        channel_id = decode_key(item.partition_key)
        return lambda row_key: (channel_id, decode_key(row_key))

    async def _chunk_abandoned(self, item: ChunkItem) -> None:
        claim = await self._outcomes.claim_chunk(
            item.notification_id, item.chunk, self._clock(), take_over=True
        )
        if claim is None:
            return  # every target in it has its outcome
        target_of = await self._target_ids(item)
        results = [
            (
                position,
                TargetResult(
                    *target_of(row_key),
                    Outcome.FAILED,
                    error=f"{POISONED}: its work item failed on every try",
                ),
            )
            for position, row_key in enumerate(item.row_keys)
            if position not in claim.recorded
        ]
        await self._outcomes.record(item.notification_id, claim, results, self._clock(), done=True)
        logger.error(
            "Notification %s: chunk %s poisoned; %d target(s) recorded as failed",
            item.notification_id,
            item.chunk,
            len(results),
        )
