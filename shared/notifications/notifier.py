"""Notifications end to end: record, send now or schedule, deliver when due, track prompts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from shared.delivery.fanout import Delivery
from shared.delivery.results import DeliveryReport
from shared.notifications.lifecycle import State
from shared.notifications.prompts import PromptStore
from shared.notifications.records import Notification, NotificationStore
from shared.notifications.request import NotifyRequest, parse_notify_request
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        store: ReferenceStore,
        delivery: Delivery,
        notifications: NotificationStore,
        prompts: PromptStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._notifications = notifications
        self._prompts = prompts
        self._clock = clock

    async def send_now(self, request: NotifyRequest) -> dict[str, Any]:
        now = self._clock()
        notification = await self._notifications.add(
            Notification(
                id=Notification.new_id(),
                state=State.SENDING,
                request=request.payload,
                created_at=now,
                claimed_at=now,
            )
        )
        try:
            report = await self._deliver(notification, request)
        except StorageUnavailableError:
            # Best effort: say it failed, so the status does not read "sending" for ever.
            with suppress(StorageUnavailableError):
                await self._notifications.finish(
                    notification, {"error": "storage unavailable"}, State.FAILED
                )
            raise
        return {"id": notification.id, **report.to_dict()}

    async def schedule(self, request: NotifyRequest) -> dict[str, Any]:
        notification = await self._notifications.add(
            Notification(
                id=Notification.new_id(),
                state=State.SCHEDULED,
                request=request.payload,
                created_at=self._clock(),
                send_at=request.send_at,
            )
        )
        logger.info("Scheduled notification %s for %s", notification.id, request.send_at)
        return notification.to_status()

    async def deliver_due(self) -> int:
        """Send every notification whose time has come; each is claimed by one run only."""
        now = self._clock()
        delivered = 0
        async for due in self._notifications.due(now):
            claimed = await self._notifications.claim(due, now)
            if claimed is None:
                continue  # another timer run claimed it first
            if due.state is State.SENDING:
                logger.warning("Resuming notification %s abandoned mid-send", due.id)
            await self._deliver(claimed, parse_notify_request(claimed.request))
            delivered += 1
        return delivered

    async def _deliver(self, notification: Notification, request: NotifyRequest) -> DeliveryReport:
        message = request.message
        on_sent = None
        if message.choices:

            async def on_sent(target: StoredReference) -> None:
                await self._prompts.await_reply(
                    target, notification.id, message.text or "", message.choices
                )

        targets = self._store.find(request.audience)
        report = await self._delivery.send(message, targets, on_sent=on_sent)
        await self._notifications.finish(notification, report.to_dict())
        logger.info("Notification %s done: %s", notification.id, report.to_dict())
        return report
