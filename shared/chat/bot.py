"""The bot's behaviour: remember conversations that talk to it, forget those that remove it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity

from shared.chat.prompt_replies import PromptReplies
from shared.chat.reminder_dialog import ReminderDialog
from shared.notifications.reply_text import normalized
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import TEAMS, StoredReference, activity_conversation_id

logger = logging.getLogger(__name__)

WELCOME = (
    "Hi! I'm here to send you notifications in this conversation. "
    'You\'re subscribed; say "stop" any time to unsubscribe.'
)
SUBSCRIBED = (
    "Got it. You're subscribed: I'll message you here when there's news. "
    'Say "stop" to unsubscribe, or "remind me in 10 minutes to stretch".'
)
UNSUBSCRIBED = (
    "You're unsubscribed and won't get notifications here. Say anything to subscribe again."
)
# "stop" means no more messages at all: reminders set before it are cancelled, and said so.
REMINDERS_CANCELLED = "I've also cancelled your {count} pending reminder{s}."
STOP_WORDS = frozenset({"stop", "unsubscribe"})


class ProactiveBot(ActivityHandler):
    def __init__(
        self,
        store: ReferenceStore,
        reminders: ReminderDialog,
        prompt_replies: PromptReplies,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._reminders = reminders
        self._prompt_replies = prompt_replies
        self._clock = clock

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        # In Teams channels the text starts with an @mention of the bot.
        text = (TurnContext.remove_recipient_mention(activity) or "").strip()
        pending = await self._prompt_replies.pending(turn_context)
        if pending is not None and await self._prompt_replies.answer(turn_context, pending, text):
            await self._remember(activity, only_if_changed=True)
            return
        if normalized(text) in STOP_WORDS:
            await self._forget(activity, "user unsubscribed")
            cancelled = await self._reminders.drop_all(activity)
            answer = UNSUBSCRIBED
            if cancelled:
                s = "" if cancelled == 1 else "s"
                answer += " " + REMINDERS_CANCELLED.format(count=cancelled, s=s)
            await turn_context.send_activity(answer)
            return
        await self._remember(activity, only_if_changed=True)
        if await self._reminders.handle(turn_context, text):
            return
        if pending is not None and await self._prompt_replies.ask_again(turn_context, pending):
            return
        await turn_context.send_activity(SUBSCRIBED)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        event_type = _teams_event_type(activity)
        if event_type == "teamDeleted":
            await self._forget(activity, "team deleted")
        elif event_type == "teamRestored":
            await self._remember(activity)
        elif _includes_bot(activity.members_removed, activity):
            await self._forget(activity, "bot removed")
        elif _includes_bot(activity.members_added, activity):
            await self._remember(activity)
            await turn_context.send_activity(WELCOME)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        # Teams also sends conversationUpdate with the bot added; that one says welcome.
        await self._remember(turn_context.activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context.activity, "app uninstalled")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # This bot handles no invokes (card actions, task modules). The SDK would answer 501,
        # which callers and monitors read as a server fault; an empty 200 is harmless.
        return InvokeResponse(status=200)

    async def _remember(self, activity: Activity, only_if_changed: bool = False) -> None:
        # Joins and installs always write: the reference may have been deleted elsewhere.
        stored = StoredReference.from_activity(activity, self._clock())
        if only_if_changed:
            if not await self._store.save_if_changed(stored):
                return
        else:
            await self._store.save(stored)
        logger.info("Saved reference %s/%s", stored.channel_id, stored.conversation_id)

    async def _forget(self, activity: Activity, reason: str) -> None:
        conversation_id = activity_conversation_id(activity)
        await self._store.delete(activity.channel_id, conversation_id)
        logger.info("Removed reference %s/%s: %s", activity.channel_id, conversation_id, reason)


def _includes_bot(members: list | None, activity: Activity) -> bool:
    bot_id = getattr(activity.recipient, "id", None)
    return bool(bot_id) and any(getattr(m, "id", None) == bot_id for m in members or ())


def _teams_event_type(activity: Activity) -> str | None:
    channel_data = activity.channel_data
    if activity.channel_id == TEAMS and isinstance(channel_data, dict):
        event_type = channel_data.get("eventType")
        return event_type if isinstance(event_type, str) else None
    return None
