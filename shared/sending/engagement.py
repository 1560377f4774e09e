"""Recording what people did with a notification's messages, from the queue (EngagementItem).

Each item changes one target, exactly once however often it runs (see engagement_store): a read
marks the target read and takes its message out of later receipts' reads; reactions added and
removed update who reacted, by type.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.notifications.engagement_store import EngagementStore
from shared.notifications.sent_index import SentIndex
from shared.sending.work_items import READ, EngagementItem

logger = logging.getLogger(__name__)


class EngagementRecording:
    def __init__(self, engagement: EngagementStore, sent_index: SentIndex) -> None:
        self._engagement = engagement
        self._sent_index = sent_index

    async def run(self, item: EngagementItem, redelivered: bool) -> None:
        at = datetime.fromisoformat(item.at)
        if item.what == READ:
            await self._engagement.read(item.notification_id, item.target, at)
            if all(item.sent):
                await self._sent_index.mark_read(*item.sent)
        else:
            await self._engagement.react(
                item.notification_id,
                item.target,
                item.user_id,
                list(item.added),
                list(item.removed),
                at,
            )

    async def give_up(self, item: EngagementItem) -> None:
        # Storage refused it maxDequeueCount times: the status counts one read or reaction less.
        logger.error("Notification %s: a %s was not recorded", item.notification_id, item.what)
