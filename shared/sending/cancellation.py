"""Whether a queued notification was cancelled, as the runs sending it see it.

Every run checks before each send, so the answer is cached per process: one read of the record's
state per notification per second, however many chunks and sends are in flight. A cancel is
therefore seen within about a second, and no send starts after that.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.notifications.lifecycle import State
from shared.notifications.notification_store import NotificationStore

CHECK_EVERY_SECONDS = 1.0
FORGET_AFTER_SECONDS = 600.0  # notifications nobody asked about for this long leave the cache


class CancelWatch:
    def __init__(
        self, notifications: NotificationStore, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._notifications = notifications
        self._clock = clock
        self._checked: dict[str, tuple[float, bool]] = {}

    async def cancelled(self, notification_id: str) -> bool:
        now = self._clock()
        checked_at, cancelled = self._checked.get(notification_id, (None, False))
        if cancelled or (checked_at is not None and now - checked_at < CHECK_EVERY_SECONDS):
            return cancelled
        # Sends that ask while this read is on its way take the last answer, not a read each.
        self._checked[notification_id] = (now, False)
        self._forget_idle(now)
        # A record that is gone counts as cancelled: nobody could read its outcomes.
        state = await self._notifications.state_of(notification_id)
        cancelled = state in (State.CANCELLED, None)
        self._checked[notification_id] = (now, cancelled)
        return cancelled

    def _forget_idle(self, now: float) -> None:
        idle = [n for n, (at, _) in self._checked.items() if now - at > FORGET_AFTER_SECONDS]
        for notification_id in idle:
            del self._checked[notification_id]
