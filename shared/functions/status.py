"""GET /api/notify/{id}: where a notification stands, and for prompts, what people answered."""

from __future__ import annotations

from shared.http import STORAGE_UNAVAILABLE, HttpResult
from shared.notifications.notification_store import Notification, NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.progress import progress
from shared.notifications.prompt_store import PromptStore, answer_summary
from shared.storage.tables import StorageUnavailableError

NOT_FOUND = HttpResult(404, {"error": "no notification with this id"})


def status_path(notification_id: str) -> str:
    """Where a notification's status is served (the Location of a 202)."""
    return f"/api/notify/{notification_id}"


class StatusEndpoint:
    def __init__(
        self, notifications: NotificationStore, outcomes: OutcomeStore, prompts: PromptStore
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._prompts = prompts

    async def handle(self, notification_id: str) -> HttpResult:
        if not Notification.is_id(notification_id):
            return NOT_FOUND
        try:
            notification = await self._notifications.get(notification_id)
            if notification is None:
                return NOT_FOUND
            status = progress(notification, await self._outcomes.totals(notification_id))
            choices = notification.request.get("choices")
            if choices:
                answers = await self._prompts.answers(notification.id)
                status.update(answer_summary(answers, choices))
        except StorageUnavailableError:
            return STORAGE_UNAVAILABLE
        return HttpResult(200, status)
