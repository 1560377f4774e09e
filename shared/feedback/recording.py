"""Recording what people did with a notification's messages, from the queue (EngagementItem).

Each item changes one target, exactly once however often it runs (see engagement.store): a read
marks the target read and takes its message out of later receipts' reads; reactions added and
removed update who reacted, by type. If the notification's callback wants the event, the event
is made in the same transaction and a CallbackItem queued for it. An event's id comes from what
told of the change, so a run after a crash between the two finds the event and queues it again:
every event is delivered at least once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.engagement.sent_index import SentIndex
from shared.engagement.store import EngagementStore, EventOrder, event_id
from shared.notifications.callback import ACTION, ANSWERED, READ, Callbacks
from shared.sending.work_items import CallbackItem, EngagementItem
from shared.storage.queues import WorkQueue

logger = logging.getLogger(__name__)
EVENT_TYPE = "notification.{}"


class EngagementRecording:
    def __init__(
        self,
        engagement: EngagementStore,
        sent_index: SentIndex,
        callbacks: Callbacks,
        queue: WorkQueue,
    ) -> None:
        self._engagement = engagement
        self._sent_index = sent_index
        self._callbacks = callbacks
        self._queue = queue

    async def run(self, item: EngagementItem, redelivered: bool) -> None:
        at = datetime.fromisoformat(item.at)
        kind = item.what
        callback = await self._callbacks.of(item.notification_id)
        order = EventOrder(
            event_id(item.notification_id, item.target, kind, item.activity, item.user_id),
            EVENT_TYPE.format(kind),
            item.user_id,
            at,
        )
        wanted = order if callback is not None and callback.wants(kind) else None
        if kind == READ:
            made = await self._engagement.read(item.notification_id, item.target, at, wanted)
        elif kind == ANSWERED:
            detail = item.detail or {}
            made = wanted is not None and await self._engagement.make_event(
                item.notification_id,
                wanted,
                {"choice": detail.get("choice")},
                str(detail.get("conversationId") or ""),
            )
        elif kind == ACTION:
            clicked = item.detail or {}
            action = {
                "id": item.activity,
                "verb": clicked.get("verb", ""),
                "data": clicked.get("data"),
                "userId": item.user_id,
                "at": item.at,
            }
            made = await self._engagement.act(item.notification_id, item.target, action, wanted)
        else:
            made = await self._engagement.react(
                item.notification_id,
                item.target,
                item.user_id,
                list(item.added),
                list(item.removed),
                at,
                wanted,
            )
        if wanted is not None and (made or redelivered):
            # Redelivered: an earlier run may have made the event and died before queueing it.
            await self._queue.put(CallbackItem(item.notification_id, wanted.id).to_json())
        if kind == READ and all(item.sent):
            await self._sent_index.mark_read(*item.sent)

    async def give_up(self, item: EngagementItem) -> None:
        # Storage refused it maxDequeueCount times: the status counts one read or reaction less.
        logger.error("Notification %s: a %s was not recorded", item.notification_id, item.what)
