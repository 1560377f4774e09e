"""Sending one chunk of a queued notification, and recording each target's outcome.

A run claims the chunk, reads its references in one range query, sends within the channel's
limits and records outcomes in transactions of up to 99 as they come in. A redelivered item (the
run before it failed or died) takes the claim over and skips the targets that have an outcome: a
crash repeats only the sends whose outcomes were not yet written — the transaction being written
and the results gathered since, never more than the chunk — per chunk the dead instance held.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime

from shared.delivery.fanout import Delivery
from shared.delivery.outbound import OutboundMessage
from shared.delivery.results import REFERENCE_GONE, Outcome, TargetResult
from shared.notifications.cancellation import CancelWatch
from shared.notifications.outcomes import OUTCOMES_PER_TRANSACTION, ChunkClaim, OutcomeStore
from shared.notifications.prompts import PromptStore
from shared.notifications.records import NotificationStore
from shared.notifications.request import parse_notify_request
from shared.notifications.work_items import ChunkItem
from shared.storage.keys import decode_key
from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference

logger = logging.getLogger(__name__)

MESSAGES_CACHED = 32  # notifications whose message a process keeps, not to re-read it per chunk


class ChunkDelivery:
    def __init__(
        self,
        notifications: NotificationStore,
        outcomes: OutcomeStore,
        store: ReferenceStore,
        delivery: Delivery,
        prompts: PromptStore,
        cancel_watch: CancelWatch,
        clock: Callable[[], datetime],
    ) -> None:
        self._notifications = notifications
        self._outcomes = outcomes
        self._store = store
        self._delivery = delivery
        self._prompts = prompts
        self._cancel_watch = cancel_watch
        self._clock = clock
        self._messages: OrderedDict[str, OutboundMessage] = OrderedDict()

    async def run(self, item: ChunkItem, redelivered: bool) -> None:
        message = await self._message(item.notification_id)
        if message is None:
            logger.warning("Chunk %s: notification %s is gone", item.chunk, item.notification_id)
            return
        claim = await self._outcomes.claim_chunk(
            item.notification_id, item.chunk, self._clock(), take_over=redelivered
        )
        if claim is None:
            return  # done already, or another copy holds it
        recorder = _Recorder(
            self._outcomes,
            item.notification_id,
            claim,
            len(item.row_keys) - len(claim.recorded),
            self._clock,
        )
        read_at = self._clock()
        found = {
            (r.channel_id, r.conversation_id): r
            for r in await self._store.get_many(item.partition_key, _pending_keys(item, claim))
        }
        positions: dict[tuple[str, str], int] = {}
        targets: list[StoredReference] = []
        for position, (channel_id, conversation_id) in _targets(item):
            if position in claim.recorded:
                continue
            reference = found.get((channel_id, conversation_id))
            if reference is None:
                gone = TargetResult(
                    channel_id, conversation_id, Outcome.SKIPPED, error=REFERENCE_GONE
                )
                await recorder.add(position, gone)
            else:
                positions[(channel_id, conversation_id)] = position
                targets.append(reference)

        async def on_result(result: TargetResult) -> None:
            await recorder.add(positions[(result.channel_id, result.conversation_id)], result)

        async def stopped() -> bool:
            return recorder.lost or await self._cancel_watch.cancelled(item.notification_id)

        await self._delivery.send(
            message,
            targets,
            on_sent=self._prompts.after_send(item.notification_id, message),
            on_result=on_result,
            stopped=stopped,
            read_at=read_at,
        )
        await recorder.finish()
        if recorder.lost:
            logger.warning("Chunk %s was taken over; its taker records the rest", item.chunk)

    async def _message(self, notification_id: str) -> OutboundMessage | None:
        message = self._messages.get(notification_id)
        if message is None:
            notification = await self._notifications.get(notification_id)
            if notification is None:
                return None
            message = parse_notify_request(notification.request).message
            self._messages[notification_id] = message
            if len(self._messages) > MESSAGES_CACHED:
                self._messages.popitem(last=False)
        return message


class _Recorder:
    """Outcomes of one claimed chunk, written a transaction at a time as they come in; the
    transaction with the last of them also marks the chunk done."""

    def __init__(
        self,
        outcomes: OutcomeStore,
        notification_id: str,
        claim: ChunkClaim,
        expected: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._outcomes = outcomes
        self._notification_id = notification_id
        self._claim: ChunkClaim | None = claim
        self._expected = expected  # outcomes this run records: then the chunk is done
        self._clock = clock
        self._pending: list[tuple[int, TargetResult]] = []
        self._added = 0
        self._done = False
        self._writing = asyncio.Lock()

    @property
    def lost(self) -> bool:
        return self._claim is None

    async def add(self, position: int, result: TargetResult) -> None:
        self._pending.append((position, result))
        self._added += 1
        if self._added >= self._expected:
            await self._write(done=True)
        elif len(self._pending) >= OUTCOMES_PER_TRANSACTION:
            await self._write(done=False)

    async def finish(self) -> None:
        """Mark the chunk done if the last outcome did not (nothing to send, say)."""
        await self._write(done=True)

    async def _write(self, done: bool) -> None:
        async with self._writing:
            if self._claim is None or self._done:
                return
            if not done and len(self._pending) < OUTCOMES_PER_TRANSACTION:
                return  # another add wrote them meanwhile
            writing, self._pending = self._pending, []
            self._claim = await self._outcomes.record(
                self._notification_id, self._claim, writing, self._clock(), done=done
            )
            self._done = done


def _targets(item: ChunkItem) -> Iterable[tuple[int, tuple[str, str]]]:
    channel_id = decode_key(item.partition_key)
    for position, row_key in enumerate(item.row_keys):
        yield position, (channel_id, decode_key(row_key))


def _pending_keys(item: ChunkItem, claim: ChunkClaim) -> list[str]:
    return [k for p, k in enumerate(item.row_keys) if p not in claim.recorded]
