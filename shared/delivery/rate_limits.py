"""Channel rate limits: at most N sends per conversation and per tenant in any window.

Teams allows a bot 7 messages per conversation per second and 50 requests per second per tenant.
A sliding log of recent send times (not a token bucket, which lets a burst and its refill land in
one second) keeps every window under the limit. On its own a RateLimits holds them per process;
given a SharedTenantBudget (tenant_budget), every instance keeps to its share of them, so they
hold across Functions scale-out, and a tenant paused after a 429 is paused on every instance.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.delivery.clocks import WINDOW_SECONDS

if TYPE_CHECKING:
    from shared.delivery.tenant_budget import SharedTenantBudget, Turn

PER_CONVERSATION_PER_WINDOW = 7
SWEEP_EVERY = 1024  # acquisitions between drops of idle keys, so memory follows live keys only
# How often a send waiting on a window full of sends in flight looks again.
IN_FLIGHT_POLL_SECONDS = 0.01


class SlidingWindow:
    """Sends per key in any window. A send taken with `start` counts from its turn until it is
    `finish`ed and then for a window after its answer: the channel sees it at some moment in
    between, so however late a request leaves or however slow its answer, no window of arrivals
    at the channel can hold more than the limit."""

    def __init__(self, limit: int, window_seconds: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._sends: dict[Hashable, deque[float]] = {}
        self._in_flight: dict[Hashable, int] = {}

    def wait_seconds(self, key: Hashable, now: float, limit: int | None = None) -> float:
        """Until a send fits; `limit` (a share of self.limit) may differ from one call to the
        next, so the last self.limit sends are kept. While sends in flight fill the window, a
        short while: one of them ends when its answer comes."""
        limit = self.limit if limit is None else min(limit, self.limit)
        in_flight = self._in_flight.get(key, 0)
        sends = self._sends.get(key)
        if sends is None:
            return 0.0 if in_flight < limit else IN_FLIGHT_POLL_SECONDS
        while sends and sends[0] <= now - self.window_seconds:
            sends.popleft()
        room = limit - in_flight
        if len(sends) < room:
            return 0.0
        if room <= 0:
            return IN_FLIGHT_POLL_SECONDS
        return sends[len(sends) - room] + self.window_seconds - now

    def record(self, key: Hashable, now: float) -> None:
        """A send that counts from `now` on (taken and answered at once)."""
        self._sends.setdefault(key, deque(maxlen=self.limit)).append(now)

    def start(self, key: Hashable) -> None:
        self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def finish(self, key: Hashable, now: float) -> None:
        left = self._in_flight.pop(key, 1) - 1
        if left:
            self._in_flight[key] = left
        self.record(key, now)

    def sweep(self, now: float) -> None:
        idle = [
            k
            for k, s in self._sends.items()
            if (not s or s[-1] <= now - self.window_seconds) and k not in self._in_flight
        ]
        for key in idle:
            del self._sends[key]

    def __len__(self) -> int:
        return len(self._sends)


class WaitingLines:
    """A first-come-first-served line per key, forgotten once nobody is in it."""

    def __init__(self) -> None:
        self._heads: dict[Hashable, asyncio.Lock] = {}
        self._waiting: dict[Hashable, int] = {}

    @asynccontextmanager
    async def head_of(self, key: Hashable) -> AsyncIterator[None]:
        """Wait to be first in `key`'s line; the block runs there, and its end lets the next in."""
        head = self._heads.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with head:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._heads[key]

    def __len__(self) -> int:
        return len(self._heads)


@dataclass(frozen=True)
class Ticket:
    """A send that took its turn; hand it back to `RateLimits.done` when the answer comes."""

    conversation_key: Hashable
    tenant_id: str | None  # None: no tenant window counted it


