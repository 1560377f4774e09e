"""Replies to a dialog-aware proactive message: recorded as answers, not as ordinary chat.

An awaited answer wins over every command: with choices "Continue" and "Stop", "Stop" answers
the question. A reply that matches no choice gets the question once more (after the commands
had their turn), then the conversation goes back to normal. A click on a question card's button
is an answer like a typed one. In a personal chat the first answer counts; in group chats and
channels, each person's first answer.

A card keeps its question and its answer on every later click (with a line saying it was
answered already); a click on a question that closed unanswered shows the question, closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from msrest.exceptions import ClientRequestError, HttpOperationError

from shared.cards.questions import QUESTION_BLOCK, answered_card, question_card
from shared.cards.templates import ADAPTIVE_CARD
from shared.chat.engagement_events import EngagementEvents
from shared.chat.installed_chats import InstalledChats
from shared.delivery.outbound import OutboundMessage
from shared.notifications.notification_store import Notification, NotificationStore
from shared.notifications.prompt_store import Answer, PendingPrompt, PromptStore
from shared.storage.references import activity_conversation_id
from shared.teams import CHANNEL, GROUP_CHAT

logger = logging.getLogger(__name__)

# Conversations where several people may answer, each once.
SHARED_CONVERSATIONS = (GROUP_CHAT, CHANNEL)
RECORDED = "Thanks! I've recorded your answer: {choice}."
ALREADY_ANSWERED = "Thanks, I already have your answer."
ANSWERED_BY = "✅ {who} answered: {choice}"
ANSWERED = "✅ Answered: {choice}"  # by someone else in a conversation that answers once
QUESTION_CLOSED = "This question is closed: it was answered, replaced by a newer one, or expired."


class PromptReplies:
    def __init__(
        self,
        prompts: PromptStore,
        notifications: NotificationStore,
        clock: Callable[[], datetime],
        installed: InstalledChats,
        engagement: EngagementEvents,
    ) -> None:
        self._prompts = prompts
        self._engagement = engagement
        self._notifications = notifications
        self._clock = clock
        self._installed = installed

    async def pending(self, turn_context: TurnContext) -> PendingPrompt | None:
        activity = turn_context.activity
        pending = await self._prompts.pending(
            activity.channel_id, activity_conversation_id(activity)
        )
        if pending is None and (installed := await self._installed.of(activity)) is not None:
            # Asked in a chat the app was installed into: stored, and asked, under Graph's id.
            pending = await self._prompts.pending(activity.channel_id, installed)
        return pending

    async def answer(self, turn_context: TurnContext, pending: PendingPrompt, text: str) -> bool:
        """Record `text` as the answer if it matches a choice; False if it matches none."""
        choice = pending.match(text)
        if choice is None:
            return False
        if await self._record(turn_context, pending, choice):
            await turn_context.send_activity(RECORDED.format(choice=choice))
        else:
            await turn_context.send_activity(ALREADY_ANSWERED)
        return True

    async def answer_click(
        self, turn_context: TurnContext, notification_id: str, choice: str
    ) -> dict:
        """Record a question card's button as the answer; the card to show in its place."""
        activity = turn_context.activity
        if not Notification.is_id(notification_id):
            return answered_card("", QUESTION_CLOSED)  # no notification has such an id
        pending = await self.pending(turn_context)
        if pending is not None and pending.notification_id == notification_id:
            matched = pending.match(choice)
            if matched is None:
                # Not one of the card's buttons: the question is still open, and so is its card.
                return question_card(pending.question, pending.choices, notification_id)
            if await self._record(turn_context, pending, matched):
                return answered_card(
                    pending.question, _answered(activity, activity.from_property.id, matched)
                )
        given = await self._prompts.given_answer(notification_id, activity, _per_user(activity))
        question = await self._question(notification_id)
        if given is not None:
            line = _answered(activity, given.user_id, given.choice)
            return answered_card(question, line, ALREADY_ANSWERED)
        return answered_card(question, QUESTION_CLOSED)

    async def show_submitted(self, turn_context: TurnContext, card: dict) -> None:
        """Show `card` (what answer_click made of a click that came through the Action.Submit
        fallback, as a message) in place of the card clicked: the message it replies to. Not in
        group chats and channels, where the card stays open for the others: there (and where the
        card cannot be updated) its answer is said in a reply."""
        activity = turn_context.activity
        if "actions" in card:
            return  # the question is still open: its card stays as it is
        if activity.reply_to_id and not _per_user(activity):
            update = Activity(
                type=ActivityTypes.message,
                id=activity.reply_to_id,
                attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
            )
            try:
                await turn_context.update_activity(update)
                return
            except (HttpOperationError, ClientRequestError) as error:
                logger.warning(
                    "Could not update the card %s in %s/%s: %s",
                    activity.reply_to_id,
                    activity.channel_id,
                    activity.conversation.id,
                    type(error).__name__,
                )
        lines = [b["text"] for b in card["body"] if b.get("id") != QUESTION_BLOCK]
        await turn_context.send_activity("\n\n".join(lines))

    async def _question(self, notification_id: str) -> str:
        """What a notification asks, as its card shows it now (an update changes the record's
        body too); "" when that is not known. The id is the card's own: whoever holds it was
        shown the question."""
        notification = await self._notifications.get(notification_id)
        if notification is None or not notification.request.get("choices"):
            return ""
        return str(notification.request.get("text") or "")

    async def _record(self, turn_context: TurnContext, pending: PendingPrompt, choice: str) -> bool:
        activity = turn_context.activity
        answer = Answer.given_by(activity, choice, self._clock())
        if not await self._prompts.record_answer(pending, answer, _per_user(activity)):
            return False
        await self._engagement.answered(
            activity, pending.notification_id, pending.conversation, choice
        )
        return True

    async def ask_again(self, turn_context: TurnContext, pending: PendingPrompt) -> bool:
        """Ask once more after a reply that matched nothing; False once it was asked twice."""
        if not pending.reprompted and await self._prompts.mark_reprompted(pending):
            again = OutboundMessage(
                text=f"Sorry, I didn't catch that. {pending.question}", choices=pending.choices
            )
            await turn_context.send_activity(again.to_activity())
            return True
        # Asked twice: let the conversation go back to normal.
        await self._prompts.close(pending)
        return False


def _per_user(activity: Activity) -> bool:
    """Whether each person in the conversation answers once (else the conversation does)."""
    return activity.conversation.conversation_type in SHARED_CONVERSATIONS


def _answered(activity: Activity, answerer_id: str, choice: str) -> str:
    """The card's answer line: named after the person clicking when the answer is theirs."""
    if answerer_id == activity.from_property.id:
        return ANSWERED_BY.format(who=activity.from_property.name or "You", choice=choice)
    return ANSWERED.format(choice=choice)
