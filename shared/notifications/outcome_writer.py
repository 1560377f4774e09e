"""Writing the outcomes of every chunk a process sends, so that a crash repeats little.

A message sent whose outcome is not yet written is one a crash sends again: the run that takes
the chunk over cannot tell it went out. So one `OutcomeWriter` per process holds every outcome
its chunks learned and not yet wrote, writes a notification's together (the outcomes of several
chunks and their claim rows in one transaction of up to 100 operations, as they share the
notification's partition), and lets no send start while UNRECORDED_LIMIT of them wait. Sends
in flight are at most NOTIFY_CONCURRENCY, so an instance that dies leaves at most
NOTIFY_CONCURRENCY + UNRECORDED_LIMIT sends that its successor repeats, at about one
transaction per 99 targets however many chunks the instance holds.

Each chunk has its `OutcomeRecorder`. A chunk's outcome leaves the writer only once its
transaction landed, and the chunk is marked done only by its run, once every outcome it owes is
written. One transaction per partition is in flight at a time (a claim row's ETag chains one write
to the next), and it runs to its end even if the run that started it is cancelled, so no write
lands unseen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.delivery.outcomes import TargetResult
from shared.notifications.outcome_store import (
    OUTCOMES_PER_TRANSACTION,
    ChunkClaim,
    ChunkWrite,
    OutcomeStore,
)
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS


class MessageIndex(Protocol):
    """Where the messages sent are indexed for what people do with them (engagement.sent_index),
    written beside their outcomes."""

    async def add(self, notification_id: str, results: Sequence[TargetResult]) -> None: ...


# Outcomes learned and not yet written, per process, before sends wait: one transaction's worth.
UNRECORDED_LIMIT = OUTCOMES_PER_TRANSACTION


class OutcomeWriter:
    def __init__(
        self, outcomes: OutcomeStore, sent_index: MessageIndex, clock: Callable[[], datetime]
    ) -> None:
        self._outcomes = outcomes
        self._sent_index = sent_index
        self._clock = clock
        self._partitions: dict[str, _Partition] = {}

    def recorder(self, notification_id: str, claim: ChunkClaim, expected: int) -> OutcomeRecorder:
        """The recorder of a chunk this run claimed, which owes `expected` outcomes."""
        partition = self._partitions.get(notification_id)
        if partition is None:
            partition = self._partitions[notification_id] = _Partition(notification_id)
        recorder = OutcomeRecorder(self, partition, claim, expected)
        partition.recorders.add(recorder)
        return recorder

    @property
    def unrecorded(self) -> int:
        """Outcomes learned in this process and not yet written."""
        return sum(len(p.entries) for p in self._partitions.values())

    async def room(self) -> None:
        """Return once fewer than UNRECORDED_LIMIT outcomes wait to be written."""
        while self.unrecorded >= UNRECORDED_LIMIT:
            fullest = max(self._partitions.values(), key=lambda p: len(p.entries))
            if not await self.write_now(fullest):
                return

    async def write_until(self, partition: _Partition, enough: Callable[[], bool]) -> None:
        while not enough():
            if not await self.write_now(partition):
                return

    async def write_now(self, partition: _Partition) -> bool:
        """Wait for the partition's write in flight, or start one: its failure is raised here.
        False if there was nothing to write."""
        if partition.writing is None or partition.writing.done():
            partition.writing = asyncio.ensure_future(self._write(partition))
            # Whoever started it may be gone by the time it fails: the error is theirs to see,
            # not the event loop's ("exception was never retrieved").
            partition.writing.add_done_callback(lambda task: task.cancelled() or task.exception())
        return await asyncio.shield(partition.writing)

    async def _write(self, partition: _Partition) -> bool:
        """One transaction: the partition's oldest outcomes, and the claims of finished chunks."""
        taken, writes = partition.next_transaction()
        if not writes:
            return False
        # The messages are indexed beside their outcomes, not before them: sends wait on this
        # write. Each is tried again on its own; if the index's fails for good where the
        # outcomes landed, the run fails all the same, and receipts and reactions to those
        # messages go uncounted (their rerun skips every target with an outcome).
        _, claims = await asyncio.gather(
            self._sent_index.add(partition.notification_id, [e.result for e in taken]),
            self._outcomes.write_together(
                partition.notification_id, [write for _, write in writes], self._clock()
            ),
        )
        written = set(taken)
        partition.entries = [e for e in partition.entries if e not in written]
        for (recorder, write), claim in zip(writes, claims, strict=True):
            recorder.claim = claim
            recorder.done = claim is not None and write.done
            recorder.beating = False  # any write of its claim row says it is alive
            if claim is None:  # taken over: the taker records the rest
                partition.withdraw(recorder)
            elif recorder.done:
                partition.recorders.discard(recorder)
        self.forget_if_idle(partition)
        return True

    def forget_if_idle(self, partition: _Partition) -> None:
        idle = not partition.entries and not partition.recorders
        if idle and self._partitions.get(partition.notification_id) is partition:
            del self._partitions[partition.notification_id]


@dataclass(eq=False)
class _Entry:
    recorder: OutcomeRecorder
    position: int
    result: TargetResult


