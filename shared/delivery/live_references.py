"""Whether each target of a fan-out is still subscribed when its turn comes.

Targets are read once before sending, but a fan-out held back by a tenant's rate limit runs for
seconds or minutes, and a conversation may say "stop" meanwhile. At its turn each target is looked
up among the references deleted since its fan-out read it, as the deletion log tells them; the
log is read again once this process's view of it is MAX_AGE_SECONDS old. A conversation that
unsubscribes gets nothing once about a second has passed.

One view serves the whole process (a queue instance runs dozens of chunks at once), and it reads
only what was logged since its last read: one small query a second, however many targets wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from shared.delivery.clocks import CLOCK_SKEW_SECONDS
from shared.storage.deletion_log import DeletionLog
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 1.0
# A deletion another instance logged at about the time of our last read may not have been
# visible to it (its clock differs, its write was still on the way): each read looks back this far.
LOOK_BACK = timedelta(seconds=CLOCK_SKEW_SECONDS + 4)


class LiveReferences:
    """The process's view of the references deleted lately; one instance per process."""

    def __init__(
        self,
        deletions: DeletionLog,
        wall_clock: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._deletions = deletions
        self._wall_clock = wall_clock
        self._clock = clock
        self._read_at = -float("inf")  # monotonic
        self._read_since: datetime | None = None  # wall: what the last read covered
        self._deleted: dict[tuple[str, str], datetime] = {}
        self._watching: Counter[datetime] = Counter()  # when each fan-out sending read targets
        self._reading = asyncio.Lock()

    @contextmanager
    def watching(self, read_at: datetime) -> Iterator[WatchedTargets]:
        """For as long as a fan-out sends to targets read from the store at (or after) `read_at`."""
        if self._read_since is not None and read_at < self._read_since - LOOK_BACK:
            self._read_since = None  # its read took long: look back as far as it needs
        self._watching[read_at] += 1
        try:
            yield WatchedTargets(self, read_at)
        finally:
            self._watching[read_at] -= 1
            if not self._watching[read_at]:
                del self._watching[read_at]

    async def deleted_since(self, target: StoredReference, read_at: datetime) -> bool:
        # One read at a time, and nobody waits for it but the target that started it: while it
        # is on its way the others go on the last view.
        if self._clock() - self._read_at >= MAX_AGE_SECONDS and not self._reading.locked():
            async with self._reading:
                await self._read_again(read_at)
        deleted_at = self._deleted.get((target.partition_key, target.row_key))
        # A deletion within the clock skew of the read may have come after it: the target is
        # skipped. One older than that came before the read, which found the reference again.
        return deleted_at is not None and deleted_at >= read_at - timedelta(
            seconds=CLOCK_SKEW_SECONDS
        )

    async def _read_again(self, read_at: datetime) -> None:
        started, wall_started = self._clock(), self._wall_clock()
        since = min(self._watching, default=read_at) - LOOK_BACK
        if self._read_since is not None:
            since = max(since, self._read_since - LOOK_BACK)
        try:
            deletions = await self._deletions.since(since)
        except StorageUnavailableError:
            # Sending on the last view beats failing the targets: it is only seconds old.
            logger.warning("Could not read the deletion log; using the last read")
            return
        finally:
            self._read_at = started
        self._read_since = wall_started
        for deletion in deletions:
            key = (deletion.partition_key, deletion.row_key)
            self._deleted[key] = max(deletion.at, self._deleted.get(key, deletion.at))
        # Keep what a fan-out still sending may ask about.
        horizon = min(self._watching, default=read_at) - LOOK_BACK
        self._deleted = {key: at for key, at in self._deleted.items() if at >= horizon}


class WatchedTargets:
    """One fan-out's question: was this target deleted since the fan-out read it?"""

    def __init__(self, view: LiveReferences, read_at: datetime) -> None:
        self._view = view
        self._read_at = read_at

    async def still_there(self, target: StoredReference) -> bool:
        return not await self._view.deleted_since(target, self._read_at)
