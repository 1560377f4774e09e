"""GET /api/notify/{id}: where a notification stands, and for prompts, what people answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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
        prompts: PromptStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._prompts = prompts
        self._clock = clock

    async def handle(self, notification_id: str) -> HttpResult:
        async def status() -> HttpResult:
            notification = await existing(self._notifications, notification_id)
            totals = await self._outcomes.totals(notification_id)
            answer = progress(notification, totals, self._clock())
            choices = notification.request.get("choices")
            if choices:
                answers = await self._prompts.answers(notification.id)
                answer.update(answer_summary(answers, choices))
            return HttpResult(200, answer)

        return await answer_about(notification_id, status)