@dataclass(eq=False)
class _Partition:
    """A notification's outcomes waiting in this process, oldest first."""

    notification_id: str
    entries: list[_Entry] = field(default_factory=list)
    recorders: set[OutcomeRecorder] = field(default_factory=set)
    writing: asyncio.Future[bool] | None = None

    def operations(self) -> int:
        """What writing every waiting outcome takes: a row each, and each chunk's claim row."""
        return len(self.entries) + len({e.recorder for e in self.entries})

    def next_transaction(self) -> tuple[list[_Entry], list[tuple[OutcomeRecorder, ChunkWrite]]]:
        """The oldest outcomes that fit one transaction with their chunks' claim rows, and the
        claim row of every chunk that finishes with them (or has nothing left to write)."""
        taken: list[_Entry] = []
        by_recorder: dict[OutcomeRecorder, list[_Entry]] = {}
        for entry in self.entries:
            claims = len(by_recorder) + (entry.recorder not in by_recorder)
            if len(taken) + 1 + claims > MAX_TRANSACTION_OPERATIONS:
                break
            taken.append(entry)
            by_recorder.setdefault(entry.recorder, []).append(entry)
        waiting = {e.recorder for e in self.entries[len(taken) :]}
        for recorder in self.recorders:
            finishing = recorder.finishing and recorder not in waiting
            if (finishing or recorder.beating) and recorder not in by_recorder:
                if len(taken) + len(by_recorder) + 1 > MAX_TRANSACTION_OPERATIONS:
                    break
                by_recorder[recorder] = []
        writes = [
            (
                recorder,
                ChunkWrite(
                    recorder.claim,
                    [(e.position, e.result) for e in entries],
                    done=recorder.finishing and recorder not in waiting,
                ),
            )
            for recorder, entries in by_recorder.items()
            if recorder.claim is not None
        ]
        return taken, writes

    def withdraw(self, recorder: OutcomeRecorder) -> None:
        """The recorder's outcomes leave unwritten (its chunk was taken over, or its run ends)."""
        self.entries = [e for e in self.entries if e.recorder is not recorder]
        self.recorders.discard(recorder)


class OutcomeRecorder:
    """The outcomes of one claimed chunk, handed to the process's writer as they come in."""

    def __init__(
        self, writer: OutcomeWriter, partition: _Partition, claim: ChunkClaim, expected: int
    ) -> None:
        self._writer = writer
        self._partition = partition
        self.claim: ChunkClaim | None = claim
        self._expected = expected  # outcomes this run records: then the chunk is done
        self._added = 0
        self.finishing = False  # its run says every outcome is in
        self.done = False
        self.beating = False  # its run asks for its claim row to be written, outcomes or not
        # A write failed even when tried again: later outcomes only wait, for `flush`. Each
        # send still out would otherwise spend another round of tries before the run ends.
        self._failed = False

    @property
    def lost(self) -> bool:
        """Taken over by a redelivery: its taker records the rest."""
        return self.claim is None

    def _waiting(self) -> bool:
        return any(e.recorder is self for e in self._partition.entries)

    def _nothing_waits(self) -> bool:
        return self.lost or not self._waiting()

    def _finished(self) -> bool:
        return self.done or (self._nothing_waits() and not self.finishing)

    async def add(self, position: int, result: TargetResult) -> None:
        if self.lost:
            return
        self._partition.entries.append(_Entry(self, position, result))
        self._added += 1
        if self._partition.operations() >= MAX_TRANSACTION_OPERATIONS and not self._failed:
            await self._failing_for_good(self._writer.write_now(self._partition))

    async def room(self) -> None:
        """Return once few enough outcomes wait to be written in this process (see the module)."""
        if not self._failed:
            await self._failing_for_good(self._writer.room())

    async def _failing_for_good(self, write: Awaitable[object]) -> None:
        try:
            await write
        except BaseException:
            self._failed = True
            raise

    async def keep_alive(self) -> None:
        """Write the chunk's claim row (with any outcomes waiting): a run still at work says so,
        however long its sends wait (see HEARTBEAT_SECONDS)."""
        self.beating = True
        await self._writer.write_until(self._partition, lambda: not self.beating or self.lost)

    async def finish(self) -> None:
        """Write what is left and mark the chunk done once every outcome it owes is in."""
        self.finishing = self._added >= self._expected
        await self._writer.write_until(self._partition, self._finished)
        self.abandon()  # stopped short (taken over, or owing more): nothing more comes from it

    def abandon(self) -> None:
        """Its run ends without the chunk done (cut off, failed, taken over): what it learned and
        did not write leaves with the run."""
        if not self.done:
            self._partition.withdraw(self)
            self._writer.forget_if_idle(self._partition)

    async def flush(self) -> None:
        """On the way out of a failed run: write what it learned if storage lets (each outcome
        written is a message the rerun does not send again); the chunk is not marked done. What
        could not be written leaves the writer with the run: the rerun sends it."""
        try:
            await self._writer.write_until(self._partition, self._nothing_waits)
        finally:
            self.abandon()
