"""A tenant's send budget shared by every instance of the app, through Table Storage.

With Functions scale-out several instances send to one tenant at once, and Teams' limit (50
sends per second per app per tenant) is for all of them together. Each instance therefore keeps
to a share of the budget: budget // members sends per window, members being the instances live
on that tenant, and the per-conversation limit is split the same way.

Rows, in the partition `budget-<encoded tenant id>` of the table handed in:

  member-<instance id>  Until: an instance sending to the tenant, until it stops renewing
  pause                 Until: the tenant answered 429; nobody sends to it before then

While sending to a tenant, an instance reads its partition (one query) whenever its view is
`refresh_seconds` old and renews its own row every `heartbeat_seconds`. Nothing runs in the
background (no task outlives a Functions invocation): once the instance has been idle on a tenant
for `leave_after_idle_seconds`, its next turn for another tenant, or leave_idle(), deletes the
row. The share is safe because every change to the member count takes effect in an order that
never lets two views add up to more than the budget:

- Joining: a newcomer writes its row, then reads. If nobody else is live it starts at once
  (of two that join together, at least one sees the other). Otherwise it sends nothing for
  refresh_seconds + WINDOW_SECONDS: by then every member has read the partition since the row
  was written, and the sends of their larger share have left the window.
- Leaving: a member deletes its row only after a window without sends or answers (a send
  counts until a window after its answer). One that stops renewing
  (it went quiet without leaving, or died) counts until its Until passes, at most
  member_ttl_seconds after its last renewal, and stops sending well before that.
- Pausing: the pause row's Until only ever moves later. The instance that saw the 429 stops at
  once; the others stop at their next read, at most refresh_seconds later.

This holds while there are no more members than the budget (or than 7, for one conversation:
each member keeps at least one send per window) and while the instances' wall clocks agree
within CLOCK_SKEW_SECONDS. Storage failures raise StorageUnavailableError: sends to a tenant
with a budget stop rather than go out uncounted.

Cost, per instance and tenant it is sending to: a query every refresh_seconds and a write every
heartbeat_seconds, about 1.3 operations per second with the defaults, plus a write to join, a
delete to leave, two operations per pause, and a delete for each row an instance left by going
quiet or dying. Until such a row expires (member_ttl_seconds at most) the others keep to the
smaller share; they get the whole budget back at their first read after it. Joining, or
rejoining after leaving, costs a wait of refresh_seconds + WINDOW_SECONDS when others are live
on the tenant. A budget of 0 means unlimited: nothing is coordinated and the table is never
touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from shared.delivery.clocks import CLOCK_SKEW_SECONDS, WINDOW_SECONDS
from shared.storage.keys import MAX_KEY_LENGTH, InvalidKeyError, encode_key
from shared.storage.tables import (
    RowExistsError,
    StorageRequestError,
    StorageUnavailableError,
    Table,
    etag_of,
)

logger = logging.getLogger(__name__)

PARTITION_PREFIX = "budget-"
MEMBER_PREFIX = "member-"
PAUSE_ROW = "pause"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def partition_key(tenant_id: str) -> str:
    """The tenant's partition. An id too long to encode gets its hash, marked by `=` (which
    encode_key never writes)."""
    with suppress(InvalidKeyError):
        key = PARTITION_PREFIX + encode_key(tenant_id)
        if len(key) <= MAX_KEY_LENGTH:
            return key
    digest = hashlib.sha256(tenant_id.encode("utf-8", "surrogatepass")).hexdigest()
    return PARTITION_PREFIX + "=" + digest


@dataclass(frozen=True)
class Turn:
    """What this instance may send to a tenant right now."""

    members: int  # instances live on the tenant, this one included
    wait_seconds: float  # joining or paused: nothing may be sent before this has passed

    def share(self, limit: int) -> int:
        return max(1, limit // self.members)


UNCOORDINATED = Turn(members=1, wait_seconds=0.0)


@dataclass(eq=False)
class _Tenant:
    """This instance's view of one tenant it is sending to; times on the monotonic clock."""

    partition: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    members: int = 1
    read_at: float = -math.inf  # when the last read of the partition started
    renewed_at: float = -math.inf  # when the last write of our row started
    member_until: float = -math.inf  # after this the others may have dropped our row
    sends_from: float = -math.inf  # a newcomer's first send
    paused_until: float = -math.inf
    last_send: float = -math.inf


