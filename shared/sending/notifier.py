"""Notifications end to end: record, send now or queue or schedule, queue what has come due.

A small audience is sent within the request (the caller gets the full report). A larger one, a
scheduled notification that has come due, a reminder and the scheduled broadcast go on the work
queue, where queue-triggered runs on any number of instances send them (see `expansion`); a
larger one's first window is split within the request, so its chunks are there at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from shared.delivery.actions import SendMessage
from shared.delivery.fanout import Delivery
from shared.delivery.outcomes import DeliveryReport, TargetResult
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.notifications.request import NotifyRequest
from shared.sending.context import WorkContext
from shared.sending.expansion import AudienceExpansion
from shared.sending.work_items import ExpandItem
from shared.storage.references import StoredReference
from shared.storage.tables import RowExistsError, StorageUnavailableError

logger = logging.getLogger(__name__)

INLINE_CHUNK = "inline"  # the one chunk an audience sent within its request makes


class Notifier:
    def __init__(
        self,
        context: WorkContext,
        delivery: Delivery,
        expansion: AudienceExpansion,
        inline_max_targets: int,
        next_in_series: Callable[[Notification], Notification | None] = lambda _: None,
        after_outcomes: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._store = context.references
        self._delivery = delivery
        self._notifications = context.notifications
        self._outcomes = context.outcomes
        self._outcome_writer = context.outcome_writer
        self._prompts = context.prompts
        self._expansion = expansion
        self._inline_max_targets = inline_max_targets
        self._clock = context.clock
        # A recurring reminder's next occurrence (reminders live in the chat layer above).
        self._next_in_series = next_in_series
        self._after_outcomes = after_outcomes  # the `done` callback event

    async def send_now(self, request: NotifyRequest) -> tuple[bool, dict[str, Any]]:
        """Send within this call if the audience is small; else queue it. (inline?, the body)"""
        read_at = self._clock()
        # A team's members, or a group's, are known only once paged: always the queue.
        found_later = request.teams is not None or request.people is not None
        first = None if found_later else await self._first_targets(request)
        if first is None:
            return False, await self.queue(request)
        return True, await self._send_inline(request, first, read_at)

    async def queue(self, request: NotifyRequest) -> dict[str, Any]:
        """Record it and split its first window into work on the queue here, so that sending
        starts as soon as a listener takes a chunk; the status to answer with."""
        notification = await self._claimed_record(request, State.QUEUED)
        try:
            await self._expansion.run(ExpandItem(notification.id), redelivered=False)
        except StorageUnavailableError as error:
            # The queue's own run splits it instead (chunks are named by their keys and
            # claimed once: any put here already is not sent twice).
            logger.warning(
                "Notification %s: first window left to the queue: %s", notification.id, error
            )
            await self._start_or_fail(notification)
        logger.info("Queued notification %s", notification.id)
        return notification.to_status()

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

    async def queue_due(self) -> list[str]:
        """Queue every notification whose time has come, each claimed by one run only; the ids
        this run queued."""
        now = self._clock()
        queued: list[str] = []
        async for due in self._notifications.due(now):
            if due.rule and due.state is State.SCHEDULED:
                await self._schedule_next(due)
            claimed = await self._notifications.claim(due, now, State.QUEUED)
            if claimed is None:
                continue  # another timer run claimed it first
            if due.state is not State.SCHEDULED:
                logger.warning("Re-queueing notification %s, abandoned as %s", due.id, due.state)
            await self._expansion.start(claimed.id)
            queued.append(claimed.id)
        return queued

    async def _schedule_next(self, due: Notification) -> None:
        """Store the series' next occurrence before this one is claimed: its id comes from this
        one's, so however many runs get here, it is stored once and the series never stops."""
        following = self._next_in_series(due)
        if following is None:
            return
        with suppress(RowExistsError):
            await self._notifications.add(following)
            logger.info("Scheduled reminder %s, next of %s", following.id, due.id)

    async def _first_targets(self, request: NotifyRequest) -> list[StoredReference] | None:
        """The whole audience if it is small enough to send inline, else None (read no further)."""
        first: list[StoredReference] = []
        # Pages no larger than it takes to tell: a large audience costs one small read here.
        async for target in self._store.find(request.audience, self._inline_max_targets + 1):
            if len(first) == self._inline_max_targets:
                return None
            first.append(target)
        return first

    async def _send_inline(
        self, request: NotifyRequest, targets: list[StoredReference], read_at: datetime
    ) -> dict[str, Any]:
        notification = await self._claimed_record(request, State.SENDING)
        try:
            report = await self._deliver(notification, request, targets, read_at)
        except StorageUnavailableError:
            # Best effort: say it failed, so the status does not read "sending" for ever.
            with suppress(StorageUnavailableError):
                await self._notifications.finish(
                    notification, {"error": "storage unavailable"}, self._clock(), State.FAILED
                )
            raise
        return {"id": notification.id, **report.to_dict()}

    async def _claimed_record(self, request: NotifyRequest, state: State) -> Notification:
        """A new record, claimed from the start by this run (inline) or the queue's."""
        now = self._clock()
        return await self._notifications.add(
            Notification(
                id=Notification.new_id(),
                state=state,
                request=request.payload,
                created_at=now,
                claimed_at=now,
            )
        )

    async def _start_or_fail(self, notification: Notification) -> None:
        try:
            await self._expansion.start(notification.id)
        except StorageUnavailableError:
            # Nothing was sent; without this the timer would queue it again later, and the
            # caller's retry would send it twice.
            with suppress(StorageUnavailableError):
                await self._notifications.fail(notification.id, "the work queue was unavailable")
            raise

    async def _deliver(
        self,
        notification: Notification,
        request: NotifyRequest,
        targets: list[StoredReference],
        read_at: datetime,
    ) -> DeliveryReport:
        message = request.message
        # Each target's outcome is recorded as on the queue: the export lists them, and an update
        # or a recall finds the messages to change.
        claim = await self._outcomes.claim_chunk(
            notification.id, INLINE_CHUNK, self._clock(), take_over=False
        )
        if claim is None:
            raise RuntimeError(f"notification {notification.id} is new, yet its chunk is claimed")
        recorder = self._outcome_writer.recorder(notification.id, claim, len(targets))
        positions = {(t.channel_id, t.conversation_id): p for p, t in enumerate(targets)}

        async def on_result(result: TargetResult) -> None:
            await recorder.add(positions[(result.channel_id, result.conversation_id)], result)

        report = await self._delivery.send(
            SendMessage(message, notification.id),
            targets,
            on_sent=self._prompts.after_send(notification.id, message),
            on_result=on_result,
            read_at=read_at,
        )
        await recorder.finish()
        await self._notifications.finish(notification, report.to_dict(), self._clock())
        if self._after_outcomes is not None:
            await self._after_outcomes(notification.id)
        logger.info("Notification %s done: %s", notification.id, report.to_dict())
        return report
