"""Replies to a dialog-aware proactive message: recorded as answers, not as ordinary chat.

An awaited answer wins over every command: with choices "Continue" and "Stop", "Stop" answers
the question. A reply that matches no choice gets the question once more (after the commands
had their turn), then the conversation goes back to normal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext

from shared.delivery.outbound import OutboundMessage
from shared.notifications.prompts import Answer, PendingPrompt, PromptStore
from shared.storage.references import activity_conversation_id


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
        activity = turn_context.activity
        answer = Answer(
            conversation_id=activity_conversation_id(activity),
            channel_id=activity.channel_id,
            user_id=activity.from_property.id,
            choice=choice,
            answered_at=self._clock(),
        )
        if await self._prompts.record_answer(pending, answer):
            await turn_context.send_activity(f"Thanks! I've recorded your answer: {choice}.")
        else:
            await turn_context.send_activity("Thanks, I already have your answer.")
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
