"""GET /api/notify/{id}: where a notification stands, and for prompts, what people answered."""

from __future__ import annotations

import re

from shared.http import STORAGE_UNAVAILABLE, HttpResult
from shared.notifications.prompts import PromptStore, answer_summary
from shared.notifications.records import NotificationStore
from shared.storage.tables import StorageUnavailableError

NOTIFICATION_ID = re.compile(r"^[0-9a-f]{32}$")
NOT_FOUND = HttpResult(404, {"error": "no notification with this id"})


class StatusEndpoint:
    def __init__(self, notifications: NotificationStore, prompts: PromptStore) -> None:
        self._notifications = notifications
        self._prompts = prompts

    async def handle(self, notification_id: str) -> HttpResult:
        if not NOTIFICATION_ID.match(notification_id or ""):
            return NOT_FOUND
        try:
            notification = await self._notifications.get(notification_id)
            if notification is None:
                return NOT_FOUND
            status = notification.to_status()
            choices = notification.request.get("choices")
            if choices:
                answers = await self._prompts.answers(notification.id)
                status.update(answer_summary(answers, choices))
        except StorageUnavailableError:
            return STORAGE_UNAVAILABLE
        return HttpResult(200, status)
