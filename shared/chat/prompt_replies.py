"""Replies to a dialog-aware proactive message: recorded as answers, not as ordinary chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext

from shared.delivery.outbound import OutboundMessage
from shared.notifications.prompts import Answer, PromptStore


class PromptReplies:
    def __init__(self, prompts: PromptStore, clock: Callable[[], datetime]) -> None:
        self._prompts = prompts
        self._clock = clock

    async def handle(self, turn_context: TurnContext, text: str) -> bool:
        """Take `text` as the answer to a pending prompt; False when none is pending."""
        activity = turn_context.activity
        pending = await self._prompts.pending(activity.channel_id, activity.conversation.id)
        if pending is None:
            return False
        choice = pending.match(text)
        if choice is not None:
            answer = Answer(
                conversation_id=activity.conversation.id,
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
        if not pending.reprompted and await self._prompts.mark_reprompted(pending):
            again = OutboundMessage(
                text=f"Sorry, I didn't catch that. {pending.question}", choices=pending.choices
            )
            await turn_context.send_activity(again.to_activity())
            return True
        # Asked twice: let the conversation go back to normal.
        await self._prompts.close(pending)
        return False