class SharedTenantBudget:
    """Each instance's share of a per-tenant budget, kept in step through a Table."""

    def __init__(
        self,
        table: Table,
        budget: int,
        *,
        instance_id: str | None = None,
        refresh_seconds: float = 1.0,
        member_ttl_seconds: float = 10.0,
        heartbeat_seconds: float = 3.0,
        leave_after_idle_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if heartbeat_seconds + WINDOW_SECONDS + CLOCK_SKEW_SECONDS >= member_ttl_seconds:
            raise ValueError("member_ttl_seconds must outlast a heartbeat, a window and clock skew")
        if leave_after_idle_seconds < WINDOW_SECONDS:
            raise ValueError("leave_after_idle_seconds must be at least a window")
        self.budget = budget
        self.instance_id = instance_id or uuid.uuid4().hex
        self._table = table
        self._row_key = MEMBER_PREFIX + self.instance_id
        self._refresh = refresh_seconds
        self._ttl = member_ttl_seconds
        self._heartbeat = heartbeat_seconds
        self._leave_after = leave_after_idle_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._tenants: dict[str, _Tenant] = {}
        # No tenant can have been idle long enough to leave before this (monotonic): a turn
        # looks through the tenants only from then on, not at every send.
        self._leave_check_at = math.inf

    def _coordinated(self, tenant_id: str) -> bool:
        return self.budget > 0 and bool(tenant_id)

    async def turn(self, tenant_id: str) -> Turn:
        """This instance's share for the tenant, reading or renewing in the table when due.
        First it leaves the other tenants it has been idle on."""
        await self._leave_idle(keep=tenant_id)
        if not self._coordinated(tenant_id):
            return UNCOORDINATED
        while True:
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                tenant = self._tenants[tenant_id] = _Tenant(partition_key(tenant_id))
            now = self._clock()
            if not self._due(tenant, now):
                wait = max(0.0, tenant.sends_from - now, tenant.paused_until - now)
                return Turn(tenant.members, wait)
            async with tenant.lock:
                # Another send may have synced meanwhile, or the tenant was left and replaced.
                if self._tenants.get(tenant_id) is tenant and self._due(tenant, self._clock()):
                    await self._sync(tenant_id, tenant)

    def sent(self, tenant_id: str) -> None:
        """Note a send to the tenant, or its answer (either keeps this instance a member)."""
        tenant = self._tenants.get(tenant_id)
        if tenant is not None:
            tenant.last_send = self._clock()

    async def pause(self, tenant_id: str, seconds: float) -> None:
        """Send nothing to the tenant for `seconds`, here at once and everywhere within
        refresh_seconds; a pause already longer stays as it is."""
        if not self._coordinated(tenant_id) or seconds <= 0:
            return
        tenant = self._tenants.get(tenant_id)
        # An instance not sending to the tenant yet reads the pause row at its first turn.
        if tenant is not None:
            tenant.paused_until = max(tenant.paused_until, self._clock() + seconds)
        until = self._wall_clock() + timedelta(seconds=seconds)
        entity = {"PartitionKey": partition_key(tenant_id), "RowKey": PAUSE_ROW, "Until": until}
        while True:
            current = await self._table.get(entity["PartitionKey"], PAUSE_ROW)
            if current is None:
                with suppress(RowExistsError):
                    await self._table.insert(entity)
                    return
                continue
            if current["Until"] >= until or await self._table.update_if_unchanged(
                entity, etag_of(current)
            ):
                return

    async def leave_idle(self) -> None:
        """Leave every tenant this instance has been idle on for leave_after_idle_seconds (as
        each turn does for the other tenants); a fan-out may call it when it is done."""
        await self._leave_idle(keep=None)

    async def close(self) -> None:
        """Leave every tenant (best effort: rows expire anyway)."""
        tenants, self._tenants = self._tenants, {}
        for tenant in tenants.values():
            if tenant.member_until > -math.inf:
                with suppress(StorageUnavailableError):
                    await self._delete_own_row(tenant)

    def _due(self, tenant: _Tenant, now: float) -> bool:
        return (
            now - tenant.read_at >= self._refresh
            or now - tenant.renewed_at >= self._heartbeat
            or now >= tenant.member_until
        )

    async def _sync(self, tenant_id: str, tenant: _Tenant) -> None:
        joining = self._clock() >= tenant.member_until
        if joining or self._clock() - tenant.renewed_at >= self._heartbeat:
            started = self._clock()
            until = self._wall_clock() + timedelta(seconds=self._ttl)
            row = {"PartitionKey": tenant.partition, "RowKey": self._row_key, "Until": until}
            await self._table.upsert(row)
            tenant.renewed_at = started
            # Others drop the row at Until by their clocks; our sends must have left the window.
            tenant.member_until = started + self._ttl - WINDOW_SECONDS - CLOCK_SKEW_SECONDS
        written = self._clock()
        if joining:
            # A newcomer waits as if others were live, unless the read below finds none (read
            # after the write, so of two newcomers at least one sees the other).
            tenant.sends_from = written + self._refresh + WINDOW_SECONDS
            tenant.last_send = written
            # Not _leave_at(tenant): sends_from may move earlier, after the read below.
            self._leave_check_at = min(self._leave_check_at, written + self._leave_after)
        await self._read(tenant)
        if joining and tenant.members == 1:
            tenant.sends_from = written

    async def _read(self, tenant: _Tenant) -> None:
        started = self._clock()
        wall_now = self._wall_clock()
        rows = [
            row
            async for row in self._table.query(
                "PartitionKey eq @pk", parameters={"pk": tenant.partition}
            )
        ]
        tenant.read_at = started
        others = 0
        expired = []
        for row in rows:
            if row["RowKey"] == PAUSE_ROW and row["Until"] > wall_now:
                paused_until = started + (row["Until"] - wall_now).total_seconds()
                tenant.paused_until = max(tenant.paused_until, paused_until)
            elif row["RowKey"].startswith(MEMBER_PREFIX) and row["RowKey"] != self._row_key:
                if row["Until"] > wall_now:
                    others += 1
                else:
                    expired.append(row)
        tenant.members = others + 1
        for row in expired:
            # Left by an instance that died. The ETag keeps a renewal that lands first.
            await self._table.delete_if_unchanged(tenant.partition, row["RowKey"], etag_of(row))

    def _leave_at(self, tenant: _Tenant) -> float:
        # At least a window without sends (leave_after_idle_seconds >= WINDOW_SECONDS).
        return max(tenant.last_send, tenant.sends_from) + self._leave_after

    async def _leave_idle(self, keep: str | None) -> None:
        now = self._clock()
        if now < self._leave_check_at:
            return
        self._leave_check_at = math.inf
        check_at = math.inf
        done = False
        try:
            for tenant_id, tenant in list(self._tenants.items()):
                if self._tenants.get(tenant_id) is not tenant:
                    continue  # left meanwhile, by close() or another turn
                leave_at = self._leave_at(tenant)
                # A held lock is a sync under way, or another turn leaving the tenant.
                if tenant_id == keep or tenant.lock.locked() or leave_at > now:
                    check_at = min(check_at, leave_at)
                elif not await self._leave(tenant_id, tenant):
                    check_at = min(check_at, self._leave_at(tenant))
            done = True
        finally:
            # Joins meanwhile may have moved it earlier; a scan cut short is taken up again.
            self._leave_check_at = min(self._leave_check_at, check_at if done else now)

    async def _leave(self, tenant_id: str, tenant: _Tenant) -> bool:
        """Leave the tenant if still idle on it: whether it did."""
        async with tenant.lock:
            # A turn that was waiting for the lock may have got it first, and sent since.
            if self._tenants.get(tenant_id) is not tenant or self._leave_at(tenant) > self._clock():
                return False
            # From here every turn waits on the lock, then finds the tenant gone and rejoins.
            tenant.member_until = -math.inf
            try:
                await self._delete_own_row(tenant)
            except (StorageUnavailableError, StorageRequestError):
                logger.warning("Leaving tenant budget %s failed; it expires", tenant.partition)
            if self._tenants.get(tenant_id) is tenant:
                del self._tenants[tenant_id]
            return True

    async def _delete_own_row(self, tenant: _Tenant) -> None:
        await self._table.delete(tenant.partition, self._row_key)
