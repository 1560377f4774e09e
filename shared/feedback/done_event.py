"""The `done` callback event: made once every target of a notification has its outcome.

Whichever run records a notification's last outcomes cannot know it is the last, so each run of
its work (and an inline send) looks afterwards, for notifications whose callback wants `done`:
their status says done (or cancelled, every target recorded) and the event is made, once (its
row's key is the notification's). A redelivered run queues its delivery again, in case the run
before it made the event and died.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.engagement.store import EngagementStore, EventOrder, event_id
from shared.notifications.callback import DONE, Callbacks
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.progress import progress
from shared.sending.work_items import CallbackItem
from shared.storage.queues import WorkQueue
from shared.telemetry.current import telemetry

SETTLED = (State.DONE.value, State.CANCELLED.value)


class DoneEvents:
    def __init__(
        self,
        callbacks: Callbacks,
        notifications: NotificationStore,
        outcomes: OutcomeStore,
        engagement: EngagementStore,
        queue: WorkQueue,
        clock: Callable[[], datetime],
    ) -> None:
        self._callbacks = callbacks
        self._notifications = notifications
        self._outcomes = outcomes
        self._engagement = engagement
        self._queue = queue
        self._clock = clock

    async def after(self, notification_id: str, redelivered: bool = False) -> None:
        callback = await self._callbacks.of(notification_id)
        if callback is None or not callback.wants(DONE):
            return
        notification = await self._notifications.get(notification_id)
        if notification is None or notification.state is State.SCHEDULED:
            return
        status = progress(notification, await self._outcomes.totals(notification_id))
        if status.get("state") not in SETTLED or status["counts"].get("pending"):
            return
        order = EventOrder(event_id(notification_id, DONE), "notification.done", "", self._clock())
        made = await self._engagement.make_event(notification_id, order, status["counts"])
        if made:
            duration = (self._clock() - notification.created_at).total_seconds()
            telemetry().record_notification_duration(duration, str(status["state"]))
        if made or redelivered:
            await self._queue.put(CallbackItem(notification_id, order.id).to_json())
