"""Splitting a queued notification's audience into work: one window of references per run.

Each `ExpandItem` reads a window of pages of the matching references' keys (never the
references), puts a `ChunkItem` on the queue for each run of them — spread over the window's
tenants — then an `ExpandItem` for the next window, and counts the window on the record. Every
step may run twice (a redelivery after a crash, a copy enqueued twice): chunks are named by their
keys and claimed once, and a window is counted once.

An update or a recall is split the same way, over the targets its notification's message reached
(their outcome rows) instead of the references; it starts once no send of that notification can
still be under way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from shared.delivery.clocks import CLOCK_SKEW_SECONDS
from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.notifications.outcome_store import TARGETS_PER_CHUNK
from shared.notifications.progress import queued_state
from shared.notifications.request import parse_notify_request
from shared.sending.cancellation import CHECK_EVERY_SECONDS
from shared.sending.context import WorkContext
from shared.sending.work_items import (
    TARGETS_PER_PAGE,
    ChunkItem,
    ExpandItem,
    PeopleItem,
    chunk_items,
    first_team_item,
    pages_in_window,
    spread_by_tenant,
)
from shared.storage.keys import decode_key
from shared.storage.reference_store import Continuation, TargetKey
from shared.storage.tenant_index import channel_of

logger = logging.getLogger(__name__)

Page = tuple[list[TargetKey], Continuation]  # keys of matching targets, and where more start

# Puts in flight at once: fast, yet the queue receives the chunks in about the order given.
PUTS_AT_ONCE = 8
# How long an update or recall waits before looking again whether its notification's sends are over.
SETTLE_POLL_SECONDS = 5
# After a cancel, sends that saw the notification's state just before it may still start for as
# long as a cached state lives (CancelWatch), give or take the instances' clock difference.
CANCEL_SEEN_EVERYWHERE = timedelta(seconds=CHECK_EVERY_SECONDS + 2 * CLOCK_SKEW_SECONDS)


class AudienceExpansion:
    def __init__(
        self,
        context: WorkContext,
    ) -> None:
        self._notifications = context.notifications
        self._store = context.references
        self._outcomes = context.outcomes
        self._queue = context.queue
        self._clock = context.clock

    async def start(self, notification_id: str) -> None:
        """Put the first window's item on the queue."""
        await self._queue.put(ExpandItem(notification_id).to_json())

    async def run(self, item: ExpandItem, redelivered: bool) -> None:
        started = self._clock()  # before any chunk of the window is on the queue
        notification = await self._notifications.to_split(
            item.notification_id, item.page, redelivered, cancelled_too=True
        )
        if notification is None:
            return
        cancelled = notification.state is State.CANCELLED
        revised = notification.revises
        if cancelled and revised:
            return  # an update or recall cancelled: the messages it would change stay as they are
        if revised and item.page == 0 and not await self._sends_over(revised):
            # Looked at again later: the host's queue is the wait, not this run.
            await self._queue.put(item.to_json(), delay_seconds=SETTLE_POLL_SECONDS)
            return
        request = None if revised else parse_notify_request(notification.request)
        if request is not None and request.people is not None:
            if not cancelled:  # nobody is looked up once cancelled
                await self._queue.put(PeopleItem(item.notification_id, 0).to_json())
            return
        teams = None if request is None else request.teams
        if teams is not None and cancelled:
            return  # a team's members are found by asking Teams: none is asked once cancelled
        if teams is not None:
            # A team's members or channels are found by asking Teams, a team at a time.
            first = first_team_item(item.notification_id, teams.channels is not None)
            await self._queue.put(first.to_json())
            return
        keys, continuation = await _read_window(
            self._page_reader(notification), item.continuation, pages_in_window(item.page)
        )
        tenant_of = {(k.partition_key, k.row_key): k.tenant_id for k in keys}
        chunks = spread_by_tenant(chunk_items(item.notification_id, item.page, keys), tenant_of)
        work = [] if cancelled else [chunk.to_json() for chunk in chunks]
        if cancelled:
            # Cancelled while its audience was being split: the rest is never sent, and each of
            # its targets is recorded `cancelled`, so the status and the export show all of it.
            for chunk in chunks:
                await self._cancel_chunk(chunk)
        if continuation is not None:
            work.append(ExpandItem(item.notification_id, item.page + 1, continuation).to_json())
        for start in range(0, len(work), PUTS_AT_ONCE):
            await asyncio.gather(*(self._queue.put(w) for w in work[start : start + PUTS_AT_ONCE]))
        await self._notifications.record_page(
            notification, item.page, len(keys), continuation is None, started
        )
        logger.info(
            "Notification %s: window %d matched %d target(s)%s",
            item.notification_id,
            item.page,
            len(keys),
            "" if continuation else "; the whole audience is on the queue",
        )

    async def give_up(self, item: ExpandItem) -> None:
        """The host gave up on the item (poisoned): the targets past its page can no longer be
        known, so the notification fails; those before it are sent and counted."""
        logger.error(
            "Notification %s: page %d of its audience was poisoned", item.notification_id, item.page
        )
        await self._notifications.fail(
            item.notification_id,
            f"page {item.page + 1} of the audience could not be read (work item poisoned); "
            "targets before it are sent and counted, later ones were never matched",
        )

    async def _cancel_chunk(self, chunk: ChunkItem) -> None:
        claim = await self._outcomes.claim_chunk(
            chunk.notification_id, chunk.chunk, self._clock(), take_over=False
        )
        if claim is None:
            return  # its chunk item ran, or runs: it records the chunk's targets itself
        channel_id = channel_of(chunk.partition_key)
        results = [
            (position, TargetResult(channel_id, decode_key(row_key), Outcome.CANCELLED))
            for position, row_key in enumerate(chunk.row_keys)
        ]
        await self._outcomes.record(chunk.notification_id, claim, results, self._clock(), done=True)

    def _page_reader(self, notification: Notification) -> Callable[[Continuation], Awaitable[Page]]:
        """Where a notification's targets come from: the references its audience matches, or for
        an update or a recall, the targets the revised notification's message reached."""
        if notification.revises:
            return partial(self._outcomes.sent_page, notification.revises, size=TARGETS_PER_PAGE)
        audience = parse_notify_request(notification.request).audience
        # From the tenant index, a page is a chunk of each tenant: every tenant has work on the
        # queue from the first window on.
        return partial(
            self._store.find_page,
            audience,
            page_size=TARGETS_PER_PAGE,
            rows_per_tenant=TARGETS_PER_CHUNK,
        )

    async def _sends_over(self, notification_id: str) -> bool:
        """Whether no send of this notification can still start or be under way, so every
        message it sent has its outcome row (with the activity id to change)."""
        notification = await self._notifications.get(notification_id)
        if notification is None:
            return True
        totals = await self._outcomes.totals(notification_id)
        if notification.state is State.CANCELLED:
            cancelled_at = notification.cancelled_at or notification.created_at
            return (
                self._clock() - cancelled_at >= CANCEL_SEEN_EVERYWHERE
                and totals.chunks_claimed == totals.chunks_done
            )
        return _finished(notification, queued_state(notification, totals))


async def _read_window(
    read_page: Callable[[Continuation], Awaitable[Page]], continuation: Continuation, pages: int
) -> Page:
    """Up to `pages` pages, and no more targets than that many full pages hold (a page of a
    tenant audience holds a chunk of every tenant)."""
    keys: list[TargetKey] = []
    for _ in range(pages):
        page, continuation = await read_page(continuation)
        keys += page
        if continuation is None or len(keys) >= pages * TARGETS_PER_PAGE:
            break
    return keys, continuation


def _finished(notification: Notification, state: State) -> bool:
    # A scheduled one sent nothing yet; one sent inline has its outcomes once its report is in.
    return state in (State.DONE, State.FAILED, State.SCHEDULED)
