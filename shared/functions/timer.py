"""What each notify_timer run does: queue due notifications, then the scheduled broadcast, then
drop the deletion log's expired rows, and copy older references into the tenant index until it
has them all.

It only records and enqueues, so a run takes seconds whatever the audiences' sizes: the work
queue's runs do the sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import shared.telemetry.names as names
from shared.delivery.outbound import OutboundMessage
from shared.notifications.broadcast_schedule import BroadcastSchedule
from shared.notifications.request import NotifyRequest
from shared.sending.notifier import Notifier
from shared.sending.work_items import WakeItem
from shared.storage.audience import Audience
from shared.storage.deletion_log import DeletionLog
from shared.storage.tenant_index import TenantIndex
from shared.telemetry.current import CONSUMER, telemetry
from shared.telemetry.invocations import invocation_traceparent

logger = logging.getLogger(__name__)


class TimerJob:
    def __init__(
        self,
        notifier: Notifier,
        broadcast_text: str,
        broadcast_schedule: BroadcastSchedule,
        deletions: DeletionLog,
        tenant_index: TenantIndex,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifier = notifier
        self._broadcast_text = broadcast_text
        self._broadcast_schedule = broadcast_schedule
        self._deletions = deletions
        self._tenant_index = tenant_index
        self._clock = clock

    async def run(
        self,
        past_due: bool,
        wake: Callable[[str], None] | None = None,
        context: Any = None,
    ) -> None:
        """`wake` is the function's queue output binding: once this run queued work, a WakeItem
        there has this instance's listener take it at once. The run is a span of the trace the
        host's invocation (`context`, the function's) starts; what it queues continues it."""
        parent = invocation_traceparent(context)
        with telemetry().span(names.TIMER_RUN, CONSUMER, parent=parent) as span:
            span.set({names.WORK_KIND: names.TIMER_RUN})
            await self._run(past_due, wake)

    async def _run(self, past_due: bool, wake: Callable[[str], None] | None) -> None:
        if past_due:
            # The host missed a slot (restart, scale-in); this run catches up.
            logger.warning("Timer is past due; catching up now")
        queued = await self._notifier.queue_due()
        broadcast, broadcast_id = await self._broadcast()
        logger.info(
            "Timer run: queued %d due notification(s)/reminder(s); %s", len(queued), broadcast
        )
        woken_for = [*queued, *([broadcast_id] if broadcast_id else [])]
        if wake is not None and woken_for:
            wake(WakeItem(woken_for[0]).message())
        if dropped := await self._deletions.drop_expired():
            logger.info("Dropped %d expired row(s) of the deletion log", dropped)
        await self.build_tenant_index()

    async def build_tenant_index(self) -> bool:
        """Copy the next references stored before the tenant index; whether it has them all."""
        if await self._tenant_index.complete():
            return True
        return await self._tenant_index.build(self._deletions, self._clock)

    async def _broadcast(self) -> tuple[str, str | None]:
        """Queue the scheduled broadcast if its slot is due; what became of it, for the log, and
        its id if it was queued."""
        if not self._broadcast_text:
            return "no NOTIFY_TIMER_TEXT set: no broadcast", None
        now = self._clock()
        slot = await self._broadcast_schedule.claim_due_slot(now)
        if slot is None:
            due, following = self._broadcast_schedule.slots_around(now)
            if due is not None:
                return f"broadcast already sent for slot {_utc(due)}", None
            return f"broadcast not due: next slot at {_utc(following)}", None
        text = self._broadcast_text
        request = NotifyRequest(OutboundMessage(text=text), Audience(), payload={"text": text})
        status = await self._notifier.queue(request)
        return f"broadcast queued as {status['id']} for slot {_utc(slot)}", status["id"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
