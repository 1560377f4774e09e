"""What each notify_timer run does: queue due notifications, then the scheduled broadcast.

It only records and enqueues, so a run takes seconds whatever the audiences' sizes: the work
queue's runs do the sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.delivery.outbound import OutboundMessage
from shared.notifications.broadcast_schedule import BroadcastSchedule
from shared.notifications.notifier import Notifier
from shared.notifications.request import NotifyRequest
from shared.storage.audience import Audience

logger = logging.getLogger(__name__)


class TimerJob:
    def __init__(
        self,
        notifier: Notifier,
        broadcast_text: str,
        broadcast_schedule: BroadcastSchedule,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifier = notifier
        self._broadcast_text = broadcast_text
        self._broadcast_schedule = broadcast_schedule
        self._clock = clock

    async def run(self, past_due: bool) -> None:
        if past_due:
            # The host missed a slot (restart, scale-in); this run catches up.
            logger.warning("Timer is past due; catching up now")
        queued = await self._notifier.queue_due()
        logger.info("Timer queued %d due notification(s)", queued)
        await self._broadcast()

    async def _broadcast(self) -> None:
        if not self._broadcast_text:
            logger.info("NOTIFY_TIMER_TEXT is empty; the scheduled broadcast sends nothing")
            return
        slot = await self._broadcast_schedule.claim_due_slot(self._clock())
        if slot is None:
            return
        text = self._broadcast_text
        request = NotifyRequest(OutboundMessage(text=text), Audience(), payload={"text": text})
        status = await self._notifier.queue(request)
        logger.info("Scheduled broadcast for slot %s queued as %s", slot, status["id"])
