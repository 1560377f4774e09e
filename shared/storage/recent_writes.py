"""What this process last wrote for each reference, so an unchanged one is not written again."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

# Another instance may delete a reference (pruning, the bot removed) without this one knowing;
# entries expire so such a reference is written again by the next message after at most this long.
# It is also how often LastSeen is refreshed for a conversation that keeps talking.
TTL_SECONDS = 15 * 60
MAX_ENTRIES = 20_000


class RecentWrites:
    def __init__(
        self,
        ttl_seconds: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[str, float]] = OrderedDict()

    def is_current(self, key: Hashable, fingerprint: str) -> bool:
        entry = self._entries.get(key)
        if entry is None:
            return False
        written, at = entry
        if self._clock() - at > self._ttl:
            del self._entries[key]
            return False
        return written == fingerprint

    def remember(self, key: Hashable, fingerprint: str) -> None:
        self._entries[key] = (fingerprint, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)
