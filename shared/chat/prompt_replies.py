"""Replies to a dialog-aware proactive message: recorded as answers, not as ordinary chat.

An awaited answer wins over every command: with choices "Continue" and "Stop", "Stop" answers
the question. A reply that matches no choice gets the question once more (after the commands
had their turn), then the conversation goes back to normal. A click on a question card's button
is an answer like a typed one. In a personal chat the first answer counts; in group chats and
channels, each person's first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext

from shared.cards.questions import answered_card
from shared.delivery.outbound import OutboundMessage
from shared.notifications.prompt_store import Answer, PendingPrompt, PromptStore
from shared.storage.references import activity_conversation_id
from shared.teams import CHANNEL, GROUP_CHAT

# Conversations where several people may answer, each once.
SHARED_CONVERSATIONS = (GROUP_CHAT, CHANNEL)
RECORDED = "Thanks! I've recorded your answer: {choice}."
ALREADY_ANSWERED = "Thanks, I already have your answer."
ANSWERED_BY = "✅ {who} answered: {choice}"
QUESTION_CLOSED = "This question is closed: it was answered, replaced by a newer one, or expired."


class PromptReplies:
    def __init__(self, prompts: PromptStore, clock: Callable[[], datetime]) -> None:
        self._prompts = prompts
        self._clock = clock

    async def pending(self, turn_context: TurnContext) -> PendingPrompt | None:
        activity = turn_context.activity
        return await self._prompts.pending(activity.channel_id, activity_conversation_id(activity))

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
        pending = await self.pending(turn_context)
        matched = pending.match(choice) if pending is not None else None
        if pending is None or pending.notification_id != notification_id or matched is None:
            return answered_card("", QUESTION_CLOSED)
        if not await self._record(turn_context, pending, matched):
            return answered_card(pending.question, ALREADY_ANSWERED)
        who = turn_context.activity.from_property.name or "You"
        return answered_card(pending.question, ANSWERED_BY.format(who=who, choice=matched))

    async def _record(self, turn_context: TurnContext, pending: PendingPrompt, choice: str) -> bool:
        activity = turn_context.activity
        answer = Answer.given_by(activity, choice, self._clock())
        per_user = activity.conversation.conversation_type in SHARED_CONVERSATIONS
        return await self._prompts.record_answer(pending, answer, per_user)

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
