"""Teams telling the bot what people did with its messages: read receipts, reactions, clicks.

A read receipt (an `event` named READ_RECEIPT, in a personal chat, with the app's RSC permission
ChatMessageReadReceipt.Read.Chat) says the person read the chat up to `lastReadMessageId`; a
`messageReaction` activity names the message (`replyToId`) and the reactions added or removed; a
click on a notification's own card (an Action.Execute whose verb is not the bot's, an
Action.Submit) names the card's message by `replyToId` too. Each is matched against the
sent-message index (one small read: a conversation no notification reached costs nothing more)
and what it concerns is put on the work queue, before the bot answers, as one EngagementItem per
notification message: recorded there, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.schema import Activity

from shared.engagement.sent_index import SentIndex
from shared.notifications.callback import ACTION, ANSWERED, REACTION, READ
from shared.notifications.outcome_store import target_row_of
from shared.sending.work_items import EngagementItem
from shared.storage.queues import WorkQueue
from shared.storage.references import activity_conversation_id

READ_RECEIPT = "application/vnd.microsoft.readReceipt"


class EngagementEvents:
    def __init__(
        self, sent_index: SentIndex, queue: WorkQueue, clock: Callable[[], datetime]
    ) -> None:
        self._sent_index = sent_index
        self._queue = queue
        self._clock = clock

    async def read_receipt(self, activity: Activity) -> None:
        value = activity.value if isinstance(activity.value, dict) else {}
        last_read = value.get("lastReadMessageId")
        if not isinstance(last_read, str) or not activity.conversation:
            return
        unread = await self._sent_index.unread_up_to(
            activity.channel_id or "", activity.conversation.id or "", last_read
        )
        for message in unread:
            item = EngagementItem(
                message.notification_id,
                READ,
                message.target_row,
                _person(activity),
                self._at(activity),
                activity.id or "",
                sent=(message.partition_key, message.row_key),
            )
            await self._queue.put(item.to_json())

    async def action(self, activity: Activity, verb: str, data: Any) -> bool:
        """A click on a notification's card (Action.Execute with a verb not the bot's own, or an
        Action.Submit): False if the card was not a notification's."""
        if not activity.reply_to_id or not activity.conversation:
            return False
        message = await self._sent_index.find(
            activity.channel_id or "", activity.conversation.id or "", activity.reply_to_id
        )
        if message is None:
            return False
        item = EngagementItem(
            message.notification_id,
            ACTION,
            message.target_row,
            _person(activity),
            self._at(activity),
            activity.id or "",
            detail={"verb": verb, "data": data},
        )
        await self._queue.put(item.to_json())
        return True

    async def answered(
        self, activity: Activity, notification_id: str, conversation_key: str, choice: str
    ) -> None:
        """An answer to a notification's question, recorded: its callback may want to hear."""
        item = EngagementItem(
            notification_id,
            ANSWERED,
            target_row_of(conversation_key),
            _person(activity),
            self._at(activity),
            activity.id or "",
            detail={"choice": choice, "conversationId": activity_conversation_id(activity)},
        )
        await self._queue.put(item.to_json())

    async def reaction(self, activity: Activity) -> None:
        if not activity.reply_to_id or not activity.conversation:
            return
        message = await self._sent_index.find(
            activity.channel_id or "", activity.conversation.id or "", activity.reply_to_id
        )
        if message is None:
            return
        item = EngagementItem(
            message.notification_id,
            REACTION,
            message.target_row,
            _person(activity),
            self._at(activity),
            activity.id or "",
            added=tuple(r.type for r in activity.reactions_added or () if r.type),
            removed=tuple(r.type for r in activity.reactions_removed or () if r.type),
        )
        await self._queue.put(item.to_json())

    def _at(self, activity: Activity) -> str:
        at = activity.timestamp if isinstance(activity.timestamp, datetime) else self._clock()
        return at.isoformat()


def _person(activity: Activity) -> str:
    """Who did it: their Entra object id where Teams gives it, else their channel id."""
    sender = activity.from_property
    if sender is None:
        return ""
    return sender.aad_object_id or sender.id or ""
