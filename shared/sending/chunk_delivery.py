"""Sending one chunk of a queued notification, and recording each target's outcome.

A run claims the chunk, reads its references in one range query (for an update or a recall, the
outcome rows of the messages to change), acts on them within the channel's limits and records
outcomes in transactions of up to 99 as they come in. A redelivered item (the run before it failed
or died) takes the claim over and skips the targets that have an outcome: a crash repeats only
the sends whose outcomes were not yet written — the transaction being written and the results
gathered since, never more than the chunk — per chunk the dead instance held.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import replace
from typing import NamedTuple

from shared.delivery.actions import ChannelAction, RecallMessage, SendMessage, UpdateMessage
from shared.delivery.fanout import Delivery
from shared.delivery.outcomes import REFERENCE_GONE, Outcome, TargetResult
from shared.notifications.notification_store import RECALL, UPDATE, Notification
from shared.notifications.outcome_store import HEARTBEAT_SECONDS, ChunkClaim
from shared.notifications.outcome_writer import OutcomeRecorder
from shared.notifications.request import parse_notify_request
from shared.sending.context import WorkContext
from shared.sending.work_items import ChunkItem
from shared.storage.keys import decode_key, encode_key
from shared.storage.references import StoredReference
from shared.storage.tenant_index import channel_of

logger = logging.getLogger(__name__)

POISONED = "WorkItemPoisoned"  # the error code a poisoned chunk's targets get

NOTIFICATIONS_CACHED = 32  # whose work a process keeps, not to re-read the record per chunk


class ChunkDelivery:
    def __init__(
        self,
        context: WorkContext,
        delivery: Delivery,
    ) -> None:
        self._notifications = context.notifications
        self._outcomes = context.outcomes
        self._outcome_writer = context.outcome_writer
        self._store = context.references
        self._delivery = delivery
        self._prompts = context.prompts
        self._cancel_watch = context.cancel_watch
        self._clock = context.clock
        self._works: OrderedDict[str, _Work] = OrderedDict()

    async def run(self, item: ChunkItem, redelivered: bool) -> None:
        work = await self._work(item.notification_id)
        if work is None:
            logger.warning("Chunk %s: notification %s is gone", item.chunk, item.notification_id)
            return
        claim = await self._outcomes.claim_chunk(
            item.notification_id, item.chunk, self._clock(), take_over=redelivered
        )
        if claim is None:
            return  # done already, or another copy holds it
        recorder = self._outcome_writer.recorder(
            item.notification_id, claim, len(item.row_keys) - len(claim.recorded)
        )
        read_at = self._clock()
        found = await self._read_targets(work, item, _pending_keys(item, claim))
        positions: dict[tuple[str, str], int] = {}
        targets: list[StoredReference] = []
        for position, row_key in enumerate(item.row_keys):
            if position in claim.recorded:
                continue
            target = found.get(row_key)
            if target is None:
                await recorder.add(position, _gone(work, item, row_key))
            else:
                positions[(target.channel_id, target.conversation_id)] = position
                targets.append(target)

        async def on_result(result: TargetResult) -> None:
            if claim.taken_over and result.outcome is Outcome.SENT:
                result = replace(result, possible_duplicate=True)
            await recorder.add(positions[(result.channel_id, result.conversation_id)], result)

        async def stopped() -> bool:
            # No send starts while too many outcomes learned in this process wait to be written:
            # an instance that dies leaves its successor little to send twice.
            await recorder.room()
            return recorder.lost or await self._cancel_watch.cancelled(item.notification_id)

        # Owned by this run and ended with it: the claim row says the chunk is worked on, so a
        # status can tell it from one held by an instance that died.
        heartbeat = asyncio.create_task(_beat(recorder, item))
        try:
            await self._delivery.send(
                work.action,
                targets,
                on_sent=work.on_sent,
                on_result=on_result,
                stopped=stopped,
                # Live checks are for new messages: a change to one sent goes wherever it went.
                read_at=None if work.revises else read_at,
            )
        except Exception:
            await _stopped(heartbeat)
            await _keep_what_was_learned(recorder, item)
            raise  # the host runs the item again: it sends only what has no outcome
        except BaseException:
            recorder.abandon()  # cut off (cancelled): nothing of this run is written after it
            raise
        finally:
            await _stopped(heartbeat)  # however the run ends
        await recorder.finish()
        if recorder.lost:
            logger.warning("Chunk %s was taken over; its taker records the rest", item.chunk)

    async def give_up(self, item: ChunkItem) -> None:
        """The host gave up on the item (poisoned): each of its targets that has no outcome yet
        gets `failed`, with the reason, so every target still ends with exactly one."""
        claim = await self._outcomes.claim_chunk(
            item.notification_id, item.chunk, self._clock(), take_over=True
        )
        if claim is None:
            return  # every target in it has its outcome
        target_of = await self._target_ids(item)
        results = [
            (
                position,
                TargetResult(
                    *target_of(row_key),
                    Outcome.FAILED,
                    error=f"{POISONED}: its work item failed on every try",
                ),
            )
            for position, row_key in enumerate(item.row_keys)
            if position not in claim.recorded
        ]
        await self._outcomes.record(item.notification_id, claim, results, self._clock(), done=True)
        logger.error(
            "Notification %s: chunk %s poisoned; %d target(s) recorded as failed",
            item.notification_id,
            item.chunk,
            len(results),
        )

    async def _target_ids(self, item: ChunkItem) -> Callable[[str], tuple[str, str]]:
        """The channel and conversation id of each of the chunk's targets, by row key."""
        notification = await self._notifications.get(item.notification_id)
        if notification is not None and notification.revises:
            # An update's or a recall's chunk names the outcome rows of the messages it changes.
            sent = await self._outcomes.sent_messages(notification.revises, item.row_keys)
            return lambda row_key: (
                (sent[row_key].channel_id, sent[row_key].conversation_id)
                if row_key in sent
                else ("", row_key)
            )
        channel_id = channel_of(item.partition_key)
        return lambda row_key: (channel_id, decode_key(row_key))

    async def _read_targets(
        self, work: _Work, item: ChunkItem, row_keys: list[str]
    ) -> dict[str, StoredReference]:
        """The chunk's targets that are still there, by row key: the references, or for an
        update or a recall, the messages the revised notification sent."""
        if work.revises:
            sent = await self._outcomes.sent_messages(work.revises, row_keys)
            if work.personal:
                await self._add_recipients(sent)
            return sent
        return {r.row_key: r for r in await self._store.get_many(item.partition_key, row_keys)}

    async def _add_recipients(self, sent: dict[str, StoredReference]) -> None:
        """Who each changed message's recipient is, from its stored reference, for a card that
        names them (a conversation gone since keeps the message's own address only)."""
        by_channel: dict[str, list[StoredReference]] = {}
        for target in sent.values():
            by_channel.setdefault(target.channel_id, []).append(target)
        for channel_id, targets in by_channel.items():
            stored = {
                r.conversation_id: r
                for r in await self._store.get_many(
                    encode_key(channel_id), [encode_key(t.conversation_id) for t in targets]
                )
            }
            for target in targets:
                if (reference := stored.get(target.conversation_id)) is not None:
                    target.reference_json["user"] = reference.reference_json.get("user")

    async def _work(self, notification_id: str) -> _Work | None:
        work = self._works.get(notification_id)
        if work is None:
            notification = await self._notifications.get(notification_id)
            if notification is None:
                return None
            work = self._work_of(notification)
            self._works[notification_id] = work
            if len(self._works) > NOTIFICATIONS_CACHED:
                self._works.popitem(last=False)
        return work

    def _work_of(self, notification: Notification) -> _Work:
        if notification.kind == RECALL:
            return _Work(RecallMessage(), None, notification.revises)
        message = parse_notify_request(notification.request).message
        if notification.kind == UPDATE:
            personal = message.card is not None and message.card.personal
            return _Work(UpdateMessage(message), None, notification.revises, personal)
        return _Work(
            SendMessage(message, notification.id),
            self._prompts.after_send(notification.id, message),
            "",
        )


