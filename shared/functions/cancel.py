"""POST /api/notify/{id}/cancel: stop a scheduled or queued notification from sending more."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.functions.lookup import answer_about, existing
from shared.http import HttpResult
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import (
    NoSuchNotification,
    Notification,
    NotificationStore,
)
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.progress import progress, queued_state

logger = logging.getLogger(__name__)


class CancelEndpoint:
    def __init__(
        self,
        notifications: NotificationStore,
        outcomes: OutcomeStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._clock = clock

    async def handle(self, notification_id: str) -> HttpResult:
        return await answer_about(notification_id, lambda: self._cancel(notification_id))

    async def _cancel(self, notification_id: str) -> HttpResult:
        notification = await existing(self._notifications, notification_id)
        totals = await self._outcomes.totals(notification_id)
        if queued_state(notification, totals) is State.DONE:
            return _too_late(notification, "done")
        cancelled = await self._notifications.cancel_delivery(notification_id, self._clock())
        if cancelled is None:
            raise NoSuchNotification(notification_id)
        if cancelled.state is not State.CANCELLED:
            return _too_late(cancelled, cancelled.state.value)
        # The counts read a moment ago still hold: a cancel records no outcome of its own.
        logger.info("Notification %s cancelled", notification_id)
        return HttpResult(200, progress(cancelled, totals, self._clock()))


def _too_late(notification: Notification, state: str) -> HttpResult:
    if notification.state is State.SENDING:
        why = "it is being sent within its own request and finishes there"
    else:
        why = f"it is {state}"
    return HttpResult(409, {"error": f"nothing left to cancel: {why}", "detail": {"state": state}})
