"""GET /api/notify/{id}: where a notification stands, what people did with it (read, reacted,
clicked), and for prompts, what they answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.engagement.store import EngagementStore
from shared.functions.lookup import answer_about, existing
from shared.http import HttpResult
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.progress import progress
from shared.notifications.prompt_store import PromptStore, answer_summary


class StatusEndpoint:
    def __init__(
        self,
        notifications: NotificationStore,
        outcomes: OutcomeStore,
        engagement: EngagementStore,
        prompts: PromptStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._engagement = engagement
        self._prompts = prompts
        self._clock = clock

    async def handle(self, notification_id: str) -> HttpResult:
        async def status() -> HttpResult:
            notification = await existing(self._notifications, notification_id)
            totals = await self._outcomes.totals(notification_id)
            answer = progress(notification, totals, self._clock())
            engaged = await self._engagement.totals(notification_id)
            engagement = engaged.to_dict()
            if notification.request.get("callback"):
                answer["callbacks"] = engaged.callbacks()
            choices = notification.request.get("choices")
            if choices:
                answers = await self._prompts.answers(notification.id)
                answer.update(answer_summary(answers, choices))
                engagement["answered"] = len(answers)
            answer["engagement"] = {"answered": 0, **engagement}
            return HttpResult(200, answer)

        return await answer_about(notification_id, status)