class _Work(NamedTuple):
    """What a notification's chunks do to each target."""

    action: ChannelAction
    on_sent: Callable[[StoredReference], Awaitable[None]] | None
    revises: str  # for an update or a recall: the notification whose messages it changes
    personal: bool = False  # an update whose card names each recipient


def _gone(work: _Work, item: ChunkItem, row_key: str) -> TargetResult:
    """The outcome of a target that is no longer there when its chunk runs."""
    if work.revises:
        # Its outcome row (and so the message's address) went: there is nothing to change.
        return TargetResult("", row_key, Outcome.SKIPPED, error="no record of the sent message")
    channel_id, conversation_id = channel_of(item.partition_key), decode_key(row_key)
    return TargetResult(channel_id, conversation_id, Outcome.SKIPPED, error=REFERENCE_GONE)


def _pending_keys(item: ChunkItem, claim: ChunkClaim) -> list[str]:
    return [k for p, k in enumerate(item.row_keys) if p not in claim.recorded]


async def _beat(recorder: OutcomeRecorder, item: ChunkItem) -> None:
    while not recorder.lost:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await recorder.keep_alive()
        except Exception as error:  # the sends' own writes fail the run if storage stays down
            logger.warning("Chunk %s: heartbeat not written: %s", item.chunk, error)


async def _stopped(task: asyncio.Task) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def _keep_what_was_learned(recorder: OutcomeRecorder, item: ChunkItem) -> None:
    """On the way out of a failed run, record the outcomes its sends learned if storage lets:
    each one recorded is a message the rerun does not send again."""
    try:
        await recorder.flush()
    except Exception as error:
        logger.error(
            "Chunk %s: outcomes not recorded (%s): the rerun sends them", item.chunk, error
        )
