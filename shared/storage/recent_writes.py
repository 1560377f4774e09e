"""What this process last wrote for each reference, and the ETag it got, so an unchanged one is
not written again while the stored row is still the one this process wrote."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

# How often LastSeen is refreshed for a conversation that keeps talking. (Another instance
# deleting or rewriting the row is caught by its ETag, not by this.)
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
        self._entries: OrderedDict[Hashable, tuple[str, str, float]] = OrderedDict()

    def etag_if_current(self, key: Hashable, fingerprint: str) -> str | None:
        """The ETag this process's write of `fingerprint` got, if that is what it last wrote."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        written, etag, at = entry
        if self._clock() - at > self._ttl:
            del self._entries[key]
            return None
        return etag if written == fingerprint else None

    def remember(self, key: Hashable, fingerprint: str, etag: str) -> None:
        self._entries[key] = (fingerprint, etag, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)