class RateLimits:
    """Waits until a send to (conversation, tenant) fits both windows, then records it.

    With a tenant_budget each window allows this instance's share only, and a tenant paused on
    any instance waits here too.
    """

    def __init__(
        self,
        per_conversation: int = PER_CONVERSATION_PER_WINDOW,
        per_tenant: int = 50,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tenant_budget: SharedTenantBudget | None = None,
    ) -> None:
        if tenant_budget is not None and tenant_budget.budget != per_tenant:
            raise ValueError(
                f"tenant_budget.budget ({tenant_budget.budget}) must equal per_tenant "
                f"({per_tenant})"
            )
        self._conversation = SlidingWindow(per_conversation)
        self._tenant = SlidingWindow(per_tenant) if per_tenant > 0 else None
        self._clock = clock
        self._sleep = sleep
        self._budget = tenant_budget
        self._paused_until: dict[str, float] = {}
        self._turns: dict[str, Turn | None] = {}  # each tenant's share, as last read
        self._lines = WaitingLines()
        self._acquisitions = 0

    def line(self, tenant_id: str) -> AbstractAsyncContextManager[None]:
        """Be first among the sends to this tenant that wait for their turn.

        Only the head of a tenant's line waits on its windows (and then for a request slot), so
        when room comes one send wakes instead of every send queued for the tenant, and at most
        one send per tenant waits for a slot: slots go round the tenants in turn, and a tenant at
        its limit keeps nobody else waiting.
        """
        return self._lines.head_of(tenant_id)

    async def wait_turn(self, conversation_key: Hashable, tenant_id: str) -> None:
        """Wait for a turn and count the send as made now (for sends not tracked to their
        answer)."""
        while True:
            await self.until_free(conversation_key, tenant_id)
            ticket = self.try_take(conversation_key, tenant_id)
            if ticket is not None:
                self.done(ticket)
                return

    async def until_free(self, conversation_key: Hashable, tenant_id: str) -> None:
        """Wait until a send would fit (without taking it): callers wait here holding nothing,
        so one tenant's full window never keeps other tenants' sends waiting."""
        while True:
            turn = None if self._budget is None else await self._budget.turn(tenant_id)
            self._turns[tenant_id] = turn
            delay = self._delay(conversation_key, tenant_id, turn, self._clock())
            if delay <= 0:
                return
            await self._sleep(delay)

    def try_take(self, conversation_key: Hashable, tenant_id: str) -> Ticket | None:
        """Take the turn if the send fits now, counting it in flight; None if another send took
        the room since `until_free` (wait again)."""
        if self._budget is not None and tenant_id not in self._turns:
            return None  # its share was forgotten by a sweep: read it again
        turn = self._turns.get(tenant_id)
        now = self._clock()
        # From the check to the count there is no await: no other send can slip in, so neither
        # window ever holds more than its limit (or this instance's share of it).
        if self._delay(conversation_key, tenant_id, turn, now) > 0:
            return None
        self._conversation.start(conversation_key)
        counted_tenant = tenant_id if self._tenant is not None and tenant_id else None
        if counted_tenant is not None:
            self._tenant.start(counted_tenant)
        if self._budget is not None:
            self._budget.sent(tenant_id)
        self._sweep_now_and_then(now)
        return Ticket(conversation_key, counted_tenant)

    def done(self, ticket: Ticket) -> None:
        """The send's answer came (or it failed): it counts for a window from now."""
        now = self._clock()
        self._conversation.finish(ticket.conversation_key, now)
        if ticket.tenant_id is not None and self._tenant is not None:
            self._tenant.finish(ticket.tenant_id, now)
            if self._budget is not None:
                # A slow answer keeps the instance a member until the send leaves the window.
                self._budget.sent(ticket.tenant_id)

    def _delay(
        self, conversation_key: Hashable, tenant_id: str, turn: Turn | None, now: float
    ) -> float:
        checks = [(self._conversation, conversation_key, self._conversation.limit)]
        if self._tenant is not None and tenant_id:
            checks.append((self._tenant, tenant_id, self._tenant.limit))
        if turn is not None:
            checks = [(window, key, turn.share(limit)) for window, key, limit in checks]
        return max(
            self._paused_until.get(tenant_id, now) - now,
            turn.wait_seconds if turn is not None else 0.0,
            *(window.wait_seconds(key, now, limit) for window, key, limit in checks),
        )

    async def pause_tenant(self, tenant_id: str, seconds: float) -> None:
        """Send nothing to the tenant for `seconds` (the channel answered 429 with Retry-After):
        on this instance at once, on the others through the tenant_budget. A longer pause
        already running stays as it is. Raises StorageUnavailableError when the shared pause
        cannot be written; the local one holds all the same."""
        if not tenant_id or seconds <= 0:
            return
        until = self._clock() + seconds
        self._paused_until[tenant_id] = max(until, self._paused_until.get(tenant_id, until))
        if self._budget is not None:
            await self._budget.pause(tenant_id, seconds)

    async def close(self) -> None:
        """Leave the shared budget (best effort; its rows expire anyway)."""
        if self._budget is not None:
            await self._budget.close()

    def _sweep_now_and_then(self, now: float) -> None:
        self._acquisitions += 1
        if self._acquisitions % SWEEP_EVERY == 0:
            for window in (self._conversation, self._tenant):
                if window is not None:
                    window.sweep(now)
            for tenant_id in [t for t, until in self._paused_until.items() if until <= now]:
                del self._paused_until[tenant_id]
            self._turns.clear()  # re-read at each tenant's next until_free
