"""Whether each target of a fan-out is still subscribed when its turn comes.

Targets are read once before sending, but a fan-out held back by a tenant's rate limit runs for
seconds or minutes, and a conversation may say "stop" meanwhile. At its turn each target is looked
up in a view of the targets still waiting, read again (one range query per channel) once the view
is MAX_AGE_SECONDS old: a conversation that unsubscribes gets nothing once about a second has
passed, for at most one read per channel per second of sending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from shared.storage.reference_store import ReferenceStore
from shared.storage.references import StoredReference
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 1.0


class LiveReferences:
    def __init__(
        self,
        store: ReferenceStore,
        targets: Iterable[StoredReference],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`targets` were read from `store` just now."""
        self._store = store
        self._clock = clock
        self._read_at = clock()
        self._waiting: dict[str, set[str]] = {}
        for target in targets:
            self._waiting.setdefault(target.partition_key, set()).add(target.row_key)
        self._gone: set[tuple[str, str]] = set()
        self._reading = asyncio.Lock()

    async def still_there(self, target: StoredReference) -> bool:
        """Whether the target's reference existed at most MAX_AGE_SECONDS ago (or at the last
        read, while the next is on its way). Its turn has come: later reads leave it out."""
        # One read at a time, and nobody waits for it but the target that started it: while it
        # is on its way the others go on the last view, so a read of a large audience that takes
        # longer than MAX_AGE_SECONDS slows one send per read instead of every send.
        if self._stale() and not self._reading.locked():
            async with self._reading:
                await self._read_again()
        key = (target.partition_key, target.row_key)
        if key in self._gone:
            return False
        self._waiting.get(target.partition_key, set()).discard(target.row_key)
        return True

    def _stale(self) -> bool:
        return self._clock() - self._read_at >= MAX_AGE_SECONDS

    async def _read_again(self) -> None:
        started = self._clock()
        try:
            for partition_key, row_keys in self._waiting.items():
                found = await self._store.existing_keys(partition_key, sorted(row_keys))
                for row_key in row_keys - found:
                    self._gone.add((partition_key, row_key))
                row_keys &= found
        except StorageUnavailableError:
            # Sending on the last view beats failing the targets: it is only seconds old.
            logger.warning("Could not re-read the targets still waiting; using the last read")
        self._read_at = started
        self._waiting = {p: rows for p, rows in self._waiting.items() if rows}
