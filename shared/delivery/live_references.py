"""Whether each target of a fan-out is still subscribed when its turn comes.

Targets are read once before sending, but a fan-out held back by a tenant's rate limit runs for
seconds or minutes, and a conversation may say "stop" meanwhile. At its turn each target is looked
up in a view of the targets still waiting, read again once the view is MAX_AGE_SECONDS old: a
conversation that unsubscribes gets nothing once about a second has passed.

One view serves the whole process: a read covers the waiting targets of every fan-out the process
runs (a queue instance runs dozens of chunks at once), one key range per fan-out and several
ranges to a query, so re-checking costs a few queries a second however many fan-outs wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 1.0


class LiveReferences:
    """The process's view of which waiting targets still exist; one instance per process."""

    def __init__(self, store: ReferenceStore, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._watched: set[WatchedTargets] = set()
        self._reading = asyncio.Lock()

    @contextmanager
    def watching(self, targets: Iterable[StoredReference]) -> Iterator[WatchedTargets]:
        """Watch targets read from the store just now, for as long as their fan-out runs."""
        watched = WatchedTargets(self, targets, self._clock())
        self._watched.add(watched)
        try:
            yield watched
        finally:
            self._watched.discard(watched)

    async def refresh(self, watched: WatchedTargets) -> None:
        # One read at a time, and nobody waits for it but the target that started it: while it
        # is on its way the others go on the last view, so a read of a large audience that takes
        # longer than MAX_AGE_SECONDS slows one send per read instead of every send.
        if self._clock() - watched.read_at < MAX_AGE_SECONDS or self._reading.locked():
            return
        async with self._reading:
            await self._read_again()

    async def _read_again(self) -> None:
        started = self._clock()
        # What is waiting now, copied: targets keep taking their turns while the read is away.
        asked = [(w, {p: frozenset(rows) for p, rows in w.waiting.items()}) for w in self._watched]
        partitions = {p for _, waiting in asked for p in waiting}
        try:
            for partition in partitions:
                runs = [waiting[partition] for _, waiting in asked if partition in waiting]
                found = await self._store.existing_keys(partition, runs)
                for watched, waiting in asked:
                    watched.read(partition, waiting.get(partition, frozenset()), found)
        except StorageUnavailableError:
            # Sending on the last view beats failing the targets: it is only seconds old.
            logger.warning("Could not re-read the targets still waiting; using the last read")
        for watched, _ in asked:
            watched.read_at = started


class WatchedTargets:
    """One fan-out's targets in the process's view: those still waiting for their turn, and
    those found gone."""

    def __init__(
        self, view: LiveReferences, targets: Iterable[StoredReference], read_at: float
    ) -> None:
        self._view = view
        self.read_at = read_at
        self.waiting: dict[str, set[str]] = {}
        for target in targets:
            self.waiting.setdefault(target.partition_key, set()).add(target.row_key)
        self._gone: set[tuple[str, str]] = set()

    async def still_there(self, target: StoredReference) -> bool:
        """Whether the target's reference existed at most MAX_AGE_SECONDS ago (or at the last
        read, while the next is on its way). Its turn has come: later reads leave it out."""
        await self._view.refresh(self)
        if (target.partition_key, target.row_key) in self._gone:
            return False
        rows = self.waiting.get(target.partition_key)
        if rows is not None:
            rows.discard(target.row_key)
            if not rows:
                del self.waiting[target.partition_key]
        return True

    def read(self, partition_key: str, asked: frozenset[str], found: set[str]) -> None:
        for row_key in asked - found:
            self._gone.add((partition_key, row_key))
            self.waiting.get(partition_key, set()).discard(row_key)
