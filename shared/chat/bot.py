"""The bot's behaviour: remember conversations that talk to it, forget those that remove it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity

from shared.cards.questions import (
    INVOKE_NAME,
    NOT_SUPPORTED,
    ActionRefused,
    card_answer,
    clicked_answer,
    executed_answer,
)
from shared.chat import teams_events
from shared.chat.engagement_events import READ_RECEIPT, EngagementEvents
from shared.chat.installed_chats import InstalledChats
from shared.chat.prompt_replies import PromptReplies
from shared.chat.reminders.dialog import ReminderDialog
from shared.chat.welcome import Welcome
from shared.notifications.reply_text import normalized
from shared.storage.keys import InvalidKeyError
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference, activity_conversation_id
from shared.teams import PERSONAL, TEAMS, member_ids

logger = logging.getLogger(__name__)

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
# The Universal Actions answer to a click on a caller's own card: a short message, the card kept.
CLICK_TAKEN = {
    "statusCode": 200,
    "type": "application/vnd.microsoft.activity.message",
    "value": "Got it.",
}


class ProactiveBot(ActivityHandler):
    def __init__(
        self,
        store: ReferenceStore,
        reminders: ReminderDialog,
        prompt_replies: PromptReplies,
        personal_chats: PersonalChatIndex,
        welcome: Welcome,
        clock: Callable[[], datetime],
        installed: InstalledChats,
        engagement: EngagementEvents,
    ) -> None:
        self._store = store
        self._reminders = reminders
        self._prompt_replies = prompt_replies
        self._personal_chats = personal_chats
        self._installed = installed
        self._welcome = welcome
        self._clock = clock
        self._engagement = engagement

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = _said(activity)
        clicked = clicked_answer(activity.value)
        if not text and clicked is not None:
            # A question card's button where Universal Actions are missing: a click all the same.
            card = await self._click(turn_context, *clicked)
            await self._prompt_replies.show_submitted(turn_context, card)
            return
        if not text and isinstance(activity.value, dict):
            # An Action.Submit on a notification's own card: the caller's to hear of, not ours.
            data = activity.value
            if await self._engagement.action(activity, str(data.get("verb") or ""), data):
                return
        pending = await self._prompt_replies.pending(turn_context)
        if pending is not None and await self._reminders.answer_reminder(
            turn_context, pending, text
        ):
            await self._remember(activity, only_if_changed=True)
            return
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
        event = teams_events.event_type(activity)
        if event in teams_events.TEAM_GONE:
            await self._forget_with_team(activity, f"team deleted ({event})")
        elif event in teams_events.TEAM_BACK:
            await self._remember(activity)
        elif event == teams_events.CHANNEL_DELETED:
            await self._forget_deleted_channel(activity)
        elif _includes_bot(activity.members_removed, activity):
            await self._forget_with_team(activity, "bot removed")
        elif _includes_bot(activity.members_added, activity):
            await self._remember(activity)
            await self._welcome.greet_once(turn_context)
        # Anything else (a channel created, renamed or restored, a team renamed or archived,
        # other members coming and going) changes nothing we keep, and says nothing.

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        action = teams_events.installation_action(activity)
        if action in teams_events.INSTALLED:
            await self._remember(activity)
            # In a team or group chat the conversationUpdate with the bot added says welcome; a
            # personal install may come without one.
            if action == teams_events.NEW_INSTALL and teams_events.in_personal_scope(activity):
                await self._welcome.greet_once(turn_context)
        elif action in teams_events.UNINSTALLED:
            await self._forget_with_team(activity, f"app uninstalled ({action})")

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.name == READ_RECEIPT:
            await self._engagement.read_receipt(turn_context.activity)

    async def on_message_reaction_activity(self, turn_context: TurnContext) -> None:
        await self._engagement.reaction(turn_context.activity)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != INVOKE_NAME:
            # Other invokes (task modules, message extensions) are not this bot's. The SDK would
            # answer 501, which callers and monitors read as a server fault; an empty 200 is
            # harmless.
            return InvokeResponse(status=200)
        try:
            clicked = executed_answer(activity.value)
        except ActionRefused as refused:
            action = activity.value.get("action") if isinstance(activity.value, dict) else None
            if (
                refused.code == NOT_SUPPORTED
                and isinstance(action, dict)
                and await self._engagement.action(
                    activity, str(action.get("verb")), action.get("data")
                )
            ):
                # A verb of the caller's own card: recorded for the caller; the card stays.
                return InvokeResponse(status=200, body=CLICK_TAKEN)
            logger.info("Refused a card action in %s: %s", activity.channel_id, refused.code)
            return InvokeResponse(status=refused.status, body=refused.answer)
        return InvokeResponse(
            status=200, body=card_answer(await self._click(turn_context, *clicked))
        )

    async def _click(self, turn_context: TurnContext, notification_id: str, choice: str) -> dict:
        """A question card's button: the answer recorded (a reminder's acted on), and the card
        to show in place of the one clicked."""
        card = await self._reminders.answer_click(turn_context, notification_id, choice)
        if card is None:
            card = await self._prompt_replies.answer_click(turn_context, notification_id, choice)
        await self._remember(turn_context.activity, only_if_changed=True)
        return card

    async def _remember(self, activity: Activity, only_if_changed: bool = False) -> None:
        # Joins and installs always write: the reference may have been deleted elsewhere.
        stored = StoredReference.from_activity(activity, self._clock())
        if await self._installed_chat_kept(stored):
            return
        if only_if_changed:
            if not await self._store.save_if_changed(stored):
                return
        else:
            await self._store.save(stored)
        logger.info("Saved reference %s/%s", stored.channel_id, stored.conversation_id)
        if stored.channel_id == TEAMS and stored.conversation_type == PERSONAL:
            # Indexed as a team roster would find it: a member who says "stop" here is then
            # known, and a later notification to their team's members skips them instead of
            # opening this chat again.
            await self._personal_chats.remember(
                stored.tenant_id,
                member_ids(stored.reference_json.get("user") or {}),
                stored.conversation_id,
                stored.service_url,
            )

    async def _installed_chat_kept(self, stored: StoredReference) -> bool:
        """Whether this 1:1 is one the app was installed into for a people audience, and so is
        stored already, under the chat id Graph gave: Teams names the same chat `a:...` in the
        activities of the install and after. No second reference is stored (both would be sent
        to); the person's `29:` id joins the index, pointing at the stored one."""
        installed = await self._installed.of_reference(stored)
        if installed is None:
            return False
        user = stored.reference_json.get("user") or {}
        await self._personal_chats.remember(
            stored.tenant_id, member_ids(user), installed, stored.service_url
        )
        return True

    async def _forget(self, activity: Activity, reason: str) -> None:
        await self._forget_id(activity.channel_id, activity_conversation_id(activity), reason)
        if (installed := await self._installed.of(activity)) is not None:
            # The same chat, stored under Graph's id when the app was installed for them.
            await self._forget_id(TEAMS, installed, reason)

    async def _forget_with_team(self, activity: Activity, reason: str) -> None:
        """Forget the conversation and, in a team, every conversation of the team (its own and
        its channels'): the bot leaves them all at once, and the event's conversation may be the
        channel chosen at install. References stored before they kept their team id stay until a
        send there is refused as gone."""
        await self._forget(activity, reason)
        await self._welcome.forget(activity.channel_id, activity_conversation_id(activity))
        team = teams_events.team_id(activity)
        if team is None:
            return
        if team != activity_conversation_id(activity):
            await self._forget_id(activity.channel_id, team, reason)
            await self._welcome.forget(activity.channel_id, team)
        for conversation_id in await self._store.delete_team(activity.channel_id, team):
            logger.info("Removed reference %s/%s: %s", activity.channel_id, conversation_id, reason)

    async def _forget_deleted_channel(self, activity: Activity) -> None:
        # The event's conversation is the team's General channel, which was not deleted.
        teams_channel = teams_events.teams_channel_id(activity)
        if teams_channel is None or teams_channel in (
            activity_conversation_id(activity),
            teams_events.team_id(activity),
        ):
            return
        await self._forget_id(activity.channel_id, teams_channel, "channel deleted")

    async def _forget_id(self, channel_id: str, conversation_id: str, reason: str) -> None:
        try:
            await self._store.delete(channel_id, conversation_id)
        except InvalidKeyError:
            return  # an id from channelData that no key can hold was never stored
        logger.info("Removed reference %s/%s: %s", channel_id, conversation_id, reason)


def _said(activity: Activity) -> str:
    """The message's text; in Teams channels without the @mention of the bot it starts with. A
    local channel may leave the recipient (the bot) out: then nothing names a mention of it."""
    if activity.recipient is None or not activity.recipient.id:
        return (activity.text or "").strip()
    return (TurnContext.remove_recipient_mention(activity) or "").strip()


def _includes_bot(members: list | None, activity: Activity) -> bool:
    bot_id = getattr(activity.recipient, "id", None)
    return bool(bot_id) and any(getattr(m, "id", None) == bot_id for m in members or ())
