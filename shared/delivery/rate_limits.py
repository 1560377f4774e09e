"""Channel rate limits: at most N sends per conversation and per tenant in any window.

Teams allows a bot 7 messages per conversation per second and 50 requests per second per tenant.
A sliding log of recent send times (not a token bucket, which lets a burst and its refill land in
one second) keeps every window under the limit. The limits hold per process: with Functions
scale-out each instance keeps its own, and the retry on 429 covers what they share.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

# A little over a second: a few ms of network jitter must not land an extra send in the channel's
# one-second window.
WINDOW_SECONDS = 1.05
PER_CONVERSATION_PER_WINDOW = 7
SWEEP_EVERY = 1024  # acquisitions between drops of idle keys, so memory follows live keys only


class SlidingWindow:
    def __init__(self, limit: int, window_seconds: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._sends: dict[Hashable, deque[float]] = {}

    def wait_seconds(self, key: Hashable, now: float) -> float:
        sends = self._sends.get(key)
        if sends is None:
            return 0.0
        while sends and sends[0] <= now - self.window_seconds:
            sends.popleft()
        if len(sends) < self.limit:
            return 0.0
        return sends[0] + self.window_seconds - now

    def record(self, key: Hashable, now: float) -> None:
        self._sends.setdefault(key, deque(maxlen=self.limit)).append(now)

    def sweep(self, now: float) -> None:
        idle = [k for k, s in self._sends.items() if not s or s[-1] <= now - self.window_seconds]
        for key in idle:
            del self._sends[key]

    def __len__(self) -> int:
        return len(self._sends)


class RateLimits:
    """Waits until a send to (conversation, tenant) fits both windows, then records it."""

    def __init__(
        self,
        per_conversation: int = PER_CONVERSATION_PER_WINDOW,
        per_tenant: int = 50,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._conversation = SlidingWindow(per_conversation)
        self._tenant = SlidingWindow(per_tenant) if per_tenant > 0 else None
        self._clock = clock
        self._sleep = sleep
        self._acquisitions = 0

    async def wait_turn(self, conversation_key: Hashable, tenant_id: str) -> None:
        checks = [(self._conversation, conversation_key)]
        if self._tenant is not None and tenant_id:
            checks.append((self._tenant, tenant_id))
        while True:
            now = self._clock()
            delay = max(window.wait_seconds(key, now) for window, key in checks)
            if delay <= 0:
                # Both windows are checked and recorded with no await between: no other send
                # can slip in, so neither window ever holds more than its limit.
                for window, key in checks:
                    window.record(key, now)
                self._sweep_now_and_then(now)
                return
            await self._sleep(delay)

    def _sweep_now_and_then(self, now: float) -> None:
        self._acquisitions += 1
        if self._acquisitions % SWEEP_EVERY == 0:
            for window in (self._conversation, self._tenant):
                if window is not None:
                    window.sweep(now)
