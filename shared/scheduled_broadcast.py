"""The timer's job: send NOTIFY_TIMER_TEXT to every stored conversation."""

from __future__ import annotations

import logging

from shared.audience import Audience
from shared.delivery import DeliveryReport
from shared.messages import OutboundMessage
from shared.notify_endpoint import Notifier
from shared.notify_request import NotifyRequest

logger = logging.getLogger(__name__)


class ScheduledBroadcast:
    def __init__(self, notifier: Notifier, text: str) -> None:
        self._notifier = notifier
        self._text = text

    async def run(self, past_due: bool) -> DeliveryReport | None:
        if past_due:
            # The host missed a slot (restart, scale-in); one catch-up run covers it.
            logger.warning("Timer is past due; sending the scheduled broadcast now")
        if not self._text:
            logger.info("NOTIFY_TIMER_TEXT is empty; the scheduled broadcast sends nothing")
            return None
        request = NotifyRequest(OutboundMessage(text=self._text), Audience())
        report = await self._notifier.notify(request)
        logger.info("Scheduled broadcast report: %s", report.to_dict())
        return report
